using System.Security.Cryptography;

namespace AnycastDns.Protocol.Tsig;

/// <summary>The TSIG MAC algorithms this server knows (RFC 8945 §6, the IANA "TSIG Algorithm Names" registry).</summary>
public enum TsigAlgorithm : byte
{
    /// <summary>HMAC-SHA1: verified, never used to sign (RFC 8945 §6 lists it as "MUST implement" for old peers, and weak).</summary>
    HmacSha1 = 1,
    /// <summary>HMAC-SHA256: the mandatory algorithm (RFC 8945 §6).</summary>
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

/// <summary>Names, wire names and MAC sizes of <see cref="TsigAlgorithm"/>.</summary>
public static class TsigAlgorithms
{
    // The algorithm names as TSIG carries them: domain names in wire form (RFC 8945 §6).
    private static readonly byte[] Sha1Wire = "\u0009hmac-sha1\0"u8.ToArray();
    private static readonly byte[] Sha256Wire = "\u000bhmac-sha256\0"u8.ToArray();
    private static readonly byte[] Sha384Wire = "\u000bhmac-sha384\0"u8.ToArray();
    private static readonly byte[] Sha512Wire = "\u000bhmac-sha512\0"u8.ToArray();

    /// <summary>The name in key files and configuration: <c>hmac-sha256</c>.</summary>
    public static string Name(TsigAlgorithm algorithm) => algorithm switch
    {
        TsigAlgorithm.HmacSha1 => "hmac-sha1",
        TsigAlgorithm.HmacSha256 => "hmac-sha256",
        TsigAlgorithm.HmacSha384 => "hmac-sha384",
        TsigAlgorithm.HmacSha512 => "hmac-sha512",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>The algorithm name in uncompressed wire form, lower case: as it goes into the RDATA and the MAC.</summary>
    public static ReadOnlySpan<byte> WireName(TsigAlgorithm algorithm) => algorithm switch
    {
        TsigAlgorithm.HmacSha1 => Sha1Wire,
        TsigAlgorithm.HmacSha256 => Sha256Wire,
        TsigAlgorithm.HmacSha384 => Sha384Wire,
        TsigAlgorithm.HmacSha512 => Sha512Wire,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>The length of an untruncated MAC: the hash's output size.</summary>
    public static int MacLength(TsigAlgorithm algorithm) => algorithm switch
    {
        TsigAlgorithm.HmacSha1 => 20,
        TsigAlgorithm.HmacSha256 => 32,
        TsigAlgorithm.HmacSha384 => 48,
        TsigAlgorithm.HmacSha512 => 64,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    internal static HashAlgorithmName Hash(TsigAlgorithm algorithm) => algorithm switch
    {
        TsigAlgorithm.HmacSha1 => HashAlgorithmName.SHA1,
        TsigAlgorithm.HmacSha256 => HashAlgorithmName.SHA256,
        TsigAlgorithm.HmacSha384 => HashAlgorithmName.SHA384,
        TsigAlgorithm.HmacSha512 => HashAlgorithmName.SHA512,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>Parses a configuration name (<c>hmac-sha256</c>, any case, an optional trailing dot).</summary>
    public static bool TryParse(string text, out TsigAlgorithm algorithm)
    {
        ArgumentNullException.ThrowIfNull(text);
        algorithm = text.TrimEnd('.').ToLowerInvariant() switch
        {
            "hmac-sha1" => TsigAlgorithm.HmacSha1,
            "hmac-sha256" => TsigAlgorithm.HmacSha256,
            "hmac-sha384" => TsigAlgorithm.HmacSha384,
            "hmac-sha512" => TsigAlgorithm.HmacSha512,
            _ => 0,
        };
        return algorithm != 0;
    }

    /// <summary>The algorithm an uncompressed wire name names (case-insensitive), false for any other.</summary>
    public static bool TryFromWire(ReadOnlySpan<byte> name, out TsigAlgorithm algorithm)
    {
        for (algorithm = TsigAlgorithm.HmacSha1; algorithm <= TsigAlgorithm.HmacSha512; algorithm++)
        {
            if (name.Length == WireName(algorithm).Length && WireName(algorithm).Length > 0 && global::AnycastDns.Protocol.WireName.EqualsIgnoreCase(name, WireName(algorithm)))
            {
                return true;
            }
        }
        algorithm = 0;
        return false;
    }
}
