using System.Buffers.Binary;
using AnycastDns.Zones;

namespace AnycastDns.Authority;

/// <summary>
/// The value of the EDNS EXPIRE option (RFC 7314) this server sends: every PoP loads the zone from its file as a
/// primary does, so the value is the SOA EXPIRE field itself, as RFC 7314 §3 has a primary send it, and not the time
/// left since a last refresh, which a secondary sends.
/// </summary>
public static class Expiry
{
    /// <summary>The SOA EXPIRE of <paramref name="zone"/>: the fourth of the five 32-bit fields that end the SOA RDATA (RFC 1035 §3.3.13).</summary>
    public static uint Of(Zone zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var soa = zone.Soa.Rdata(0);
        return BinaryPrimitives.ReadUInt32BigEndian(soa[(soa.Length - 8)..]);
    }
}
