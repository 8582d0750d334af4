namespace AnycastDns.Server.Secondary;

/// <summary>A refresh that failed: the message is one log line naming the zone's primary and what was wrong.</summary>
internal sealed class TransferException : Exception
{
    public TransferException(string message) : base(message)
    {
    }

    public TransferException(string message, Exception inner) : base(message, inner)
    {
    }

    public TransferException()
    {
    }

    /// <summary>The primary answered with an RCODE other than NOERROR (IXFR refused or not implemented: try AXFR).</summary>
    public bool Refused { get; init; }
}
