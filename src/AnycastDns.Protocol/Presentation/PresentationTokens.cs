namespace AnycastDns.Protocol.Presentation;

/// <summary>
/// The tokens of one presentation-format entry (RFC 1035 §5.1), held as slices of one source string so that lexing
/// allocates nothing per token. Escapes are kept as written: each field reader decodes them, because what an escape
/// means depends on the field (in a name <c>\.</c> is a dot inside a label, in a character-string just a dot).
/// Reused from entry to entry by <see cref="PresentationLexer"/>.
/// </summary>
public sealed class PresentationTokens
{
    private const byte QuotedFlag = 1;
    private const byte AttachedFlag = 2;

    private ReadOnlyMemory<char> _source = ReadOnlyMemory<char>.Empty;
    private int[] _starts = new int[32];
    private int[] _lengths = new int[32];
    private int[] _lines = new int[32];
    private byte[] _flags = new byte[32];

    /// <summary>The text the tokens are slices of.</summary>
    public ReadOnlyMemory<char> Source => _source;

    public int Count { get; private set; }

    /// <summary>The token's text without its quotes, escapes still in place.</summary>
    public ReadOnlySpan<char> this[int index] => _source.Span.Slice(_starts[index], _lengths[index]);

    /// <summary>The token's text as a string (for messages).</summary>
    public string Text(int index) => new(this[index]);

    /// <summary>True when the token was written between double quotes.</summary>
    public bool IsQuoted(int index) => (_flags[index] & QuotedFlag) != 0;

    /// <summary>
    /// True when no white space separates the token from the one before it, as in <c>alpn="h2,h3"</c>, where the
    /// quoted value follows <c>alpn=</c> directly (RFC 9460 §2.1).
    /// </summary>
    public bool IsAttached(int index) => (_flags[index] & AttachedFlag) != 0;

    /// <summary>Offset in <see cref="Source"/> where the token begins as written (its opening quote if quoted).</summary>
    public int Offset(int index) => IsQuoted(index) ? _starts[index] - 1 : _starts[index];

    /// <summary>Offset just past the token as written (past its closing quote if quoted).</summary>
    public int EndOffset(int index) => _starts[index] + _lengths[index] + (IsQuoted(index) ? 1 : 0);

    /// <summary>1-based line of the token in <see cref="Source"/>, as counted by the lexer.</summary>
    public int Line(int index) => _lines[index];

    /// <summary>1-based column of <paramref name="offset"/> in <see cref="Source"/>: characters since the last line feed, plus one.</summary>
    public int ColumnOf(int offset)
    {
        int lineStart = offset > 0 ? _source.Span[..Math.Min(offset, _source.Length)].LastIndexOf('\n') + 1 : 0;
        return offset - lineStart + 1;
    }

    /// <summary>Forgets all tokens and makes <paramref name="source"/> the text of those to come.</summary>
    public void Reset(string source) => Reset(source.AsMemory());

    /// <summary>Forgets all tokens and makes <paramref name="source"/> the text of those to come.</summary>
    public void Reset(ReadOnlyMemory<char> source)
    {
        _source = source;
        Count = 0;
    }

    /// <summary>Appends a token: <paramref name="start"/> and <paramref name="length"/> exclude any quotes.</summary>
    public void Add(int start, int length, bool quoted, bool attached, int line)
    {
        if (Count == _starts.Length)
        {
            int size = Count * 2;
            Array.Resize(ref _starts, size);
            Array.Resize(ref _lengths, size);
            Array.Resize(ref _lines, size);
            Array.Resize(ref _flags, size);
        }
        _starts[Count] = start;
        _lengths[Count] = length;
        _lines[Count] = line;
        _flags[Count] = (byte)((quoted ? QuotedFlag : 0) | (attached ? AttachedFlag : 0));
        Count++;
    }

    /// <summary>
    /// Splits presentation text such as <c>10 mail.example.com.</c> or <c>"v=spf1" "-all"</c> into tokens, with the
    /// lexing rules of a master file (quotes, escapes, parentheses, comments).
    /// </summary>
    /// <exception cref="PresentationException">An unterminated quote or parenthesis, or more than one entry.</exception>
    public static PresentationTokens Split(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new PresentationTokens();
        var lexer = new PresentationLexer(text);
        if (!lexer.Next(tokens, out var entry))
        {
            tokens.Reset(text);
            return tokens;
        }
        if (entry.Error is not null)
        {
            throw new PresentationException(-1, entry.Error);
        }
        var rest = new PresentationTokens();
        if (lexer.Next(rest, out _))
        {
            throw new PresentationException(tokens.Count, "unexpected line break: the text holds more than one entry");
        }
        return tokens;
    }
}
