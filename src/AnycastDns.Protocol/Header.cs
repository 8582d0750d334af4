using System.Buffers.Binary;

namespace AnycastDns.Protocol;

/// <summary>The 12-octet message header (RFC 1035 §4.1.1). Flag bits are kept as the raw 16-bit word.</summary>
public struct Header
{
    public const int Length = 12;

    public const ushort QrBit = 0x8000;
    public const ushort AaBit = 0x0400;
    public const ushort TcBit = 0x0200;
    public const ushort RdBit = 0x0100;
    public const ushort RaBit = 0x0080;
    public const ushort AdBit = 0x0020;
    public const ushort CdBit = 0x0010;

    public ushort Id;
    public ushort Flags;
    public ushort QuestionCount;
    public ushort AnswerCount;
    public ushort AuthorityCount;
    public ushort AdditionalCount;

    public readonly bool IsResponse => (Flags & QrBit) != 0;

    public readonly Opcode Opcode => (Opcode)((Flags >> 11) & 0xF);

    /// <summary>The low 4 bits of the RCODE; EDNS carries the upper 8 (RFC 6891 §6.1.3).</summary>
    public readonly int Rcode => Flags & 0xF;

    public readonly bool Has(ushort bit) => (Flags & bit) != 0;

    public void Set(ushort bit, bool on) => Flags = on ? (ushort)(Flags | bit) : (ushort)(Flags & ~bit);

    public void SetOpcode(Opcode opcode) => Flags = (ushort)((Flags & ~0x7800) | (((int)opcode & 0xF) << 11));

    public void SetRcode(int rcode) => Flags = (ushort)((Flags & ~0xF) | (rcode & 0xF));

    public static bool TryRead(ReadOnlySpan<byte> message, out Header header)
    {
        if (message.Length < Length)
        {
            header = default;
            return false;
        }
        header = new Header
        {
            Id = BinaryPrimitives.ReadUInt16BigEndian(message),
            Flags = BinaryPrimitives.ReadUInt16BigEndian(message[2..]),
            QuestionCount = BinaryPrimitives.ReadUInt16BigEndian(message[4..]),
            AnswerCount = BinaryPrimitives.ReadUInt16BigEndian(message[6..]),
            AuthorityCount = BinaryPrimitives.ReadUInt16BigEndian(message[8..]),
            AdditionalCount = BinaryPrimitives.ReadUInt16BigEndian(message[10..]),
        };
        return true;
    }

    public readonly void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, Id);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], Flags);
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], QuestionCount);
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], AnswerCount);
        BinaryPrimitives.WriteUInt16BigEndian(destination[8..], AuthorityCount);
        BinaryPrimitives.WriteUInt16BigEndian(destination[10..], AdditionalCount);
    }
}
