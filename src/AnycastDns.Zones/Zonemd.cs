using System.Buffers.Binary;
using System.Globalization;

namespace AnycastDns.Zones;

/// <summary>How the zone's records are collated for hashing (RFC 8976 §2.2.2, IANA "ZONEMD Schemes").</summary>
#pragma warning disable CA1028 // The wire field is 8 bits.
#pragma warning disable CA1008 // 0 is reserved (RFC 8976 §5.2), not a default.
public enum ZonemdScheme : byte
{
    /// <summary>SIMPLE: every record of the zone, in canonical order and form, into one hash (RFC 8976 §3.3.1).</summary>
    Simple = 1,
}

/// <summary>The hash of a ZONEMD digest (RFC 8976 §2.2.3, IANA "ZONEMD Hash Algorithms").</summary>
public enum ZonemdHashAlgorithm : byte
{
    Sha384 = 1,
    Sha512 = 2,
}
#pragma warning restore CA1008
#pragma warning restore CA1028

/// <summary>
/// The RDATA of one ZONEMD record (RFC 8976 §2.2): SERIAL, SCHEME, HASH ALGORITHM and DIGEST. Scheme and algorithm
/// are kept as their octets, because a zone may carry values this server does not know (RFC 8976 §4).
/// </summary>
public sealed class Zonemd
{
    /// <summary>SERIAL, SCHEME and HASH ALGORITHM: the octets before the digest (RFC 8976 §2.2).</summary>
    public const int FixedLength = 6;

    /// <summary>RFC 8976 §2.2.4: a digest is never shorter than 12 octets.</summary>
    public const int MinimumDigestLength = 12;

    private readonly byte[] _digest;

    public Zonemd(uint serial, byte scheme, byte hashAlgorithm, ReadOnlySpan<byte> digest)
    {
        Serial = serial;
        Scheme = scheme;
        HashAlgorithm = hashAlgorithm;
        _digest = digest.ToArray();
    }

    public uint Serial { get; }

    public byte Scheme { get; }

    public byte HashAlgorithm { get; }

    public ReadOnlyMemory<byte> Digest => _digest;

    /// <summary>The digest in lower-case hexadecimal, as RFC 8976 §2.3 writes it (without the spaces).</summary>
    public string DigestHex => Convert.ToHexStringLower(_digest);

    /// <summary>True for the scheme and hash algorithms this server computes: SIMPLE with SHA-384 or SHA-512.</summary>
    public bool IsSupported => IsSupportedPair(Scheme, HashAlgorithm);

    /// <summary>True for the scheme and hash algorithms this server computes: SIMPLE with SHA-384 or SHA-512.</summary>
    public static bool IsSupportedPair(byte scheme, byte hashAlgorithm) =>
        scheme == (byte)ZonemdScheme.Simple && hashAlgorithm is (byte)ZonemdHashAlgorithm.Sha384 or (byte)ZonemdHashAlgorithm.Sha512;

    /// <summary>Octets of a digest of <paramref name="algorithm"/>.</summary>
    public static int DigestLength(ZonemdHashAlgorithm algorithm) => algorithm switch
    {
        ZonemdHashAlgorithm.Sha384 => 48,
        ZonemdHashAlgorithm.Sha512 => 64,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "not a supported ZONEMD hash algorithm"),
    };

    /// <summary>Reads wire RDATA; false when it is shorter than the fixed fields and the shortest digest.</summary>
    public static bool TryParse(ReadOnlySpan<byte> rdata, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Zonemd? zonemd)
    {
        if (rdata.Length < FixedLength + MinimumDigestLength)
        {
            zonemd = null;
            return false;
        }
        zonemd = new Zonemd(BinaryPrimitives.ReadUInt32BigEndian(rdata), rdata[4], rdata[5], rdata[FixedLength..]);
        return true;
    }

    /// <summary>The wire RDATA (RFC 8976 §2.2).</summary>
    public byte[] ToRdata()
    {
        var rdata = new byte[FixedLength + _digest.Length];
        BinaryPrimitives.WriteUInt32BigEndian(rdata, Serial);
        rdata[4] = Scheme;
        rdata[5] = HashAlgorithm;
        _digest.CopyTo(rdata, FixedLength);
        return rdata;
    }

    /// <summary>"serial scheme algorithm" and the digest: the presentation format of RFC 8976 §2.3.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Serial} {Scheme} {HashAlgorithm} {DigestHex}");

    /// <summary>How a scheme and hash algorithm read in messages, e.g. "scheme 1 (SIMPLE), hash algorithm 1 (SHA-384)".</summary>
    internal static string Describe(byte scheme, byte hashAlgorithm)
    {
        string s = scheme == (byte)ZonemdScheme.Simple ? " (SIMPLE)" : "";
        string h = hashAlgorithm switch
        {
            (byte)ZonemdHashAlgorithm.Sha384 => " (SHA-384)",
            (byte)ZonemdHashAlgorithm.Sha512 => " (SHA-512)",
            _ => "",
        };
        return string.Create(CultureInfo.InvariantCulture, $"scheme {scheme}{s}, hash algorithm {hashAlgorithm}{h}");
    }
}
