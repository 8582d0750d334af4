namespace AnycastDns.Server.Transfers;

/// <summary>How a transfer request ended, for <c>anycastdns_transfers_total{type,outcome}</c>.</summary>
internal enum TransferOutcome
{
    /// <summary>Every message sent, the closing SOA included.</summary>
    Completed,
    /// <summary>The client is not in <c>Transfers:Allow</c> (REFUSED, EDE 18), or AXFR over UDP.</summary>
    Refused,
    /// <summary><c>Transfers:MaxConcurrent</c> transfers were running already (REFUSED).</summary>
    OverLimit,
    /// <summary>The name is not the apex of a zone served here (NOTAUTH), or the zone has not loaded (SERVFAIL).</summary>
    NotAuthoritative,
    /// <summary>The TSIG did not verify: BADKEY, BADSIG, BADTIME, BADTRUNC or a malformed TSIG record.</summary>
    TsigError,
    /// <summary>Started but not finished: the client went away or stopped reading, the server stopped, or a record did not fit.</summary>
    Aborted,
}

/// <summary>Counts of transfer requests by type and outcome, read by the metrics when scraped.</summary>
internal sealed class TransferCounters
{
    public static readonly string[] OutcomeLabels = ["completed", "refused", "over_limit", "not_authoritative", "tsig_error", "aborted"];

    /// <summary>The values of the <c>type</c> label, by <see cref="TransferCounters.Count"/>'s <c>ixfr</c> argument.</summary>
    public static readonly string[] TypeLabels = ["axfr", "ixfr"];

    private readonly long[] _counts = new long[TypeLabels.Length * OutcomeLabels.Length];
    private long _bytes;
    private long _ixfrInFull;

    public void Count(bool ixfr, TransferOutcome outcome) => Interlocked.Increment(ref _counts[Slot(ixfr, outcome)]);

    /// <summary>Counts an IXFR answered with the whole zone: the client's serial was not in the history (RFC 1995 §4).</summary>
    public void CountIxfrInFull() => Interlocked.Increment(ref _ixfrInFull);

    public void CountBytes(long octets) => Interlocked.Add(ref _bytes, octets);

    /// <summary>AXFR (or IXFR) requests that ended with <paramref name="outcome"/>.</summary>
    public long Of(bool ixfr, TransferOutcome outcome) => Interlocked.Read(ref _counts[Slot(ixfr, outcome)]);

    /// <summary>IXFR requests answered with the whole zone.</summary>
    public long IxfrInFull => Interlocked.Read(ref _ixfrInFull);

    /// <summary>Octets of transfer messages sent, length prefixes included.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    private static int Slot(bool ixfr, TransferOutcome outcome) => (ixfr ? OutcomeLabels.Length : 0) + (int)outcome;
}
