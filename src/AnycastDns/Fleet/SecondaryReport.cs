namespace AnycastDns.Fleet;

/// <summary>
/// One secondary zone as a PoP's <c>/zones</c> reports it: the serial it holds, how long since a primary last confirmed
/// that version (RFC 1034 §4.3.5: expiry counts from there), its status (ok; failing: the last refresh failed and the
/// previous version serves; expired: not served; none: never transferred) and whether it is a catalog or a catalog's member (RFC 9432).
/// </summary>
internal sealed record SecondaryReport(string Origin, string Status, uint? Serial, double? SecondsSinceRefresh, string? Role, string? Catalog)
{
    /// <summary>The status as the table shows it: with "a catalog" or "member of X" when it is one.</summary>
    public string Shown => Role == "catalog" ? $"{Status} (a catalog)" : Catalog is { } catalog ? $"{Status} (member of {catalog})" : Status;
}
