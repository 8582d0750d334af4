namespace AnycastDns.Protocol;

/// <summary>A question entry (RFC 1035 §4.1.2).</summary>
public sealed record Question(DnsName Name, RecordType Type, RecordClass Class = RecordClass.IN);

/// <summary>A resource record with uncompressed RDATA (RFC 1035 §4.1.3).</summary>
public sealed record ResourceRecord(DnsName Name, RecordType Type, RecordClass Class, uint Ttl, byte[] Data)
{
    public override string ToString() => $"{Name} {Ttl} {RecordTypeNames.ToText(Class)} {RecordTypeNames.ToText(Type)} \\# {Data.Length} {Convert.ToHexString(Data)}";
}

/// <summary>
/// A whole message as objects: for clients, tests and tools. The server's hot path does not use this type;
/// it reads queries with <see cref="WireReader"/> and writes answers with <see cref="MessageWriter"/>.
/// </summary>
public sealed class DnsMessage
{
    public ushort Id { get; set; }

    public ushort Flags { get; set; }

    public bool IsResponse { get => Has(Header.QrBit); set => Set(Header.QrBit, value); }

    public bool AuthoritativeAnswer { get => Has(Header.AaBit); set => Set(Header.AaBit, value); }

    public bool Truncated { get => Has(Header.TcBit); set => Set(Header.TcBit, value); }

    public bool RecursionDesired { get => Has(Header.RdBit); set => Set(Header.RdBit, value); }

    public bool RecursionAvailable { get => Has(Header.RaBit); set => Set(Header.RaBit, value); }

    public bool AuthenticData { get => Has(Header.AdBit); set => Set(Header.AdBit, value); }

    public bool CheckingDisabled { get => Has(Header.CdBit); set => Set(Header.CdBit, value); }

    public Opcode Opcode
    {
        get => (Opcode)((Flags >> 11) & 0xF);
        set => Flags = (ushort)((Flags & ~0x7800) | (((int)value & 0xF) << 11));
    }

    /// <summary>The full RCODE: the header's 4 bits plus the OPT record's upper 8 (RFC 6891 §6.1.3).</summary>
    public ResponseCode ResponseCode
    {
        get => (ResponseCode)((Flags & 0xF) | ((Edns?.ExtendedRcode ?? 0) << 4));
        set
        {
            Flags = (ushort)((Flags & ~0xF) | ((int)value & 0xF));
            if ((int)value > 0xF)
            {
                Edns ??= new EdnsRecord();
                Edns.ExtendedRcode = (byte)((int)value >> 4);
            }
            else if (Edns is not null)
            {
                Edns.ExtendedRcode = 0;
            }
        }
    }

    public List<Question> Questions { get; } = [];

    public List<ResourceRecord> Answers { get; } = [];

    public List<ResourceRecord> Authority { get; } = [];

    /// <summary>The additional section without the OPT record, which is in <see cref="Edns"/>.</summary>
    public List<ResourceRecord> Additional { get; } = [];

    public EdnsRecord? Edns { get; set; }

    private bool Has(ushort bit) => (Flags & bit) != 0;

    private void Set(ushort bit, bool on) => Flags = on ? (ushort)(Flags | bit) : (ushort)(Flags & ~bit);

    /// <summary>A query for one question, optionally with EDNS.</summary>
    public static DnsMessage CreateQuery(DnsName name, RecordType type, RecordClass cls = RecordClass.IN, ushort id = 0, EdnsRecord? edns = null)
    {
        var message = new DnsMessage { Id = id, Edns = edns };
        message.Questions.Add(new Question(name, type, cls));
        return message;
    }

    /// <summary>Parses a whole message. Throws <see cref="DnsFormatException"/> on any malformed input.</summary>
    public static DnsMessage Parse(ReadOnlySpan<byte> wire)
    {
        if (!Header.TryRead(wire, out var header))
        {
            throw new DnsFormatException(WireError.Truncated);
        }
        var message = new DnsMessage { Id = header.Id, Flags = header.Flags };
        int offset = Header.Length;
        Span<byte> name = stackalloc byte[DnsName.MaxLength + 1];
        for (int i = 0; i < header.QuestionCount; i++)
        {
            Check(WireReader.ReadName(wire, ref offset, name, out int nameLength));
            if (offset + 4 > wire.Length)
            {
                throw new DnsFormatException(WireError.Truncated);
            }
            var type = (RecordType)(wire[offset] << 8 | wire[offset + 1]);
            var cls = (RecordClass)(wire[offset + 2] << 8 | wire[offset + 3]);
            offset += 4;
            message.Questions.Add(new Question(DnsName.FromWire(name[..nameLength]), type, cls));
        }
        ReadSection(wire, ref offset, header.AnswerCount, message.Answers, message, allowOpt: false);
        ReadSection(wire, ref offset, header.AuthorityCount, message.Authority, message, allowOpt: false);
        ReadSection(wire, ref offset, header.AdditionalCount, message.Additional, message, allowOpt: true);
        if (offset != wire.Length)
        {
            throw new DnsFormatException(WireError.TrailingData);
        }
        return message;
    }

    private static void ReadSection(ReadOnlySpan<byte> wire, ref int offset, int count, List<ResourceRecord> section, DnsMessage message, bool allowOpt)
    {
        Span<byte> name = stackalloc byte[DnsName.MaxLength + 1];
        for (int i = 0; i < count; i++)
        {
            Check(WireReader.ReadName(wire, ref offset, name, out int nameLength));
            Check(WireReader.ReadRecordHeader(wire, ref offset, out ushort type, out ushort cls, out uint ttl, out int rdlength));
            var rdata = wire.Slice(offset, rdlength);
            if ((RecordType)type == RecordType.OPT)
            {
                // RFC 6891 §6.1.1: one OPT, in the additional section, owned by the root.
                if (!allowOpt || message.Edns is not null || nameLength != 1)
                {
                    throw new DnsFormatException(WireError.BadOpt);
                }
                message.Edns = EdnsRecord.FromWire(cls, ttl, rdata);
            }
            else
            {
                var data = RdataLayout.MayArriveCompressed((RecordType)type)
                    ? Decompress(wire, offset, rdlength, (RecordType)type)
                    : rdata.ToArray();
                section.Add(new ResourceRecord(DnsName.FromWire(name[..nameLength]), (RecordType)type, (RecordClass)cls, ttl, data));
            }
            offset += rdlength;
        }
    }

    /// <summary>Expands compressed names inside RDATA so that every record can be compared and stored as uncompressed octets.</summary>
    private static byte[] Decompress(ReadOnlySpan<byte> wire, int start, int length, RecordType type)
    {
        byte[] output = System.Buffers.ArrayPool<byte>.Shared.Rent(ushort.MaxValue);
        try
        {
            var error = WireReader.ReadRdata(wire, start, length, type, output, out int written);
            if (error != WireError.None)
            {
                throw error == WireError.BadRdata
                    ? new DnsFormatException(WireError.BadRdata, $"{RecordTypeNames.ToText(type)} RDATA is malformed")
                    : new DnsFormatException(error);
            }
            return output.AsSpan(0, written).ToArray();
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(output);
        }
    }

    private static void Check(WireError error)
    {
        if (error != WireError.None)
        {
            throw new DnsFormatException(error);
        }
    }

    /// <summary>Encodes the message with name compression.</summary>
    public byte[] Encode()
    {
        var buffer = new byte[ushort.MaxValue];
        var writer = new MessageWriter(buffer);
        var header = new Header
        {
            Id = Id,
            Flags = Flags,
            QuestionCount = (ushort)Questions.Count,
            AnswerCount = (ushort)Answers.Count,
            AuthorityCount = (ushort)Authority.Count,
            AdditionalCount = (ushort)(Additional.Count + (Edns is null ? 0 : 1)),
        };
        bool ok = writer.WriteHeader(header);
        foreach (var q in Questions)
        {
            ok = ok && writer.WriteName(q.Name.Wire) && writer.WriteUInt16((ushort)q.Type) && writer.WriteUInt16((ushort)q.Class);
        }
        foreach (var section in new[] { Answers, Authority, Additional })
        {
            foreach (var rr in section)
            {
                ok = ok && writer.WriteRecord(rr.Name.Wire, rr.Type, (ushort)rr.Class, rr.Ttl, rr.Data);
            }
        }
        if (Edns is not null)
        {
            ok = ok && Edns.TryWrite(ref writer);
        }
        if (!ok)
        {
            throw new InvalidOperationException("message exceeds 65535 octets");
        }
        return writer.Written.ToArray();
    }
}
