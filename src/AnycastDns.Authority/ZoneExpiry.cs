using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Authority;

/// <summary>
/// The expiry timers of zones served as a secondary (RFC 1034 §4.3.5), which the responder consults: an expired zone
/// answers SERVFAIL with EDE 24 "zone expired", and EDNS EXPIRE carries the time left rather than the SOA field (RFC
/// 7314 §4). Implementations answer without allocating: the responder asks on the hot path when EXPIRE is requested.
/// </summary>
public interface IZoneExpiry
{
    /// <summary>True when <paramref name="origin"/> is a secondary zone whose EXPIRE has passed.</summary>
    bool IsExpired(DnsName origin);

    /// <summary>Seconds left before <paramref name="zone"/> expires, or -1 when it is not a secondary zone.</summary>
    long SecondsToExpiry(Zone zone);
}
