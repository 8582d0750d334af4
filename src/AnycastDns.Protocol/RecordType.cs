namespace AnycastDns.Protocol;

/// <summary>Resource record TYPE values (IANA "Resource Record (RR) TYPEs"). Unknown values are legal (RFC 3597).</summary>
#pragma warning disable CA1028 // The wire field is 16 bits.
#pragma warning disable CA1008 // 0 is a reserved TYPE, not a default.
public enum RecordType : ushort
{
    A = 1, NS = 2, MD = 3, MF = 4, CNAME = 5, SOA = 6, MB = 7, MG = 8, MR = 9, NULL = 10, WKS = 11,
    PTR = 12, HINFO = 13, MINFO = 14, MX = 15, TXT = 16, RP = 17, AFSDB = 18, X25 = 19, ISDN = 20,
    RT = 21, NSAP = 22, SIG = 24, KEY = 25, PX = 26, GPOS = 27, AAAA = 28, LOC = 29, NXT = 30,
    SRV = 33, NAPTR = 35, KX = 36, CERT = 37, A6 = 38, DNAME = 39, OPT = 41, APL = 42, DS = 43,
    SSHFP = 44, IPSECKEY = 45, RRSIG = 46, NSEC = 47, DNSKEY = 48, DHCID = 49, NSEC3 = 50,
    NSEC3PARAM = 51, TLSA = 52, SMIMEA = 53, HIP = 55, CDS = 59, CDNSKEY = 60, OPENPGPKEY = 61,
    CSYNC = 62, ZONEMD = 63, SVCB = 64, HTTPS = 65, SPF = 99, NID = 104, L32 = 105, L64 = 106,
    LP = 107, EUI48 = 108, EUI64 = 109, TKEY = 249, TSIG = 250, IXFR = 251, AXFR = 252,
    MAILB = 253, MAILA = 254, ANY = 255, URI = 256, CAA = 257, AVC = 258, DOA = 259, AMTRELAY = 260,
    TA = 32768, DLV = 32769,
}

/// <summary>CLASS values (RFC 1035 §3.2.4, RFC 2136, RFC 6895).</summary>
public enum RecordClass : ushort
{
    IN = 1, CH = 3, HS = 4, NONE = 254, ANY = 255,
}
#pragma warning restore CA1008
#pragma warning restore CA1028

/// <summary>OPCODE values (RFC 1035 §4.1.1, RFC 6895).</summary>
public enum Opcode
{
    Query = 0, IQuery = 1, Status = 2, Notify = 4, Update = 5, Dso = 6,
}

/// <summary>RCODE values; values above 15 need the EDNS extended-RCODE bits (RFC 6891 §6.1.3).</summary>
public enum ResponseCode
{
    NoError = 0, FormErr = 1, ServFail = 2, NXDomain = 3, NotImp = 4, Refused = 5,
    YXDomain = 6, YXRRSet = 7, NXRRSet = 8, NotAuth = 9, NotZone = 10, BadVers = 16, BadCookie = 23,
}

/// <summary>Names and numbers of types and classes as the presentation format spells them (RFC 3597 §5).</summary>
public static class RecordTypeNames
{
    private static readonly Dictionary<string, RecordType> ByName = BuildByName();

    public static string ToText(RecordType type) =>
        Enum.IsDefined(type) ? type.ToString() : "TYPE" + ((ushort)type).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string ToText(RecordClass cls) =>
        Enum.IsDefined(cls) ? cls.ToString() : "CLASS" + ((ushort)cls).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Parses a mnemonic or the generic TYPEnnn form.</summary>
    public static bool TryParseType(ReadOnlySpan<char> text, out RecordType type)
    {
        if (ByName.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(text, out type))
        {
            return true;
        }
        if (text.Length > 4 && text[..4].Equals("TYPE", StringComparison.OrdinalIgnoreCase)
            && IsDigits(text[4..]) && ushort.TryParse(text[4..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value))
        {
            type = (RecordType)value;
            return true;
        }
        type = default;
        return false;
    }

    /// <summary>Parses IN/CH/HS/NONE/ANY or the generic CLASSnnn form.</summary>
    public static bool TryParseClass(ReadOnlySpan<char> text, out RecordClass cls)
    {
        cls = default;
        if (text.Equals("IN", StringComparison.OrdinalIgnoreCase)) { cls = RecordClass.IN; return true; }
        if (text.Equals("CH", StringComparison.OrdinalIgnoreCase) || text.Equals("CHAOS", StringComparison.OrdinalIgnoreCase)) { cls = RecordClass.CH; return true; }
        if (text.Equals("HS", StringComparison.OrdinalIgnoreCase)) { cls = RecordClass.HS; return true; }
        if (text.Equals("NONE", StringComparison.OrdinalIgnoreCase)) { cls = RecordClass.NONE; return true; }
        if (text.Equals("ANY", StringComparison.OrdinalIgnoreCase)) { cls = RecordClass.ANY; return true; }
        if (text.Length > 5 && text[..5].Equals("CLASS", StringComparison.OrdinalIgnoreCase)
            && IsDigits(text[5..]) && ushort.TryParse(text[5..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value))
        {
            cls = (RecordClass)value;
            return true;
        }
        return false;
    }

    private static bool IsDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (c is < '0' or > '9') return false;
        }
        return s.Length > 0;
    }

    private static Dictionary<string, RecordType> BuildByName()
    {
        var d = new Dictionary<string, RecordType>(StringComparer.OrdinalIgnoreCase);
        foreach (var t in Enum.GetValues<RecordType>())
        {
            d[t.ToString()] = t;
        }
        return d;
    }
}
