using System.Buffers.Binary;
using System.Security.Cryptography;

namespace AnycastDns.Protocol.Tsig;

/// <summary>
/// The digest components a TSIG MAC covers (RFC 8945 §4.3), fed to an HMAC in order: the prior MAC (a request's, or
/// the previous message's), the DNS message as it was before the TSIG record was added, and then either all the TSIG
/// variables (§4.3.3) or, on the second and later messages of a TCP answer, the timers alone (§5.3.1).
/// </summary>
internal static class TsigDigest
{
    /// <summary>CLASS ANY and TTL 0, as the variables carry them (RFC 8945 §4.3.3).</summary>
    private const ushort ClassAny = (ushort)RecordClass.ANY;

    /// <summary>The MAC Size and MAC of the request or of the previous message (RFC 8945 §4.3.1).</summary>
    public static void AppendPriorMac(IncrementalHash hmac, ReadOnlySpan<byte> mac)
    {
        Span<byte> size = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(size, (ushort)mac.Length);
        hmac.AppendData(size);
        hmac.AppendData(mac);
    }

    /// <summary>
    /// The message without its TSIG record: the header with the Original ID in place of the ID (they differ when a
    /// forwarder changed it, RFC 8945 §4.3.2) and ARCOUNT not counting the TSIG, then everything after the header.
    /// </summary>
    public static void AppendMessage(IncrementalHash hmac, ReadOnlySpan<byte> messageWithoutTsig, ushort originalId, ushort additionalCount)
    {
        Span<byte> header = stackalloc byte[Header.Length];
        messageWithoutTsig[..Header.Length].CopyTo(header);
        BinaryPrimitives.WriteUInt16BigEndian(header, originalId);
        BinaryPrimitives.WriteUInt16BigEndian(header[10..], additionalCount);
        hmac.AppendData(header);
        hmac.AppendData(messageWithoutTsig[Header.Length..]);
    }

    /// <summary>
    /// The TSIG variables (RFC 8945 §4.3.3): key name and algorithm name in canonical form (lower case, uncompressed),
    /// CLASS ANY, TTL 0, Time Signed, Fudge, Error, Other Len and Other Data.
    /// </summary>
    public static void AppendVariables(IncrementalHash hmac, ReadOnlySpan<byte> keyName, ReadOnlySpan<byte> algorithmName, ulong timeSigned, ushort fudge, ushort error, ReadOnlySpan<byte> otherData)
    {
        Span<byte> name = stackalloc byte[DnsName.MaxLength];
        keyName.CopyTo(name);
        WireName.ToLowerInPlace(name[..keyName.Length]);
        hmac.AppendData(name[..keyName.Length]);
        Span<byte> fixedPart = stackalloc byte[6];
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart, ClassAny);
        BinaryPrimitives.WriteUInt32BigEndian(fixedPart[2..], 0);
        hmac.AppendData(fixedPart);
        algorithmName.CopyTo(name);
        WireName.ToLowerInPlace(name[..algorithmName.Length]);
        hmac.AppendData(name[..algorithmName.Length]);
        Span<byte> rest = stackalloc byte[12];
        WriteTimers(rest, timeSigned, fudge);
        BinaryPrimitives.WriteUInt16BigEndian(rest[8..], error);
        BinaryPrimitives.WriteUInt16BigEndian(rest[10..], (ushort)otherData.Length);
        hmac.AppendData(rest);
        hmac.AppendData(otherData);
    }

    /// <summary>Time Signed and Fudge alone (RFC 8945 §5.3.1: the digest of every message after the first of a TCP answer).</summary>
    public static void AppendTimers(IncrementalHash hmac, ulong timeSigned, ushort fudge)
    {
        Span<byte> timers = stackalloc byte[8];
        WriteTimers(timers, timeSigned, fudge);
        hmac.AppendData(timers);
    }

    /// <summary>Time Signed as 48 bits, then Fudge.</summary>
    public static void WriteTimers(Span<byte> destination, ulong timeSigned, ushort fudge)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(timeSigned >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], (uint)timeSigned);
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], fudge);
    }

    public static IncrementalHash CreateHmac(TsigKey key) => IncrementalHash.CreateHMAC(TsigAlgorithms.Hash(key.Algorithm), key.Secret);
}
