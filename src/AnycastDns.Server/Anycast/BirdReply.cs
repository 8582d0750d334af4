using AnycastDns.Server.Anycast.Internal;

namespace AnycastDns.Server.Anycast;

/// <summary>One line of a BIRD reply: its code (continuation lines carry the code they continue) and its text.</summary>
internal readonly record struct BirdReplyLine(int Code, string Text)
{
    /// <summary>8xxx or 9xxx.</summary>
    public bool IsError => BirdReplyCode.IsError(Code);

    public override string ToString() => $"{Code:D4} {Text}";
}

/// <summary>
/// BIRD's whole reply to one command: every line with its code, the last one being the line whose code is followed
/// by a space (BIRD's nest/cli.c).
/// </summary>
internal sealed class BirdReply
{
    internal BirdReply(IReadOnlyList<BirdReplyLine> lines)
    {
        Lines = lines;
        foreach (var line in lines)
        {
            if (line.IsError)
            {
                FirstError = line;
                break;
            }
        }
    }

    /// <summary>Every line, in order; never empty.</summary>
    public IReadOnlyList<BirdReplyLine> Lines { get; }

    /// <summary>The closing line (<c>0000</c> after a table, or the reply's only line).</summary>
    public BirdReplyLine Final => Lines[^1];

    /// <summary>The first 8xxx or 9xxx line, if any.</summary>
    public BirdReplyLine? FirstError { get; }

    /// <summary>No line is an error.</summary>
    public bool IsSuccess => FirstError is null;

    /// <summary>Whether some line has <paramref name="code"/>.</summary>
    public bool Contains(int code)
    {
        foreach (var line in Lines)
        {
            if (line.Code == code)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Reads a reply as it came from the socket: lines ended by <c>\n</c>, up to and including the closing line.
    /// Lines BIRD prints on its own (<c>+</c>, log echo) are left out.
    /// </summary>
    /// <exception cref="FormatException">A line is not of BIRD's reply form, the closing line is missing, or text follows it.</exception>
    public static BirdReply Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var reader = new BirdReplyReader();
        var rest = text.AsSpan();
        int lineNumber = 0;
        while (rest.Length > 0)
        {
            lineNumber++;
            int end = rest.IndexOf('\n');
            if (end < 0)
            {
                throw new FormatException($"line {lineNumber}: not ended by a newline");
            }
            bool complete = reader.Add(rest[..end], out var reply);
            rest = rest[(end + 1)..];
            if (complete)
            {
                // Only BIRD's own printouts may follow (with `echo` on they come after the reply they interleave with).
                foreach (var after in rest.EnumerateLines())
                {
                    lineNumber++;
                    if (after.Length > 0 && after[0] != '+')
                    {
                        throw new FormatException($"line {lineNumber}: text after the closing line of the reply");
                    }
                }
                return reply;
            }
        }
        throw new FormatException("the reply has no closing line (a code followed by a space)");
    }

    /// <summary>The reply on one line, lines separated by <c> | </c>, for messages.</summary>
    public override string ToString() => string.Join(" | ", Lines);
}
