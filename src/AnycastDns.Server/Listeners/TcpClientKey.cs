using System.Buffers.Binary;
using System.Net;

namespace AnycastDns.Server.Listeners;

/// <summary>
/// Whose connection this is, for <c>Tcp:MaxConnectionsPerClient</c>: an IPv4 address exactly, an IPv6 address by its
/// /64. An IPv6 host is handed a whole /64 (the interface identifier is 64 bits, RFC 4291 §2.5.1; SLAAC, RFC 4862;
/// temporary addresses rotate within it, RFC 8981) and so has 2^64 addresses to connect from: counted per address, one
/// IPv6 host could still take the whole table. A /64 is one link, so counting by it does not lump the hosts of
/// different links or customers together, as a /56 or /48 (whole end sites, RFC 6177) would. IPv4 is counted per
/// address: a /24 would put unrelated resolvers of one hosting network under one share, and clients behind one NAT
/// share an address whatever we do. Loopback is counted like anyone else.
/// </summary>
/// <remarks>IPv4 keys carry 0xFFFF in the low half, as IPv4-mapped addresses do; IPv6 keys have a zero low half, so the two never meet.</remarks>
internal readonly record struct TcpClientKey(ulong High, ulong Low)
{
    public static TcpClientKey Of(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        Span<byte> octets = stackalloc byte[16];
        address.TryWriteBytes(octets, out int length);
        return length == 4
            ? new TcpClientKey(0, 0xFFFF_0000_0000UL | BinaryPrimitives.ReadUInt32BigEndian(octets))
            : new TcpClientKey(BinaryPrimitives.ReadUInt64BigEndian(octets), 0);
    }
}
