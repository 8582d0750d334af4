using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Server.Secondary;

/// <summary>
/// One secondary zone's state: the version served, the timers of RFC 1034 §4.3.5 (refresh, retry, expire, counted
/// from the last successful refresh), and the latest problem. Written by the zone's refresh loop; read by the status
/// pages and the snapshot. A catalog zone (<see cref="CatalogOptions"/> set) is one too, and so is each of its members
/// (<see cref="Catalog"/> set).
/// </summary>
internal sealed class SecondaryZone(SecondaryZoneOptions options, CatalogOptions? catalogOptions = null, DnsName? catalog = null)
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    public SecondaryZoneOptions Options { get; } = options;

    /// <summary>Set when this zone is a catalog (<c>Secondary:Catalogs</c>): transferred and refreshed, never served (RFC 9432 §4.1).</summary>
    public CatalogOptions? CatalogOptions { get; } = catalogOptions;

    /// <summary>The catalog this zone is a member of, or null for a configured zone or a catalog.</summary>
    public DnsName? Catalog { get; } = catalog;

    /// <summary>As the catalog lists this member: unique id, group, coo (RFC 9432 §4.1, §4.4).</summary>
    public CatalogMember? Member { get; internal set; }

    /// <summary>For a catalog: how many members its last processed version gave.</summary>
    public int MemberCount { get; internal set; }

    /// <summary>For a catalog: why the latest version was not processed (RFC 9432 §5.1: broken), null when it was.</summary>
    public string? CatalogProblem { get; internal set; }

    /// <summary>Ends this zone's refresh loop alone (a member removed from its catalog).</summary>
    internal CancellationTokenSource Stop { get; } = new();

    /// <summary>The running refresh loop, null before <see cref="SecondaryZones.Start"/>.</summary>
    internal Task? Loop { get; set; }

    /// <summary>The last good version, whether or not it has expired; null before the first transfer.</summary>
    public Zone? Current { get; internal set; }

    /// <summary>The last time a primary confirmed or gave the current version (RFC 1034 §4.3.5: expiry counts from here).</summary>
    public DateTimeOffset? LastRefresh { get; internal set; }

    /// <summary>Where the current version came from ("AXFR from 192.0.2.1:53", "the state folder").</summary>
    public string? Source { get; internal set; }

    /// <summary>The latest failed refresh's reason, null after a success.</summary>
    public string? LastError { get; internal set; }

    /// <summary>Refreshes that failed since start.</summary>
    public long Failures { get; internal set; }

    /// <summary>True when not refreshed within its SOA EXPIRE: it is not served (SERVFAIL).</summary>
    public bool Expired { get; internal set; }

    /// <summary>The served zone, or null when there is none or it has expired.</summary>
    public Zone? Served => Expired ? null : Current;

    /// <summary>When the current version expires, or null without one.</summary>
    public DateTimeOffset? ExpiresAt => Current is null || LastRefresh is null ? null : LastRefresh.Value.AddSeconds(TransferClient.SoaTimers(Current.Soa.Rdata(0)).Expire);

    /// <summary>Seconds until expiry (RFC 7314 §4: what a secondary sends as EDNS EXPIRE), 0 once expired.</summary>
    public uint SecondsToExpiry(DateTimeOffset now) => ExpiresAt is { } at && at > now ? (uint)Math.Min(uint.MaxValue, (at - now).TotalSeconds) : 0;

    /// <summary>Asks the refresh loop to check the primaries now (a NOTIFY came, RFC 1996 §3.7).</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // A check is already pending: NOTIFYs before it are served by it.
        }
    }

    /// <summary>Waits until <paramref name="delay"/> passes or <see cref="Wake"/>; true when woken.</summary>
    internal Task<bool> WaitAsync(TimeSpan delay, CancellationToken cancellationToken) =>
        _wake.WaitAsync(delay < TimeSpan.Zero ? TimeSpan.Zero : delay > TimeSpan.FromDays(1) ? TimeSpan.FromDays(1) : delay, cancellationToken);
}
