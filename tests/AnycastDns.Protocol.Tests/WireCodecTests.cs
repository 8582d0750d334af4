using AnycastDns.Protocol;

namespace AnycastDns.Protocol.Tests;

public class WireCodecTests
{
    private static readonly DnsName Www = DnsName.Parse("www.example.com.");
    private static readonly DnsName Mail = DnsName.Parse("mail.example.com.");

    [Fact]
    public void A_message_round_trips_with_every_section_and_edns()
    {
        var m = DnsMessage.CreateQuery(Www, RecordType.MX, id: 0xBEEF, edns: new EdnsRecord { UdpPayloadSize = 4096, DnssecOk = true });
        m.IsResponse = true;
        m.AuthoritativeAnswer = true;
        m.Edns!.Options.Add(new EdnsOption(EdnsOptionCode.Nsid, [1, 2, 3]));
        m.Answers.Add(new ResourceRecord(Www, RecordType.MX, RecordClass.IN, 300, [0, 10, .. Mail.Wire]));
        m.Authority.Add(new ResourceRecord(DnsName.Parse("example.com."), RecordType.NS, RecordClass.IN, 86400, DnsName.Parse("ns1.example.com.").Wire.ToArray()));
        m.Additional.Add(new ResourceRecord(Mail, RecordType.A, RecordClass.IN, 60, [192, 0, 2, 1]));

        var parsed = DnsMessage.Parse(m.Encode());

        Assert.Equal(0xBEEF, parsed.Id);
        Assert.True(parsed.IsResponse);
        Assert.True(parsed.AuthoritativeAnswer);
        Assert.Equal(Www, parsed.Questions[0].Name);
        Assert.Equal(RecordType.MX, parsed.Questions[0].Type);
        Assert.Equal(m.Answers[0].Data, parsed.Answers[0].Data);
        Assert.Equal(m.Authority[0].Data, parsed.Authority[0].Data);
        Assert.Equal(m.Additional[0], parsed.Additional[0] with { Data = m.Additional[0].Data });
        Assert.Equal(4096, parsed.Edns!.UdpPayloadSize);
        Assert.True(parsed.Edns.DnssecOk);
        Assert.Equal([1, 2, 3], parsed.Edns.Options[0].Data);
    }

    [Fact]
    public void Names_are_compressed_against_earlier_names_including_inside_rdata()
    {
        var m = DnsMessage.CreateQuery(Www, RecordType.MX);
        m.Answers.Add(new ResourceRecord(Www, RecordType.MX, RecordClass.IN, 300, [0, 10, .. Mail.Wire]));
        var wire = m.Encode();
        // Question: 12 + 17 + 4. Answer owner: a pointer to offset 12 (C0 0C).
        Assert.Equal(0xC0, wire[33]);
        Assert.Equal(0x0C, wire[34]);
        // MX exchange: "mail" then a pointer to "example.com" at offset 16.
        int rdata = 33 + 2 + 10;
        Assert.Equal([0, 10, 4, (byte)'m', (byte)'a', (byte)'i', (byte)'l', 0xC0, 16], wire[rdata..(rdata + 9)]);
        Assert.Equal(9, wire[rdata - 1]);
    }

    [Fact]
    public void Srv_and_dname_targets_are_never_compressed()
    {
        var m = DnsMessage.CreateQuery(Www, RecordType.SRV);
        m.Answers.Add(new ResourceRecord(Www, RecordType.SRV, RecordClass.IN, 300, [0, 1, 0, 2, 0, 3, .. Www.Wire]));
        var wire = m.Encode();
        Assert.Equal(6 + Www.Length, wire[33 + 2 + 9]);
        Assert.Equal(Www.Wire.ToArray(), wire[^Www.Length..]);
    }

    [Fact]
    public void Writer_never_exceeds_its_limit_and_rolls_back_a_record_that_does_not_fit()
    {
        var buffer = new byte[512];
        var w = new MessageWriter(buffer) { Limit = 40 };
        Assert.True(w.WriteHeader(default));
        Assert.True(w.WriteName(Www.Wire));
        int before = w.Position;
        Assert.False(w.WriteRecord(Mail.Wire, RecordType.TXT, 1, 0, new byte[20]));
        Assert.Equal(before, w.Position);
        Assert.True(w.WriteUInt16(1));
    }

    [Fact]
    public void Reader_follows_backward_pointers()
    {
        byte[] msg = [.. new byte[12], 3, (byte)'c', (byte)'o', (byte)'m', 0, 3, (byte)'f', (byte)'o', (byte)'o', 0xC0, 12];
        int offset = 17;
        Span<byte> name = stackalloc byte[256];
        Assert.Equal(WireError.None, WireReader.ReadName(msg, ref offset, name, out int length));
        Assert.Equal(msg.Length, offset);
        Assert.Equal("foo.com.", WireName.ToText(name[..length]));
    }

    public static TheoryData<string, byte[], WireError> MalformedNames => new()
    {
        { "pointer to itself", [.. new byte[12], 0xC0, 12], WireError.BadPointer },
        { "forward pointer", [.. new byte[12], 0xC0, 14, 0], WireError.BadPointer },
        { "pointer into the header", [.. new byte[12], 0xC0, 2], WireError.BadPointer },
        { "loop through two pointers", [.. new byte[12], 1, (byte)'a', 0xC0, 16, 0xC0, 12], WireError.BadPointer },
        { "label then a pointer back to it", [.. new byte[12], 1, (byte)'a', 0xC0, 12], WireError.BadPointer },
        { "label length 64", [.. new byte[12], 64, .. new byte[64], 0], WireError.LabelTooLong },
        { "reserved label type 0b10", [.. new byte[12], 0x80, 0], WireError.LabelTooLong },
        { "label runs past the end", [.. new byte[12], 5, (byte)'a', (byte)'b'], WireError.Truncated },
        { "no terminating root", [.. new byte[12], 1, (byte)'a'], WireError.Truncated },
        { "pointer cut in half", [.. new byte[12], 1, (byte)'a', 0xC0], WireError.Truncated },
        { "name above 255 octets", [.. new byte[12], .. Enumerable.Repeat<byte[]>([63, .. new byte[63]], 4).SelectMany(x => x), 0], WireError.NameTooLong },
        { "name above 255 octets through pointers", LongThroughPointers(), WireError.NameTooLong },
    };

    private static byte[] LongThroughPointers()
    {
        // Each name adds one 63-octet label in front of the previous one by pointer: legal pointers, illegal length.
        var msg = new List<byte>(new byte[12]);
        msg.AddRange([63, .. new byte[63], 0]);
        for (int i = 0; i < 4; i++)
        {
            int previous = i == 0 ? 12 : msg.Count - 66;
            msg.AddRange([63, .. new byte[63], (byte)(0xC0 | (previous >> 8)), (byte)previous]);
        }
        return [.. msg];
    }

    [Theory]
    [MemberData(nameof(MalformedNames))]
    public void Malformed_names_give_a_typed_error(string what, byte[] message, WireError expected)
    {
        int offset = 12;
        if (what == "name above 255 octets through pointers")
        {
            offset = message.Length - 66;
        }
        Span<byte> name = stackalloc byte[256];
        Assert.Equal(expected, WireReader.ReadName(message, ref offset, name, out _));
        var ex = Assert.Throws<DnsFormatException>(() => DnsMessage.Parse(QueryAround(message, offset == 12 ? 12 : offset)));
        Assert.NotEqual(WireError.None, ex.Error);
    }

    private static byte[] QueryAround(byte[] nameMessage, int _)
    {
        var copy = (byte[])nameMessage.Clone();
        copy[5] = 1; // QDCOUNT = 1: the name is the question.
        return copy;
    }

    [Fact]
    public void Parse_rejects_truncated_sections_trailing_data_and_repeated_opt()
    {
        var q = DnsMessage.CreateQuery(Www, RecordType.A, edns: new EdnsRecord()).Encode();
        Assert.Equal(WireError.Truncated, Assert.Throws<DnsFormatException>(() => DnsMessage.Parse(q[..^3])).Error);
        Assert.Equal(WireError.Truncated, Assert.Throws<DnsFormatException>(() => DnsMessage.Parse(q[..5])).Error);
        Assert.Equal(WireError.TrailingData, Assert.Throws<DnsFormatException>(() => DnsMessage.Parse([.. q, 0])).Error);

        byte[] opt = q[^11..];
        byte[] twoOpts = [.. q, .. opt];
        twoOpts[11] = 2;
        Assert.Equal(WireError.BadOpt, Assert.Throws<DnsFormatException>(() => DnsMessage.Parse(twoOpts)).Error);
    }

    [Fact]
    public void Random_bytes_never_escape_as_anything_but_DnsFormatException()
    {
        var random = new Random(1234);
        var buffer = new byte[300];
        for (int i = 0; i < 20000; i++)
        {
            int length = random.Next(0, buffer.Length);
            random.NextBytes(buffer.AsSpan(0, length));
            if (length > 5 && i % 2 == 0)
            {
                buffer[4] = 0;
                buffer[5] = 1; // Mostly one question, so parsing goes deeper.
            }
            try
            {
                DnsMessage.Parse(buffer.AsSpan(0, length));
            }
            catch (DnsFormatException)
            {
            }
        }
    }
}

/// <summary>RDATA read out of a message with its names expanded (<see cref="WireReader.ReadRdata"/>), as a secondary stores a transfer's records.</summary>
public class RdataReadingTests
{
    private static readonly DnsName Www = DnsName.Parse("www.example.com.");
    private static readonly DnsName Mail = DnsName.Parse("mail.example.com.");

    [Fact]
    public void Compressed_names_inside_rdata_come_out_whole()
    {
        var m = DnsMessage.CreateQuery(Www, RecordType.MX);
        byte[] mx = [0, 10, .. Mail.Wire];
        m.Answers.Add(new ResourceRecord(Www, RecordType.MX, RecordClass.IN, 300, mx));
        byte[] soa = [.. DnsName.Parse("ns1.example.com.").Wire, .. DnsName.Parse("hostmaster.example.com.").Wire, .. new byte[20]];
        m.Answers.Add(new ResourceRecord(Www, RecordType.SOA, RecordClass.IN, 300, soa));
        var wire = m.Encode();
        var (offsets, lengths) = RdataOf(wire, 2);
        Assert.True(lengths[0] < mx.Length, "the MX exchange was not compressed");
        var output = new byte[ushort.MaxValue];
        Assert.Equal(WireError.None, WireReader.ReadRdata(wire, offsets[0], lengths[0], RecordType.MX, output, out int written));
        Assert.Equal(mx, output[..written]);
        Assert.Equal(WireError.None, WireReader.ReadRdata(wire, offsets[1], lengths[1], RecordType.SOA, output, out written));
        Assert.Equal(soa, output[..written]);
    }

    [Fact]
    public void Rdata_of_a_type_without_names_is_copied_as_it_is()
    {
        byte[] message = [1, 2, 3, 4, 5, 6];
        var output = new byte[16];
        Assert.Equal(WireError.None, WireReader.ReadRdata(message, 1, 4, RecordType.A, output, out int written));
        Assert.Equal([2, 3, 4, 5], output[..written]);
        Assert.Equal(WireError.Truncated, WireReader.ReadRdata(message, 4, 4, RecordType.A, output, out _));
    }

    [Fact]
    public void Rdata_longer_or_shorter_than_its_fields_is_refused()
    {
        // An MX of preference and exchange, then one octet more than RDLENGTH says (and one less).
        byte[] message = [.. new byte[12], 0, 10, .. Mail.Wire, 0xFF];
        var output = new byte[ushort.MaxValue];
        Assert.Equal(WireError.BadRdata, WireReader.ReadRdata(message, 12, 2 + Mail.Length + 1, RecordType.MX, output, out _));
        Assert.NotEqual(WireError.None, WireReader.ReadRdata(message, 12, 1 + Mail.Length, RecordType.MX, output, out _));
        Assert.Equal(WireError.None, WireReader.ReadRdata(message, 12, 2 + Mail.Length, RecordType.MX, output, out int written));
        Assert.Equal(2 + Mail.Length, written);
    }

    [Fact]
    public void A_name_in_rdata_may_not_point_forward_past_its_record()
    {
        // CNAME RDATA that is a pointer to offset 16, which lies after the RDATA (at 14..15): not a prior occurrence.
        byte[] message = [.. new byte[12], 0, 0, 0xC0, 16, 3, (byte)'c', (byte)'o', (byte)'m', 0];
        var output = new byte[ushort.MaxValue];
        Assert.NotEqual(WireError.None, WireReader.ReadRdata(message, 14, 2, RecordType.CNAME, output, out _));
    }

    /// <summary>Where the RDATA of the first <paramref name="count"/> answer records lies in <paramref name="wire"/>.</summary>
    private static (int[] Offsets, int[] Lengths) RdataOf(byte[] wire, int count)
    {
        int offset = 12;
        Assert.Equal(WireError.None, WireReader.SkipName(wire, ref offset));
        offset += 4;
        var (offsets, lengths) = (new int[count], new int[count]);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(WireError.None, WireReader.SkipName(wire, ref offset));
            Assert.Equal(WireError.None, WireReader.ReadRecordHeader(wire, ref offset, out _, out _, out _, out int length));
            (offsets[i], lengths[i]) = (offset, length);
            offset += length;
        }
        return (offsets, lengths);
    }
}
