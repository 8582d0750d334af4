using AnycastDns.Protocol;

namespace AnycastDns.Server.Telemetry;

/// <summary>
/// The bounded label values of the query metrics: a fixed set of QTYPEs and RCODEs, each a slot in the per-thread
/// counters, so that no query can make a new time series (an attacker asking for TYPE65000 counts as <c>other</c>).
/// Values are the mnemonics of the IANA DNS parameter registries (RFC 6895 §2.3 for RCODEs).
/// </summary>
internal static class DnsLabels
{
    /// <summary>The QTYPEs that get their own label; the order is the slot order.</summary>
    private static readonly RecordType[] Types =
    [
        RecordType.A, RecordType.NS, RecordType.CNAME, RecordType.SOA, RecordType.PTR, RecordType.MX, RecordType.TXT,
        RecordType.AAAA, RecordType.SRV, RecordType.NAPTR, RecordType.DS, RecordType.RRSIG, RecordType.NSEC,
        RecordType.DNSKEY, RecordType.NSEC3, RecordType.NSEC3PARAM, RecordType.TLSA, RecordType.CDS, RecordType.CDNSKEY,
        RecordType.ZONEMD, RecordType.SVCB, RecordType.HTTPS, RecordType.CAA, RecordType.IXFR, RecordType.AXFR, RecordType.ANY,
    ];

    /// <summary>Slot of every QTYPE, <see cref="OtherType"/> for those without one of their own.</summary>
    private static readonly byte[] TypeSlots = BuildTypeSlots();

    private static readonly string[] TypeNames = [.. Types.Select(RecordTypeNames.ToText), "other"];

    /// <summary>RCODEs 0-15 (the header's 4 bits, RFC 1035 §4.1.1, RFC 6895 §2.3) and BADVERS (16, RFC 6891 §6.1.3).</summary>
    private static readonly string[] RcodeNames =
    [
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
        "NOTZONE", "DSOTYPENI", "RCODE12", "RCODE13", "RCODE14", "RCODE15", "BADVERS", "other",
    ];

    /// <summary>The slot of QTYPEs without their own label, and of responses without a question.</summary>
    public static int OtherType => Types.Length;

    /// <summary>How many QTYPE slots there are.</summary>
    public const int TypeCount = 27;

    /// <summary>How many RCODE slots there are.</summary>
    public const int RcodeCount = 18;

    public static int TypeSlot(ushort type) => TypeSlots[type];

    /// <summary>The slot of a full (extended, RFC 6891 §6.1.3) RCODE.</summary>
    public static int RcodeSlot(int rcode) => rcode < RcodeCount - 1 ? rcode : RcodeCount - 1;

    public static string TypeName(int slot) => TypeNames[slot];

    public static string RcodeName(int slot) => RcodeNames[slot];

    private static byte[] BuildTypeSlots()
    {
        var slots = new byte[ushort.MaxValue + 1];
        Array.Fill(slots, (byte)Types.Length);
        for (int i = 0; i < Types.Length; i++)
        {
            slots[(ushort)Types[i]] = (byte)i;
        }
        if (Types.Length + 1 != TypeCount)
        {
            throw new InvalidOperationException("DnsLabels.TypeCount does not match the list of types");
        }
        return slots;
    }
}
