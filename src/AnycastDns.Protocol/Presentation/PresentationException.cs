namespace AnycastDns.Protocol.Presentation;

/// <summary>
/// Presentation text that does not spell what its place requires. <see cref="TokenIndex"/> names the offending token
/// of the <see cref="PresentationTokens"/> that was being read (equal to their count when the text ended too soon), so
/// a zone-file reader can turn it into file:line:column.
/// </summary>
public sealed class PresentationException : FormatException
{
    public PresentationException(int tokenIndex, string message)
        : base(message)
    {
        TokenIndex = tokenIndex;
    }

    public PresentationException()
        : this(-1, "malformed presentation text")
    {
    }

    public PresentationException(string message)
        : this(-1, message)
    {
    }

    public PresentationException(string message, Exception innerException)
        : base(message, innerException)
    {
        TokenIndex = -1;
    }

    /// <summary>The token at fault; the token count when more tokens were expected; -1 when not tied to a token.</summary>
    public int TokenIndex { get; }
}
