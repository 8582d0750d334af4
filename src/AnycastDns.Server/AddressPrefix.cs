using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace AnycastDns.Server;

/// <summary>An IPv4 or IPv6 address prefix (<c>192.0.2.0/24</c>, <c>2001:db8::/48</c>), matched against raw address octets without allocating.</summary>
public sealed class AddressPrefix
{
    private readonly ulong _high;
    private readonly ulong _low;
    private readonly ulong _highMask;
    private readonly ulong _lowMask;

    private AddressPrefix(IPAddress network, int length)
    {
        Network = network;
        Length = length;
        Span<byte> octets = stackalloc byte[16];
        network.TryWriteBytes(octets, out int written);
        IsIPv6 = written == 16;
        (_highMask, _lowMask) = Masks(length, IsIPv6);
        (_high, _low) = Split(octets[..written]);
        _high &= _highMask;
        _low &= _lowMask;
    }

    public IPAddress Network { get; }

    public int Length { get; }

    public bool IsIPv6 { get; }

    /// <summary>
    /// Parses <c>address/length</c> (or a bare address, a prefix of one host); throws <see cref="FormatException"/> with one
    /// line saying what is wrong.
    /// </summary>
    public static AddressPrefix Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        string addressText = slash < 0 ? text : text[..slash];
        if (!IPAddress.TryParse(addressText, out var address) || addressText.Contains('%', StringComparison.Ordinal))
        {
            throw new FormatException($"'{text}' is not an address prefix (expected e.g. 192.0.2.0/24 or 2001:db8::/48)");
        }
        int max = address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        int length = max;
        if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out length) || length > max))
        {
            throw new FormatException($"'{text}': the prefix length must be 0-{max}");
        }
        return new AddressPrefix(address, length);
    }

    /// <summary>Whether <paramref name="address"/> (4 or 16 octets) lies in this prefix.</summary>
    public bool Contains(ReadOnlySpan<byte> address)
    {
        if ((address.Length == 16) != IsIPv6 || address.Length is not (4 or 16))
        {
            return false;
        }
        var (high, low) = Split(address);
        return (high & _highMask) == _high && (low & _lowMask) == _low;
    }

    public override string ToString() => $"{Network}/{Length}";

    /// <summary>The masks of a prefix of <paramref name="length"/> bits over the 32 or 128 bits of <see cref="Split"/>.</summary>
    internal static (ulong High, ulong Low) Masks(int length, bool ipv6)
    {
        if (!ipv6)
        {
            return (length == 0 ? 0 : ~0UL << (64 - length), 0);
        }
        ulong high = length >= 64 ? ~0UL : length == 0 ? 0 : ~0UL << (64 - length);
        ulong low = length <= 64 ? 0 : length == 128 ? ~0UL : ~0UL << (128 - length);
        return (high, low);
    }

    /// <summary>An address as two big-endian halves; an IPv4 address fills the top 32 bits of the first.</summary>
    internal static (ulong High, ulong Low) Split(ReadOnlySpan<byte> address) => address.Length == 4
        ? ((ulong)BinaryPrimitives.ReadUInt32BigEndian(address) << 32, 0)
        : (BinaryPrimitives.ReadUInt64BigEndian(address), BinaryPrimitives.ReadUInt64BigEndian(address[8..]));
}
