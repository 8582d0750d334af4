namespace AnycastDns.Protocol.Presentation;

/// <summary>DNSSEC algorithm mnemonics accepted in DNSKEY, RRSIG and DS text (RFC 4034 §A.1, IANA registry, RFC 8624).</summary>
internal static class DnssecAlgorithms
{
    private static readonly Dictionary<string, int> ByMnemonic = new(StringComparer.OrdinalIgnoreCase)
    {
        ["RSAMD5"] = 1,
        ["DH"] = 2,
        ["DSA"] = 3,
        ["RSASHA1"] = 5,
        ["DSA-NSEC3-SHA1"] = 6,
        ["RSASHA1-NSEC3-SHA1"] = 7,
        ["RSASHA256"] = 8,
        ["RSASHA512"] = 10,
        ["ECC-GOST"] = 12,
        ["ECDSAP256SHA256"] = 13,
        ["ECDSAP384SHA384"] = 14,
        ["ED25519"] = 15,
        ["ED448"] = 16,
        ["INDIRECT"] = 252,
        ["PRIVATEDNS"] = 253,
        ["PRIVATEOID"] = 254,
    };

    /// <summary>The algorithm number, or -1 when <paramref name="mnemonic"/> is not one.</summary>
    public static int FromMnemonic(ReadOnlySpan<char> mnemonic) =>
        ByMnemonic.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(mnemonic, out int value) ? value : -1;
}
