using System.Globalization;
using System.Text;
using AnycastDns.Protocol;
using AnycastDns.Protocol.Tsig;

namespace AnycastDns.Server.Transfers;

/// <summary>
/// The TSIG keys file (<c>Transfers:KeysFile</c>), in the syntax BIND's <c>tsig-keygen</c> writes and BIND, Knot and
/// NSD users know, so that one file can serve the primary and its secondaries' configuration:
/// <code>
/// key "transfer-key" {
///     algorithm hmac-sha256;
///     secret "base64 of the shared secret";
/// };
/// </code>
/// Comments run from <c>#</c> or <c>//</c> to the end of the line, or between <c>/*</c> and <c>*/</c>. Algorithms:
/// hmac-sha256, hmac-sha384, hmac-sha512, and hmac-sha1 (verify only). A problem is one line naming the file and the
/// line, and never shows a secret.
/// </summary>
internal static class TsigKeyFile
{
    /// <summary>A file of a hundred keys is a few KiB: anything larger is the wrong file.</summary>
    private const int MaxOctets = 1024 * 1024;

    private const string Algorithms = "hmac-sha256, hmac-sha384, hmac-sha512 or hmac-sha1";

    /// <summary>Reads the keys; throws <see cref="ConfigurationException"/> with one line <c>path:line: problem</c>.</summary>
    public static TsigKeyring Read(string path) => Parse(ReadText(path), path);

    /// <summary>The file's text; throws <see cref="ConfigurationException"/> with one line when it cannot be read or is too large.</summary>
    public static string ReadText(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new ConfigurationException($"{path}: no such TSIG keys file");
            }
            if (info.Length > MaxOctets)
            {
                throw new ConfigurationException($"{path}: {info.Length} octets is too large for a TSIG keys file");
            }
            return File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"{path}: cannot read the TSIG keys file: {e.Message}", e);
        }
    }

    /// <summary>Parses <paramref name="text"/>; <paramref name="path"/> names it in errors.</summary>
    public static TsigKeyring Parse(string text, string path)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new Tokens(text, path);
        var keys = new List<TsigKey>();
        var lines = new Dictionary<DnsName, int>(DnsNameComparer.Instance);
        while (tokens.Next() is { } token)
        {
            if (token.Text != "key" || token.Quoted)
            {
                throw tokens.Error(token.Line, $"expected 'key', found '{token.Text}'");
            }
            var nameToken = tokens.Expect("a key name");
            if (!DnsName.TryParse(nameToken.Text.EndsWith('.') ? nameToken.Text : nameToken.Text + ".", null, out var name, out string? nameError))
            {
                throw tokens.Error(nameToken.Line, $"'{nameToken.Text}' is not a key name: {nameError}");
            }
            if (lines.TryGetValue(name, out int earlier))
            {
                throw tokens.Error(nameToken.Line, $"key '{nameToken.Text}' is defined twice (first on line {earlier.ToString(CultureInfo.InvariantCulture)})");
            }
            lines[name] = nameToken.Line;
            tokens.ExpectSymbol("{");
            TsigAlgorithm? algorithm = null;
            byte[]? secret = null;
            while (true)
            {
                var statement = tokens.Expect("'algorithm', 'secret' or '}'");
                if (statement.Text == "}" && !statement.Quoted)
                {
                    break;
                }
                switch (statement.Text)
                {
                    case "algorithm":
                        var value = tokens.Expect("an algorithm");
                        if (!TsigAlgorithms.TryParse(value.Text, out var parsed))
                        {
                            throw tokens.Error(value.Line, $"key '{nameToken.Text}': unknown algorithm '{value.Text}' (expected {Algorithms})");
                        }
                        algorithm = parsed;
                        break;
                    case "secret":
                        var secretToken = tokens.Expect("a secret");
                        // The secret itself is never repeated in a message: it may be almost right.
                        try
                        {
                            secret = Convert.FromBase64String(secretToken.Text);
                        }
                        catch (FormatException)
                        {
                            throw tokens.Error(secretToken.Line, $"key '{nameToken.Text}': the secret is not base64");
                        }
                        if (secret.Length == 0)
                        {
                            throw tokens.Error(secretToken.Line, $"key '{nameToken.Text}': the secret is empty");
                        }
                        break;
                    default:
                        throw tokens.Error(statement.Line, $"key '{nameToken.Text}': unknown statement '{statement.Text}' (expected algorithm or secret)");
                }
                tokens.ExpectSymbol(";");
            }
            tokens.ExpectSymbol(";");
            if (algorithm is null)
            {
                throw tokens.Error(nameToken.Line, $"key '{nameToken.Text}' has no algorithm");
            }
            if (secret is null)
            {
                throw tokens.Error(nameToken.Line, $"key '{nameToken.Text}' has no secret");
            }
            keys.Add(new TsigKey(name, algorithm.Value, secret));
            Array.Clear(secret);
        }
        if (keys.Count == 0)
        {
            throw new ConfigurationException($"{path}: no key in the file (expected key \"name\" {{ algorithm hmac-sha256; secret \"...\"; }};)");
        }
        return new TsigKeyring(keys);
    }

    private readonly record struct Token(string Text, int Line, bool Quoted);

    /// <summary>Words, quoted strings and the symbols <c>{ } ;</c>, with the line each starts on.</summary>
    private sealed class Tokens(string text, string path)
    {
        private int _at;
        private int _line = 1;

        public ConfigurationException Error(int line, string problem) =>
            new($"{path}:{line.ToString(CultureInfo.InvariantCulture)}: {problem}");

        public Token Expect(string what) => Next() ?? throw Error(_line, $"the file ends where {what} was expected");

        public void ExpectSymbol(string symbol)
        {
            var token = Expect($"'{symbol}'");
            if (token.Text != symbol || token.Quoted)
            {
                throw Error(token.Line, $"expected '{symbol}', found '{(token.Quoted ? "\"...\"" : token.Text)}'");
            }
        }

        public Token? Next()
        {
            SkipSpaceAndComments();
            if (_at >= text.Length)
            {
                return null;
            }
            char c = text[_at];
            if (c is '{' or '}' or ';')
            {
                _at++;
                return new Token(c.ToString(), _line, false);
            }
            if (c == '"')
            {
                int start = ++_at;
                int line = _line;
                while (_at < text.Length && text[_at] != '"')
                {
                    if (text[_at] == '\n')
                    {
                        throw Error(line, "a quoted string does not end on its line");
                    }
                    _at++;
                }
                if (_at >= text.Length)
                {
                    throw Error(line, "a quoted string does not end");
                }
                return new Token(text[start.._at++], line, true);
            }
            int wordStart = _at;
            while (_at < text.Length && !char.IsWhiteSpace(text[_at]) && text[_at] is not ('{' or '}' or ';' or '"' or '#'))
            {
                _at++;
            }
            return new Token(text[wordStart.._at], _line, false);
        }

        private void SkipSpaceAndComments()
        {
            while (_at < text.Length)
            {
                char c = text[_at];
                if (c == '\n')
                {
                    _line++;
                    _at++;
                }
                else if (char.IsWhiteSpace(c))
                {
                    _at++;
                }
                else if (c == '#' || (c == '/' && _at + 1 < text.Length && text[_at + 1] == '/'))
                {
                    while (_at < text.Length && text[_at] != '\n')
                    {
                        _at++;
                    }
                }
                else if (c == '/' && _at + 1 < text.Length && text[_at + 1] == '*')
                {
                    int line = _line;
                    int end = text.IndexOf("*/", _at + 2, StringComparison.Ordinal);
                    if (end < 0)
                    {
                        throw Error(line, "a /* comment does not end");
                    }
                    for (int i = _at; i < end; i++)
                    {
                        _line += text[i] == '\n' ? 1 : 0;
                    }
                    _at = end + 2;
                }
                else
                {
                    return;
                }
            }
        }
    }
}
