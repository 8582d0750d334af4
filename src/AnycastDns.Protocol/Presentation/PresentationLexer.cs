using System.Buffers;

namespace AnycastDns.Protocol.Presentation;

/// <summary>What <see cref="PresentationLexer.Next"/> found besides the tokens.</summary>
/// <param name="Line">1-based line where the entry begins.</param>
/// <param name="StartsWithBlank">The entry's first line begins with a space or tab: its owner is the previous one (RFC 1035 §5.1).</param>
/// <param name="Error">The first lexical error in the entry, or null; the tokens may then be incomplete.</param>
/// <param name="ErrorOffset">Offset in the source the error points at.</param>
/// <param name="ErrorLine">1-based line of <paramref name="ErrorOffset"/>.</param>
public readonly record struct LexedEntry(int Line, bool StartsWithBlank, string? Error, int ErrorOffset, int ErrorLine);

/// <summary>
/// Cuts master-file text into entries and tokens (RFC 1035 §5.1): an entry is one line, or several joined by
/// parentheses; <c>;</c> starts a comment; double quotes make a token of text with blanks; a backslash takes the
/// next character literally. Works on the source string in place: no allocation per token.
/// </summary>
public sealed class PresentationLexer
{
    // Characters that end an unquoted token, plus the backslash that needs a look at what follows.
    private static readonly SearchValues<char> TokenBreaks = SearchValues.Create(" \t\r\n;()\"\\");

    private readonly ReadOnlyMemory<char> _source;
    private int _pos;
    private int _line = 1;
    private int _lineStart;

    public PresentationLexer(string source)
        : this(source, firstLine: 1)
    {
    }

    /// <summary>A lexer over a window of whole lines of a longer text, the first of them line <paramref name="firstLine"/>.</summary>
    public PresentationLexer(string source, int firstLine)
        : this(source.AsMemory(), firstLine)
    {
        ArgumentNullException.ThrowIfNull(source);
    }

    /// <summary>
    /// A lexer over a window of whole lines held anywhere (a zone file's reader decodes each window into one buffer it
    /// reuses, rather than a string per window), the first of them line <paramref name="firstLine"/>. The tokens are
    /// slices of it: they are good until the buffer is written again.
    /// </summary>
    public PresentationLexer(ReadOnlyMemory<char> source, int firstLine)
    {
        _source = source;
        _line = firstLine;
        // A byte-order mark is not part of the text.
        if (source.Length > 0 && source.Span[0] == '\uFEFF')
        {
            _pos = 1;
            _lineStart = 1;
        }
    }

    /// <summary>Line the lexer is on (1-based).</summary>
    public int Line => _line;

    /// <summary>Where in the source the next entry is looked for.</summary>
    public int Position => _pos;

    /// <summary>
    /// True when the last entry ran into the end of the source before it ended (an open parenthesis): in a window of a
    /// longer text, the entry goes on in the text after it.
    /// </summary>
    public bool EntryReachedEnd { get; private set; }

    /// <summary>
    /// Reads the next entry that has tokens into <paramref name="tokens"/>, skipping blank and comment-only lines.
    /// Returns false at the end of the text. After a lexical error the entry still ends where it would have, so the
    /// next call resumes at the following entry.
    /// </summary>
    public bool Next(PresentationTokens tokens, out LexedEntry entry)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        tokens.Reset(_source);
        ReadOnlySpan<char> s = _source.Span;
        int n = s.Length;
        int depth = 0;
        int openOffset = 0, openLine = 0;
        int entryLine = 0;
        bool started = false, startsWithBlank = false;
        int prevEnd = -1;
        string? error = null;
        int errorOffset = 0, errorLine = 0;
        EntryReachedEnd = false;

        while (true)
        {
            if (_pos >= n)
            {
                EntryReachedEnd = started;
                if (depth > 0 && error is null)
                {
                    error = "missing ')': the parenthesis opened here is never closed";
                    errorOffset = openOffset;
                    errorLine = openLine;
                }
                break;
            }
            char c = s[_pos];
            if (c == '\n')
            {
                _pos++;
                _line++;
                _lineStart = _pos;
                if (depth == 0 && started)
                {
                    break;
                }
                continue;
            }
            if (c is ' ' or '\t' or '\r')
            {
                _pos++;
                continue;
            }
            if (c == ';')
            {
                int nl = s[_pos..].IndexOf('\n');
                _pos = nl < 0 ? n : _pos + nl;
                continue;
            }
            if (!started)
            {
                started = true;
                entryLine = _line;
                startsWithBlank = _lineStart < n && s[_lineStart] is ' ' or '\t';
            }
            if (c == '(')
            {
                if (depth == 0)
                {
                    openOffset = _pos;
                    openLine = _line;
                }
                depth++;
                _pos++;
                continue;
            }
            if (c == ')')
            {
                if (depth == 0)
                {
                    if (error is null)
                    {
                        error = "unexpected ')' without a matching '('";
                        errorOffset = _pos;
                        errorLine = _line;
                    }
                }
                else
                {
                    depth--;
                }
                _pos++;
                continue;
            }
            if (c == '"')
            {
                int open = _pos;
                int i = _pos + 1;
                while (i < n)
                {
                    char q = s[i];
                    if (q == '"' || q == '\n')
                    {
                        break;
                    }
                    i += q == '\\' && i + 1 < n && s[i + 1] != '\n' ? 2 : 1;
                }
                if (i >= n || s[i] != '"')
                {
                    // RFC 1035 §5.1 quoted strings do not span lines; resume at the line feed.
                    if (error is null)
                    {
                        error = "missing closing '\"': the quoted string opened here runs to the end of the line";
                        errorOffset = open;
                        errorLine = _line;
                    }
                    _pos = i;
                    continue;
                }
                tokens.Add(open + 1, i - open - 1, quoted: true, attached: prevEnd == open, _line);
                _pos = i + 1;
                prevEnd = _pos;
                continue;
            }
            int start = _pos;
            int p = _pos;
            while (true)
            {
                int k = s[p..].IndexOfAny(TokenBreaks);
                if (k < 0)
                {
                    p = n;
                    break;
                }
                p += k;
                if (s[p] != '\\')
                {
                    break;
                }
                // The escaped character belongs to the token, whatever it is, except a line feed (left for the field reader to reject).
                p += p + 1 < n && s[p + 1] != '\n' ? 2 : 1;
            }
            tokens.Add(start, p - start, quoted: false, attached: prevEnd == start, _line);
            _pos = p;
            prevEnd = p;
        }
        entry = new LexedEntry(entryLine, startsWithBlank, error, errorOffset, errorLine);
        return started;
    }
}
