namespace AnycastDns.Server.Listeners;

/// <summary>The client's IP address octets inside a native sockaddr, as recvmmsg and SocketAddress hold it.</summary>
internal static class ClientAddress
{
    private const int SockaddrIn = 16;
    private const int SockaddrIn6 = 28;

    /// <summary>
    /// The 4 octets of an IPv4 client (an IPv4-mapped IPv6 address included, so one host is one client on either
    /// socket) or the 16 of an IPv6 one; empty for anything else.
    /// </summary>
    public static ReadOnlySpan<byte> Of(ReadOnlySpan<byte> sockaddr)
    {
        // struct sockaddr_in: family, port, then the address; sockaddr_in6: family, port, flow info, then the address.
        if (sockaddr.Length == SockaddrIn)
        {
            return sockaddr.Slice(4, 4);
        }
        if (sockaddr.Length >= SockaddrIn6)
        {
            var address = sockaddr.Slice(8, 16);
            return IsV4Mapped(address) ? address[12..] : address;
        }
        return [];
    }

    /// <summary>RFC 4291 §2.5.5.2: ::ffff:a.b.c.d.</summary>
    private static bool IsV4Mapped(ReadOnlySpan<byte> address) =>
        System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(address) == 0
        && System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(address[8..]) == 0x0000FFFF;
}
