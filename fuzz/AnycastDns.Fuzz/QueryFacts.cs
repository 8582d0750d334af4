using System.Buffers.Binary;
using AnycastDns.Protocol;

namespace AnycastDns.Fuzz;

/// <summary>
/// What a received message asks, read apart from the responder's own query parser so that the rules of
/// <see cref="ResponseRules"/> compare two readings: is it a query at all, its ID, opcode and flags, its one question
/// (RFC 1035 §4.1.2) and the first OPT record's payload size and DO bit (RFC 6891 §6.1.1).
/// </summary>
internal sealed class QueryFacts
{
    private readonly byte[] _name = new byte[DnsName.MaxLength + 1];

    /// <summary>At least a header, and QR clear (RFC 1035 §4.1.1): a message that gets a response.</summary>
    public bool IsQuery { get; private set; }

    public ushort Id { get; private set; }

    public ushort Flags { get; private set; }

    public Opcode Opcode => (Opcode)((Flags >> 11) & 0xF);

    /// <summary>A standard query with QDCOUNT 1 whose question could be read: the response must echo it.</summary>
    public bool HasQuestion { get; private set; }

    /// <summary>The question's name, uncompressed, case as sent.</summary>
    public ReadOnlySpan<byte> Name => _name.AsSpan(0, NameLength);

    public int NameLength { get; private set; }

    public ushort Type { get; private set; }

    public ushort Class { get; private set; }

    /// <summary>The first OPT record, owned by the root and reached through well-formed records (RFC 6891 §6.1.1).</summary>
    public bool HasEdns { get; private set; }

    public ushort PayloadSize { get; private set; }

    public bool DnssecOk { get; private set; }

    public void Read(ReadOnlySpan<byte> message)
    {
        IsQuery = HasQuestion = HasEdns = DnssecOk = false;
        NameLength = 0;
        Id = Flags = Type = Class = PayloadSize = 0;
        if (message.Length < Header.Length)
        {
            return;
        }
        Id = BinaryPrimitives.ReadUInt16BigEndian(message);
        Flags = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        IsQuery = (Flags & Header.QrBit) == 0;
        if (!IsQuery || Opcode != Opcode.Query || BinaryPrimitives.ReadUInt16BigEndian(message[4..]) != 1)
        {
            return;
        }
        int offset = Header.Length;
        if (WireReader.ReadName(message, ref offset, _name, out int nameLength) != WireError.None || offset + 4 > message.Length)
        {
            return;
        }
        HasQuestion = true;
        NameLength = nameLength;
        Type = BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
        Class = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 2)..]);
        offset += 4;

        // RFC 6891 §6.1.1: OPT only in the additional section; a message with one elsewhere has no usable EDNS.
        int answerAndAuthority = BinaryPrimitives.ReadUInt16BigEndian(message[6..]) + BinaryPrimitives.ReadUInt16BigEndian(message[8..]);
        int additional = BinaryPrimitives.ReadUInt16BigEndian(message[10..]);
        for (int i = 0; i < answerAndAuthority + additional; i++)
        {
            int ownerAt = offset;
            if (WireReader.SkipName(message, ref offset) != WireError.None
                || WireReader.ReadRecordHeader(message, ref offset, out ushort type, out ushort cls, out uint ttl, out int rdlength) != WireError.None)
            {
                return;
            }
            offset += rdlength;
            if (type != (ushort)RecordType.OPT)
            {
                continue;
            }
            if (i >= answerAndAuthority && message[ownerAt] == 0)
            {
                HasEdns = true;
                PayloadSize = cls;
                DnssecOk = (ttl & EdnsRecord.DoBit) != 0;
            }
            return;
        }
    }
}
