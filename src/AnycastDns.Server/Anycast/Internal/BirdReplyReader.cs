namespace AnycastDns.Server.Anycast.Internal;

/// <summary>
/// Puts a BIRD reply together line by line, by the rules of BIRD's nest/cli.c (cli_printf):
/// <list type="bullet">
/// <item><c>DDDD-text</c>: a line of code DDDD, more lines follow;</item>
/// <item><c> text</c> (a leading space): more of the code of the line before, more lines follow;</item>
/// <item><c>DDDD text</c>: the closing line of the reply;</item>
/// <item><c>+text</c>: something BIRD prints on its own (log echo), not part of any reply.</item>
/// </list>
/// </summary>
internal sealed class BirdReplyReader
{
    private const int NoCode = -1;

    private List<BirdReplyLine> _lines = [];
    private int _continuedCode = NoCode;

    /// <summary>Takes the next line (without its <c>\n</c>); true with the reply once it was the closing line.</summary>
    /// <exception cref="FormatException">The line is not of BIRD's reply form.</exception>
    public bool Add(ReadOnlySpan<char> line, out BirdReply reply)
    {
        reply = null!;
        if (line.Length > 0 && line[^1] == '\r')
        {
            line = line[..^1];
        }
        if (line.Length > 0 && line[0] == '+')
        {
            return false;
        }
        if (line.Length > 0 && line[0] == ' ')
        {
            if (_continuedCode == NoCode)
            {
                throw new FormatException($"a continuation line with no line before it to continue: '{Shown(line)}'");
            }
            _lines.Add(new BirdReplyLine(_continuedCode, line[1..].ToString()));
            return false;
        }
        if (line.Length < 5 || !TryReadCode(line[..4], out int code) || (line[4] != ' ' && line[4] != '-'))
        {
            throw new FormatException($"not a BIRD reply line (four digits, then '-' or ' '): '{Shown(line)}'");
        }
        _lines.Add(new BirdReplyLine(code, line[5..].ToString()));
        if (line[4] == '-')
        {
            _continuedCode = code;
            return false;
        }
        reply = new BirdReply(_lines);
        _lines = [];
        _continuedCode = NoCode;
        return true;
    }

    private static bool TryReadCode(ReadOnlySpan<char> digits, out int code)
    {
        code = 0;
        foreach (char c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
            code = (code * 10) + (c - '0');
        }
        return true;
    }

    /// <summary>The start of a bad line, for a one-line message.</summary>
    private static string Shown(ReadOnlySpan<char> line)
    {
        const int Limit = 80;
        var shown = line.Length > Limit ? string.Concat(line[..Limit], "...") : line.ToString();
        return shown.Replace('\t', ' ');
    }
}
