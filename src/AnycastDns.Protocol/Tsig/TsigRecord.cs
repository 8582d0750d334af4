using System.Buffers.Binary;

namespace AnycastDns.Protocol.Tsig;

/// <summary>Whether a message carries a TSIG record, and whether it may.</summary>
public enum TsigPresence
{
    /// <summary>No TSIG record: an unsigned message.</summary>
    None,
    /// <summary>One TSIG record, the last of the additional section, well formed.</summary>
    Present,
    /// <summary>
    /// A TSIG record elsewhere than last, more than one, or one that cannot be read (RFC 8945 §5.1: FORMERR). A
    /// message whose records cannot be walked as far as a TSIG record is <see cref="None"/>: what is wrong with it is
    /// for the query's own checks to answer.
    /// </summary>
    Malformed,
}

/// <summary>TSIG error codes (RFC 8945 §3, the IANA "DNS RCODEs" registry), carried in the TSIG record's Error field.</summary>
public static class TsigError
{
    public const ushort NoError = 0;
    public const ushort BadSig = 16;
    public const ushort BadKey = 17;
    public const ushort BadTime = 18;
    public const ushort BadTrunc = 22;
}

/// <summary>
/// A received TSIG record (RFC 8945 §4.2), read in place: the owner is the key name; the RDATA holds the algorithm
/// name, Time Signed (48 bits, seconds since 1970), Fudge, the MAC, the Original ID, Error and Other Data.
/// </summary>
public ref struct TsigRecord
{
    /// <summary>TYPE, CLASS, TTL and RDLENGTH after the owner name.</summary>
    private const int RecordHeaderLength = 10;

    /// <summary>Where the record starts in the message: the signed part of the message ends here (RFC 8945 §4.3.3).</summary>
    public int Start;

    /// <summary>The key name, uncompressed (as sent; compare case-insensitively).</summary>
    public ReadOnlySpan<byte> KeyName;

    /// <summary>The algorithm name, uncompressed.</summary>
    public ReadOnlySpan<byte> AlgorithmName;

    public ulong TimeSigned;
    public ushort Fudge;
    public ReadOnlySpan<byte> Mac;
    public ushort OriginalId;
    public ushort Error;
    public ReadOnlySpan<byte> OtherData;

    /// <summary>
    /// Finds the TSIG record of <paramref name="message"/>: it must be the last record of the additional section
    /// (RFC 8945 §5.1). The key and algorithm names are decompressed into the two buffers (<see cref="DnsName.MaxLength"/>
    /// octets each). Allocation-free; nothing here throws on malformed input.
    /// </summary>
    public static TsigPresence Find(ReadOnlySpan<byte> message, Span<byte> keyNameBuffer, Span<byte> algorithmBuffer, out TsigRecord tsig)
    {
        tsig = default;
        if (!Header.TryRead(message, out var header))
        {
            return TsigPresence.None;
        }
        int offset = Header.Length;
        for (int i = 0; i < header.QuestionCount; i++)
        {
            if (WireReader.SkipName(message, ref offset) != WireError.None || offset + 4 > message.Length)
            {
                return TsigPresence.None;
            }
            offset += 4;
        }
        int records = header.AnswerCount + header.AuthorityCount + header.AdditionalCount;
        for (int i = 0; i < records; i++)
        {
            int start = offset;
            if (WireReader.SkipName(message, ref offset) != WireError.None)
            {
                return TsigPresence.None;
            }
            if (WireReader.ReadRecordHeader(message, ref offset, out ushort type, out ushort cls, out uint ttl, out int rdlength) != WireError.None)
            {
                return type == (ushort)RecordType.TSIG ? TsigPresence.Malformed : TsigPresence.None;
            }
            offset += rdlength;
            if (type != (ushort)RecordType.TSIG)
            {
                continue;
            }
            // RFC 8945 §5.1: the last record, in the additional section; §4.2: CLASS ANY, TTL 0.
            if (i != records - 1 || i < header.AnswerCount + header.AuthorityCount || cls != (ushort)RecordClass.ANY || ttl != 0)
            {
                return TsigPresence.Malformed;
            }
            tsig.Start = start;
            int nameAt = start;
            if (WireReader.ReadName(message, ref nameAt, keyNameBuffer, out int keyNameLength) != WireError.None)
            {
                return TsigPresence.Malformed;
            }
            tsig.KeyName = keyNameBuffer[..keyNameLength];
            return ReadRdata(message[..offset], offset - rdlength, algorithmBuffer, ref tsig) ? TsigPresence.Present : TsigPresence.Malformed;
        }
        return TsigPresence.None;
    }

    /// <summary>
    /// Whether <paramref name="message"/> has a record of type TSIG anywhere (well placed or not: what <see cref="Find"/>
    /// would not call <see cref="TsigPresence.None"/>). The cheap test a listener makes on every query before it takes
    /// the signing path: a message without records is answered at once; otherwise the names are skipped, not read, and
    /// nothing is allocated or copied.
    /// </summary>
    public static bool IsCarried(ReadOnlySpan<byte> message)
    {
        if (message.Length < Header.Length)
        {
            return false;
        }
        // ANCOUNT, NSCOUNT and ARCOUNT: most queries have one record (an OPT) or none.
        int records = BinaryPrimitives.ReadUInt16BigEndian(message[6..]) + BinaryPrimitives.ReadUInt16BigEndian(message[8..])
            + BinaryPrimitives.ReadUInt16BigEndian(message[10..]);
        if (records == 0)
        {
            return false;
        }
        int questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        int offset = Header.Length;
        for (int i = 0; i < questions; i++)
        {
            if (!SkipLabels(message, ref offset))
            {
                return false;
            }
            offset += 4;
        }
        for (int i = 0; i < records; i++)
        {
            if (!SkipLabels(message, ref offset) || offset + RecordHeaderLength > message.Length)
            {
                return false;
            }
            if (BinaryPrimitives.ReadUInt16BigEndian(message[offset..]) == (ushort)RecordType.TSIG)
            {
                return true;
            }
            offset += RecordHeaderLength + BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 8)..]);
        }
        return false;
    }

    /// <summary>
    /// Moves past a name in the message without reading it: its labels up to the root or a compression pointer (which
    /// ends a name, RFC 1035 §4.1.4). A label type other than these is not a name this server reads: false.
    /// </summary>
    private static bool SkipLabels(ReadOnlySpan<byte> message, ref int offset)
    {
        while (offset < message.Length)
        {
            int length = message[offset];
            if (length == 0)
            {
                offset++;
                return true;
            }
            if ((length & 0xC0) == 0xC0)
            {
                offset += 2;
                return offset <= message.Length;
            }
            if ((length & 0xC0) != 0)
            {
                return false;
            }
            offset += 1 + length;
        }
        return false;
    }

    private static bool ReadRdata(ReadOnlySpan<byte> message, int at, Span<byte> algorithmBuffer, ref TsigRecord tsig)
    {
        // The algorithm name is not compressed (RFC 8945 §4.2, RFC 3597 §4), but reading it as a name of the message
        // also accepts a sender that compressed it, as BIND and Knot do.
        if (WireReader.ReadName(message, ref at, algorithmBuffer, out int algorithmLength) != WireError.None)
        {
            return false;
        }
        tsig.AlgorithmName = algorithmBuffer[..algorithmLength];
        // Time Signed (6), Fudge (2), MAC Size (2).
        if (at + 10 > message.Length)
        {
            return false;
        }
        tsig.TimeSigned = ((ulong)BinaryPrimitives.ReadUInt16BigEndian(message[at..]) << 32) | BinaryPrimitives.ReadUInt32BigEndian(message[(at + 2)..]);
        tsig.Fudge = BinaryPrimitives.ReadUInt16BigEndian(message[(at + 6)..]);
        int macSize = BinaryPrimitives.ReadUInt16BigEndian(message[(at + 8)..]);
        at += 10;
        // The MAC, Original ID (2), Error (2), Other Len (2).
        if (at + macSize + 6 > message.Length)
        {
            return false;
        }
        tsig.Mac = message.Slice(at, macSize);
        at += macSize;
        tsig.OriginalId = BinaryPrimitives.ReadUInt16BigEndian(message[at..]);
        tsig.Error = BinaryPrimitives.ReadUInt16BigEndian(message[(at + 2)..]);
        int otherLength = BinaryPrimitives.ReadUInt16BigEndian(message[(at + 4)..]);
        at += 6;
        // The record must end exactly where its RDLENGTH said.
        if (at + otherLength != message.Length)
        {
            return false;
        }
        tsig.OtherData = message.Slice(at, otherLength);
        return true;
    }

    /// <summary>The octets of a TSIG record with these names, a MAC of <paramref name="macLength"/> and <paramref name="otherLength"/> octets of Other Data.</summary>
    public static int Length(int keyNameLength, int algorithmNameLength, int macLength, int otherLength) =>
        keyNameLength + RecordHeaderLength + algorithmNameLength + 10 + macLength + 6 + otherLength;
}
