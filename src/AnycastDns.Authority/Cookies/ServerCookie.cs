using System.Buffers.Binary;

namespace AnycastDns.Authority.Cookies;

/// <summary>What a received server cookie is worth (RFC 9018 §4.3).</summary>
internal enum ServerCookieStatus
{
    /// <summary>Made by us (any of the secrets), for this client cookie and address, within the last 30 minutes.</summary>
    Valid,

    /// <summary>Valid, but made more than 30 minutes ago: answer with a fresh one (RFC 9018 §4.3).</summary>
    ValidButStale,

    /// <summary>Not ours: another version or length, outside 1 hour past to 5 minutes future, or the hash differs.
    /// RFC 7873 §5.2.4 answers it as if only the client cookie had come.</summary>
    Invalid,
}

/// <summary>
/// The interoperable server cookie of RFC 9018 §4, which any implementation holding the secret makes and checks alike,
/// so every PoP of an anycast set shares it:
/// <code>
/// Version (1, = 1) | Reserved (3, = 0) | Timestamp (4, seconds since 1970, RFC 1982 arithmetic) | Hash (8)
/// Hash = SipHash-2-4(secret, Client Cookie | Version | Reserved | Timestamp | Client-IP)
/// </code>
/// The client address is its 4 octets for IPv4 and 16 for IPv6 (§4.4). Allocation-free, no exceptions.
/// </summary>
internal static class ServerCookie
{
    /// <summary>The length of a version 1 server cookie. RFC 7873 §4 allows 8 to 32; only 16 can be ours.</summary>
    public const int Length = 16;

    /// <summary>RFC 7873 §4: the client cookie is exactly 8 octets.</summary>
    public const int ClientCookieLength = 8;

    /// <summary>RFC 9018 §4.1, the version this format is.</summary>
    public const byte Version = 1;

    /// <summary>RFC 9018 §4.3: a cookie older than this is invalid.</summary>
    public const int MaxAgeSeconds = 60 * 60;

    /// <summary>RFC 9018 §4.3: a cookie from further in the future than this (clocks differ between servers) is invalid.</summary>
    public const int MaxFutureSeconds = 5 * 60;

    /// <summary>RFC 9018 §4.3: a valid cookie older than this is answered with a fresh one.</summary>
    public const int RefreshAgeSeconds = 30 * 60;

    /// <summary>The longest hash input: client cookie, version, reserved, timestamp and an IPv6 address.</summary>
    private const int MaxHashInput = ClientCookieLength + 8 + 16;

    /// <summary>
    /// Writes a fresh server cookie for <paramref name="clientCookie"/> from <paramref name="clientAddress"/> (4 or 16
    /// octets) into the first <see cref="Length"/> octets of <paramref name="destination"/>, made with the first of
    /// <paramref name="secrets"/> at <paramref name="now"/> (seconds since 1970). False, writing nothing, when the
    /// destination is short, the client cookie is not 8 octets or the address is neither 4 nor 16.
    /// </summary>
    public static bool TryCreate(Span<byte> destination, ReadOnlySpan<byte> clientCookie, ReadOnlySpan<byte> clientAddress, CookieSecrets secrets, uint now)
    {
        var address = ClientAddress(clientAddress);
        if (destination.Length < Length || clientCookie.Length != ClientCookieLength || address.IsEmpty)
        {
            return false;
        }
        // RFC 9018 §4.2: Reserved is zero in the cookies we make.
        Span<byte> head = stackalloc byte[8];
        head[0] = Version;
        head[1] = head[2] = head[3] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(head[4..], now);
        var (k0, k1) = secrets.Key(0);
        ulong hash = Hash(k0, k1, clientCookie, head, address);
        head.CopyTo(destination);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], hash);
        return true;
    }

    /// <summary>
    /// Checks a received <paramref name="serverCookie"/> against <paramref name="clientCookie"/>, the address it came
    /// from and every one of <paramref name="secrets"/>, at <paramref name="now"/> (seconds since 1970).
    /// </summary>
    public static ServerCookieStatus Verify(ReadOnlySpan<byte> serverCookie, ReadOnlySpan<byte> clientCookie, ReadOnlySpan<byte> clientAddress, CookieSecrets secrets, uint now)
    {
        var address = ClientAddress(clientAddress);
        if (serverCookie.Length != Length || serverCookie[0] != Version || clientCookie.Length != ClientCookieLength || address.IsEmpty)
        {
            return ServerCookieStatus.Invalid;
        }
        // RFC 1982 serial arithmetic on 32 bits: the difference as a signed number is right across the 2106 wrap.
        int age = (int)(now - BinaryPrimitives.ReadUInt32BigEndian(serverCookie[4..]));
        if (age > MaxAgeSeconds || age < -MaxFutureSeconds)
        {
            return ServerCookieStatus.Invalid;
        }
        // The hash covers the Reserved octets as received (RFC 9018 Appendix A.3: non-zero ones still verify).
        var head = serverCookie[..8];
        ulong received = BinaryPrimitives.ReadUInt64LittleEndian(serverCookie[8..]);
        for (int i = 0; i < secrets.Count; i++)
        {
            var (k0, k1) = secrets.Key(i);
            if (Hash(k0, k1, clientCookie, head, address) == received)
            {
                return age > RefreshAgeSeconds ? ServerCookieStatus.ValidButStale : ServerCookieStatus.Valid;
            }
        }
        return ServerCookieStatus.Invalid;
    }

    /// <summary>
    /// The address octets the hash takes: 4 for IPv4, 16 for IPv6, empty for anything else. An IPv4-mapped IPv6 address
    /// (::ffff:a.b.c.d, RFC 4291 §2.5.5.2, how a dual-stack socket shows an IPv4 client) is the IPv4 client it stands
    /// for, so that the cookie is the same whichever kind of socket a PoP received the query on.
    /// </summary>
    private static ReadOnlySpan<byte> ClientAddress(ReadOnlySpan<byte> address)
    {
        if (address.Length == 4)
        {
            return address;
        }
        if (address.Length != 16)
        {
            return [];
        }
        bool mapped = BinaryPrimitives.ReadUInt64BigEndian(address) == 0 && BinaryPrimitives.ReadUInt32BigEndian(address[8..]) == 0xffff;
        return mapped ? address[12..] : address;
    }

    private static ulong Hash(ulong k0, ulong k1, ReadOnlySpan<byte> clientCookie, ReadOnlySpan<byte> head, ReadOnlySpan<byte> address)
    {
        Span<byte> input = stackalloc byte[MaxHashInput];
        clientCookie.CopyTo(input);
        head.CopyTo(input[ClientCookieLength..]);
        address.CopyTo(input[(ClientCookieLength + 8)..]);
        return SipHash24.Hash(k0, k1, input[..(ClientCookieLength + 8 + address.Length)]);
    }
}
