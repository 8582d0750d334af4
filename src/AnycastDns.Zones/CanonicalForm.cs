using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// The canonical RDATA of RFC 4034 §6.2 item 3: the domain names embedded in the RDATA of the types listed there
/// are lower-cased, as amended by RFC 6840 §5.1 (NSEC's next name keeps its case; RRSIG's signer name does not).
/// The list is NS, MD, MF, CNAME, SOA, MB, MG, MR, PTR, HINFO, MINFO, MX, RP, AFSDB, RT, SIG, PX, NXT, NAPTR, KX,
/// SRV, DNAME, A6 and RRSIG (HINFO holds no name). Every other type, SVCB's target included, keeps its octets.
/// </summary>
internal static class CanonicalForm
{
    /// <summary>True when <paramref name="type"/>'s canonical RDATA may differ from the RDATA as written.</summary>
    public static bool HasNames(RecordType type) =>
        !RdataLayout.Of(type).IsEmpty || type is RecordType.RRSIG or RecordType.SIG or RecordType.NXT or RecordType.A6;

    /// <summary>Lower-cases, in place, the names that <paramref name="type"/>'s canonical form lower-cases.</summary>
    public static void LowerCaseNames(RecordType type, Span<byte> rdata)
    {
        switch (type)
        {
            case RecordType.RRSIG or RecordType.SIG:
                // RFC 4034 §3.1 (RFC 2535 §4.1 for SIG): type covered, algorithm, labels, original TTL, expiration,
                // inception and key tag take 18 octets; the signer's name follows.
                LowerCaseName(rdata, 18);
                return;
            case RecordType.NXT:
                // RFC 2535 §5.2: the next domain name, then the type bitmap.
                LowerCaseName(rdata, 0);
                return;
            case RecordType.A6:
                // RFC 2874 §3.1.1: prefix length (0..128), the (128 - prefix length) bits of address suffix padded
                // to whole octets, then the prefix name, present only when the prefix length is not 0.
                if (rdata.Length > 0 && rdata[0] is > 0 and <= 128)
                {
                    LowerCaseName(rdata, 1 + (128 - rdata[0] + 7) / 8);
                }
                return;
        }
        var layout = RdataLayout.Of(type);
        int pos = 0;
        foreach (byte code in layout)
        {
            int next = RdataLayout.SkipField(code, rdata, pos);
            if (next < 0)
            {
                return;
            }
            if (code == (byte)'N')
            {
                WireName.ToLowerInPlace(rdata[pos..next]);
            }
            pos = next;
        }
    }

    private static void LowerCaseName(Span<byte> rdata, int at)
    {
        if (at < rdata.Length && WireName.Validate(rdata[at..], out int length) == WireError.None)
        {
            WireName.ToLowerInPlace(rdata.Slice(at, length));
        }
    }
}
