using System.Buffers.Binary;
using AnycastDns.Authority;
using AnycastDns.Protocol;

namespace AnycastDns.Authority.Tests;

public class MessageRulesTests
{
    private static readonly string BigZone = """
        $TTL 300
        @   SOA ns.big.test. h.big.test. 1 3600 600 86400 60
            NS  ns
        ns  A   192.0.2.1
        """ + "\n" + string.Concat(Enumerable.Range(1, 100).Select(i => $"many A 10.0.{i / 256}.{i % 256}\n"))
        + string.Concat(Enumerable.Range(1, 29).Select(i => $"some A 10.1.0.{i}\n"));

    private readonly Engine _engine = new(null, ("big.test.", BigZone));

    private static byte[] Query(string name, RecordType type, EdnsRecord? edns = null) =>
        DnsMessage.CreateQuery(DnsName.Parse(name), type, RecordClass.IN, 7, edns).Encode();

    [Fact]
    public void Opcodes_other_than_query_are_notimp()
    {
        var q = Query("ns.big.test.", RecordType.A);
        q[2] |= 5 << 3; // UPDATE
        var r = _engine.Send(q)!;
        Assert.Equal(ResponseCode.NotImp, r.ResponseCode);
        Assert.Equal(Opcode.Update, r.Opcode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Qdcount_other_than_one_is_formerr(int count)
    {
        var q = Query("ns.big.test.", RecordType.A);
        q[5] = (byte)count;
        var r = _engine.Send(q)!;
        Assert.Equal(ResponseCode.FormErr, r.ResponseCode);
        Assert.Empty(r.Questions);
    }

    [Fact]
    public void Responses_and_runts_are_dropped()
    {
        var q = Query("ns.big.test.", RecordType.A);
        q[2] |= 0x80;
        Assert.Null(_engine.Send(q));
        Assert.Null(_engine.Send(q[..11]));
    }

    [Fact]
    public void Malformed_question_is_formerr_with_the_id_kept()
    {
        byte[] q = [0xAB, 0xCD, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1];
        var r = _engine.Send(q)!;
        Assert.Equal(ResponseCode.FormErr, r.ResponseCode);
        Assert.Equal(0xABCD, r.Id);
    }

    [Fact]
    public void Edns_version_above_zero_is_badvers()
    {
        var q = Query("ns.big.test.", RecordType.A, new EdnsRecord { Version = 1 });
        var r = _engine.Send(q)!;
        Assert.Equal(ResponseCode.BadVers, r.ResponseCode);
        Assert.NotNull(r.Edns);
        Assert.Equal(0, r.Edns!.Version);
        Assert.Empty(r.Answers);
    }

    [Fact]
    public void Two_opt_records_are_formerr()
    {
        var q = Query("ns.big.test.", RecordType.A, new EdnsRecord());
        byte[] two = [.. q, .. q[^11..]];
        two[11] = 2;
        Assert.Equal(ResponseCode.FormErr, _engine.Send(two)!.ResponseCode);
    }

    [Fact]
    public void Without_edns_udp_answers_stop_at_512_octets_with_tc_and_no_partial_rrset()
    {
        int length = _engine.RawLength(Query("many.big.test.", RecordType.A));
        Assert.True(length <= 512);
        var r = _engine.Send(Query("many.big.test.", RecordType.A))!;
        Assert.True(r.Truncated);
        Assert.Empty(r.Answers); // 100 A records do not fit; none are sent rather than part of the RRset
        Assert.Null(r.Edns);

        var fits = _engine.Send(Query("some.big.test.", RecordType.A))!; // 12 + 19 + 29 * 16 = 495 <= 512
        Assert.False(fits.Truncated);
        Assert.Equal(29, fits.Answers.Count);
    }

    [Fact]
    public void Udp_limit_is_min_of_client_ours_and_never_below_512()
    {
        var big = _engine.Send(Query("many.big.test.", RecordType.A, new EdnsRecord { UdpPayloadSize = 4096 }))!;
        Assert.True(big.Truncated); // 100 * 16 > 1232
        Assert.Equal(ResponderOptions.DefaultMaxUdpPayload, big.Edns!.UdpPayloadSize);

        var tiny = _engine.Send(Query("some.big.test.", RecordType.A, new EdnsRecord { UdpPayloadSize = 100 }))!;
        Assert.False(tiny.Truncated); // treated as 512 (RFC 6891 §6.2.5): 495 + an 11-octet OPT fits
        Assert.Equal(29, tiny.Answers.Count);

        var tcp = _engine.Send(Query("many.big.test.", RecordType.A), Transport.Tcp)!;
        Assert.False(tcp.Truncated);
        Assert.Equal(100, tcp.Answers.Count);

        var engine = new Engine(new ResponderOptions { PopId = "p", MaxUdpPayload = 4096 }, ("big.test.", BigZone));
        var fits = engine.Send(Query("many.big.test.", RecordType.A, new EdnsRecord { UdpPayloadSize = 4096 }))!;
        Assert.False(fits.Truncated);
        Assert.Equal(100, fits.Answers.Count);
    }

    [Fact]
    public void Do_bit_is_copied_and_opt_only_when_asked()
    {
        Assert.True(_engine.Send(Query("ns.big.test.", RecordType.A, new EdnsRecord { DnssecOk = true }))!.Edns!.DnssecOk);
        Assert.Null(_engine.Send(Query("ns.big.test.", RecordType.A))!.Edns);
    }

    [Fact]
    public void Tcp_keepalive_is_answered_over_tcp_only()
    {
        var edns = new EdnsRecord();
        edns.Options.Add(new EdnsOption(EdnsOptionCode.TcpKeepalive, []));
        var tcp = _engine.Send(Query("ns.big.test.", RecordType.A, edns), Transport.Tcp)!;
        var option = Assert.Single(tcp.Edns!.Options);
        Assert.Equal(EdnsOptionCode.TcpKeepalive, option.Code);
        Assert.Equal(100, BinaryPrimitives.ReadUInt16BigEndian(option.Data)); // 10 s in units of 100 ms
        Assert.Empty(_engine.Send(Query("ns.big.test.", RecordType.A, edns))!.Edns!.Options);

        var withValue = new EdnsRecord();
        withValue.Options.Add(new EdnsOption(EdnsOptionCode.TcpKeepalive, [0, 1]));
        Assert.Equal(ResponseCode.FormErr, _engine.Send(Query("ns.big.test.", RecordType.A, withValue), Transport.Tcp)!.ResponseCode);
    }
}
