namespace AnycastDns.Protocol;

/// <summary>
/// Where domain names sit inside the RDATA of the types that embed them, so that names can be
/// compressed on write, decompressed on read and lower-cased for canonical form.
/// Layout codes: 'N' a domain name, '2'/'4' fixed octets, 'S' a character-string, '*' the rest.
/// </summary>
public static class RdataLayout
{
    /// <summary>The layout of <paramref name="type"/>'s RDATA, or empty when it embeds no domain name.</summary>
    public static ReadOnlySpan<byte> Of(RecordType type) => type switch
    {
        RecordType.NS or RecordType.MD or RecordType.MF or RecordType.CNAME or RecordType.MB or RecordType.MG
            or RecordType.MR or RecordType.PTR or RecordType.DNAME => "N"u8,
        RecordType.SOA => "NN*"u8,
        RecordType.MINFO or RecordType.RP => "NN"u8,
        RecordType.MX or RecordType.AFSDB or RecordType.RT or RecordType.KX => "2N"u8,
        RecordType.PX => "2NN"u8,
        RecordType.SRV => "222N"u8,
        RecordType.NAPTR => "22SSSN"u8,
        _ => default,
    };

    /// <summary>
    /// RFC 3597 §4: only the RFC 1035 types may carry compressed names on the wire; DNAME's target
    /// must not be compressed (RFC 6672 §2.5) and SRV's neither (RFC 2782).
    /// </summary>
    public static bool IsCompressible(RecordType type) => type is RecordType.NS or RecordType.MD or RecordType.MF
        or RecordType.CNAME or RecordType.SOA or RecordType.MB or RecordType.MG or RecordType.MR or RecordType.PTR
        or RecordType.MINFO or RecordType.MX;

    /// <summary>
    /// Receivers decompress the names of the types that some implementations have been seen to compress
    /// (RFC 3597 §4 lists the RFC 1035 types; RP, AFSDB, RT, PX, SRV, NAPTR, KX are tolerated as well).
    /// </summary>
    public static bool MayArriveCompressed(RecordType type) => type != RecordType.DNAME && !Of(type).IsEmpty;

    /// <summary>
    /// Walks RDATA in uncompressed form by <see cref="Of"/>; returns the offset just past field <paramref name="fieldIndex"/>'s start,
    /// or -1 if the RDATA is malformed. Used to find e.g. the exchange of an MX.
    /// </summary>
    public static int FieldOffset(RecordType type, ReadOnlySpan<byte> rdata, int fieldIndex)
    {
        var layout = Of(type);
        int pos = 0;
        for (int i = 0; i < layout.Length && i < fieldIndex; i++)
        {
            int next = SkipField(layout[i], rdata, pos);
            if (next < 0)
            {
                return -1;
            }
            pos = next;
        }
        return pos;
    }

    /// <summary>Offset just past one field starting at <paramref name="pos"/> in uncompressed RDATA, or -1.</summary>
    public static int SkipField(byte code, ReadOnlySpan<byte> rdata, int pos)
    {
        switch (code)
        {
            case (byte)'N':
                if (pos > rdata.Length || WireName.Validate(rdata[pos..], out int len) != WireError.None)
                {
                    return -1;
                }
                return pos + len;
            case (byte)'2':
                return pos + 2 <= rdata.Length ? pos + 2 : -1;
            case (byte)'4':
                return pos + 4 <= rdata.Length ? pos + 4 : -1;
            case (byte)'S':
                return pos < rdata.Length && pos + 1 + rdata[pos] <= rdata.Length ? pos + 1 + rdata[pos] : -1;
            default:
                return rdata.Length;
        }
    }

    /// <summary>The first domain name embedded in the RDATA (the target of NS/CNAME/MX/SRV/...), or empty.</summary>
    public static ReadOnlySpan<byte> TargetName(RecordType type, ReadOnlySpan<byte> rdata)
    {
        if (type is RecordType.SVCB or RecordType.HTTPS)
        {
            // RFC 9460 §2.2: SvcPriority, then TargetName, never compressed; it is not in Of() because canonical
            // form and decompression leave it alone.
            return rdata.Length > 2 && WireName.Validate(rdata[2..], out int svcLength) == WireError.None ? rdata.Slice(2, svcLength) : default;
        }
        var layout = Of(type);
        int pos = 0;
        foreach (byte code in layout)
        {
            if (code == (byte)'N')
            {
                return WireName.Validate(rdata[pos..], out int len) == WireError.None ? rdata.Slice(pos, len) : default;
            }
            pos = SkipField(code, rdata, pos);
            if (pos < 0)
            {
                return default;
            }
        }
        return default;
    }
}
