using System.Buffers.Binary;
using AnycastDns.Protocol;
using CsCheck;

namespace AnycastDns.Protocol.Tests;

/// <summary>
/// The one OPT writer (<see cref="OptWriter.TryWrite"/> with <see cref="ResponseOpt"/>, and <see cref="EdnsRecord"/>
/// through it) writes the octets the responder's own writer and <see cref="EdnsRecord"/>'s encoder wrote before they
/// were folded into it: the layout of RFC 6891 §6.1.2 and §6.1.3, built here by hand, option by option.
/// </summary>
public class OptWriterTests
{
    /// <summary>
    /// An OPT record as RFC 6891 lays it out, written the way <c>EdnsRecord</c> used to encode itself (the TTL field
    /// from EXTENDED-RCODE, VERSION and DO, then each option's code, length and data): the reference.
    /// </summary>
    private static byte[] Rfc6891Opt(ushort payloadSize, byte extendedRcode, byte version, bool dnssecOk, params (ushort Code, byte[] Data)[] options)
    {
        var bytes = new List<byte> { 0 };
        void U16(int v) => bytes.AddRange([(byte)(v >> 8), (byte)v]);
        U16(41);
        U16(payloadSize);
        bytes.AddRange([extendedRcode, version, (byte)(dnssecOk ? 0x80 : 0), 0]);
        U16(options.Sum(o => 4 + o.Data.Length));
        foreach (var (code, data) in options)
        {
            U16(code);
            U16(data.Length);
            bytes.AddRange(data);
        }
        return [.. bytes];
    }

    private static byte[] Write(ResponseOpt opt, int limit = 4096)
    {
        var buffer = new byte[4096];
        var writer = new MessageWriter(buffer) { Limit = limit };
        Assert.True(OptWriter.TryWrite(ref writer, opt));
        return writer.Written.ToArray();
    }

    private static byte[] Write(EdnsRecord edns)
    {
        var buffer = new byte[4096];
        var writer = new MessageWriter(buffer);
        Assert.True(edns.TryWrite(ref writer));
        return writer.Written.ToArray();
    }

    [Fact]
    public void A_response_opt_with_every_option_is_laid_out_as_RFC_6891_says()
    {
        byte[] nsid = "pop-ams1"u8.ToArray();
        byte[] client = [1, 2, 3, 4, 5, 6, 7, 8];
        byte[] server = [9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24];
        var opt = new ResponseOpt(1232, rcode: 23, dnssecOk: true) // BADCOOKIE: 23 = 1 << 4 | 7 (RFC 7873 §8)
        {
            HasNsid = true,
            Nsid = nsid,
            KeepaliveTimeout = 100,
            ClientCookie = client,
            ServerCookie = server,
            Expire = 604_800,
            ExtendedError = ExtendedErrorCode.InvalidData,
            ExtraText = "zone expired"u8,
        };

        byte[] expected = Rfc6891Opt(1232, 1, 0, true,
            (EdnsOptionCode.Nsid, nsid),
            (EdnsOptionCode.TcpKeepalive, [0, 100]),
            (EdnsOptionCode.Cookie, [.. client, .. server]),
            (EdnsOptionCode.Expire, [0x00, 0x09, 0x3A, 0x80]),
            (EdnsOptionCode.ExtendedError, [0, 24, .. "zone expired"u8.ToArray()]));

        Assert.Equal(expected, Write(opt));
        // The length a writer keeps free leaves the Extended DNS Error out: it is optional (RFC 8914 §3).
        Assert.Equal(expected.Length - (4 + 2 + 12), opt.Length);
    }

    [Fact]
    public void An_empty_nsid_a_client_cookie_alone_and_no_options_are_written_as_before()
    {
        Assert.Equal(Rfc6891Opt(512, 0, 0, false), Write(new ResponseOpt(512, 0, false)));
        Assert.Equal(Rfc6891Opt(4096, 0, 0, false, (EdnsOptionCode.Nsid, [])), Write(new ResponseOpt(4096, 0, false) { HasNsid = true }));
        byte[] client = [8, 7, 6, 5, 4, 3, 2, 1];
        Assert.Equal(Rfc6891Opt(1232, 0, 0, true, (EdnsOptionCode.Cookie, client)), Write(new ResponseOpt(1232, 0, true) { ClientCookie = client }));
        // BADVERS is 16: all of it in EXTENDED-RCODE (RFC 6891 §9).
        Assert.Equal(Rfc6891Opt(1232, 1, 0, false, (EdnsOptionCode.ExtendedError, [0, 21])),
            Write(new ResponseOpt(1232, 16, false) { ExtendedError = ExtendedErrorCode.NotSupported }));
    }

    [Fact]
    public void EdnsRecord_is_written_by_the_same_writer_as_before_version_and_extended_rcode_included()
    {
        var edns = new EdnsRecord { UdpPayloadSize = 4096, ExtendedRcode = 3, Version = 1, DnssecOk = true };
        edns.Options.Add(new EdnsOption(EdnsOptionCode.Nsid, [1, 2, 3]));
        edns.Options.Add(new EdnsOption(EdnsOptionCode.Padding, new byte[40]));
        edns.Options.Add(new EdnsOption(65001, []));

        byte[] expected = Rfc6891Opt(4096, 3, 1, true, (EdnsOptionCode.Nsid, [1, 2, 3]), (EdnsOptionCode.Padding, new byte[40]), (65001, []));
        Assert.Equal(expected, Write(edns));

        // In a whole message the OPT is the last record, and reads back as it was.
        var message = DnsMessage.CreateQuery(DnsName.Parse("example."), RecordType.SOA, id: 7, edns: edns).Encode();
        Assert.Equal(expected, message[^expected.Length..]);
        var parsed = DnsMessage.Parse(message).Edns!;
        Assert.Equal((4096, 3, 1, true), (parsed.UdpPayloadSize, parsed.ExtendedRcode, parsed.Version, parsed.DnssecOk));
        Assert.Equal(edns.Options.Select(o => (o.Code, Convert.ToHexString(o.Data))), parsed.Options.Select(o => (o.Code, Convert.ToHexString(o.Data))));
    }

    private static readonly Gen<(ushort Size, int Rcode, bool Do, byte[]? Nsid, int Keepalive, byte[] Client, byte[] Server)> Firsts =
        Gen.Select(Gen.UShort, Gen.Int[0, 4095], Gen.Bool, Gen.OneOf(Gen.Const((byte[]?)null), Gen.Byte.Array[0, 40].Select(b => (byte[]?)b)), Gen.Int[-1, 65535],
            Gen.OneOf(Gen.Const(Array.Empty<byte>()), Gen.Byte.Array[8]), Gen.OneOf(Gen.Const(Array.Empty<byte>()), Gen.Byte.Array[8, 32]));

    private static readonly Gen<(long Expire, int Ede, byte[] Text)> Lasts = Gen.Select(Gen.Long[-1, uint.MaxValue], Gen.Int[-1, 65535], Gen.Byte.Array[0, 30]);

    private static readonly Gen<(ushort Size, int Rcode, bool Do, byte[]? Nsid, int Keepalive, byte[] Client, byte[] Server, long Expire, int Ede, byte[] Text)> Opts =
        Gen.Select(Firsts, Lasts, (a, b) => (a.Size, a.Rcode, a.Do, a.Nsid, a.Keepalive, a.Client, a.Server, b.Expire, b.Ede, b.Text));

    [Fact]
    public void Any_response_opt_equals_the_same_record_as_an_EdnsRecord_and_reads_back()
    {
        Opts.Sample(o =>
        {
            var opt = new ResponseOpt(o.Size, o.Rcode, o.Do)
            {
                HasNsid = o.Nsid is not null,
                Nsid = o.Nsid,
                KeepaliveTimeout = o.Keepalive,
                ClientCookie = o.Client,
                ServerCookie = o.Client.Length == 0 ? [] : o.Server,
                Expire = o.Expire,
                ExtendedError = o.Ede,
                ExtraText = o.Text,
            };
            var options = new List<(ushort, byte[])>();
            if (o.Nsid is not null)
            {
                options.Add((EdnsOptionCode.Nsid, o.Nsid));
            }
            if (o.Keepalive >= 0)
            {
                options.Add((EdnsOptionCode.TcpKeepalive, [(byte)(o.Keepalive >> 8), (byte)o.Keepalive]));
            }
            if (o.Client.Length > 0)
            {
                options.Add((EdnsOptionCode.Cookie, [.. o.Client, .. o.Server]));
            }
            if (o.Expire >= 0)
            {
                var seconds = new byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(seconds, (uint)o.Expire);
                options.Add((EdnsOptionCode.Expire, seconds));
            }
            if (o.Ede >= 0)
            {
                options.Add((EdnsOptionCode.ExtendedError, [(byte)(o.Ede >> 8), (byte)o.Ede, .. o.Text]));
            }
            byte[] expected = Rfc6891Opt(o.Size, (byte)(o.Rcode >> 4), 0, o.Do, [.. options]);
            Assert.Equal(expected, Write(opt));

            var edns = new EdnsRecord { UdpPayloadSize = o.Size, ExtendedRcode = (byte)(o.Rcode >> 4), DnssecOk = o.Do };
            foreach (var (code, data) in options)
            {
                edns.Options.Add(new EdnsOption(code, data));
            }
            Assert.Equal(expected, Write(edns));
        });
    }

    [Fact]
    public void What_does_not_fit_is_not_written_and_the_extended_error_is_left_out_first()
    {
        var opt = new ResponseOpt(1232, 0, false) { HasNsid = true, Nsid = "abc"u8, ExtendedError = ExtendedErrorCode.NotReady };
        Assert.Equal(11 + 4 + 3, opt.Length);

        var buffer = new byte[64];
        var writer = new MessageWriter(buffer) { Limit = opt.Length - 1 };
        Assert.False(OptWriter.TryWrite(ref writer, opt));
        Assert.Equal(0, writer.Position);

        Assert.Equal(Rfc6891Opt(1232, 0, 0, false, (EdnsOptionCode.Nsid, "abc"u8.ToArray())), Write(opt, limit: opt.Length));
        Assert.Equal(Rfc6891Opt(1232, 0, 0, false, (EdnsOptionCode.Nsid, "abc"u8.ToArray()), (EdnsOptionCode.ExtendedError, [0, 14])), Write(opt, limit: opt.Length + 6));
    }

    [Fact]
    public void The_option_reader_reads_every_option_and_says_where_one_runs_past_the_rdata()
    {
        byte[] rdata = [0, 3, 0, 2, 0xAB, 0xCD, 0, 12, 0, 0, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8];
        var reader = new EdnsOptionReader(rdata);
        var read = new List<(ushort, string)>();
        while (reader.TryRead())
        {
            read.Add((reader.Code, Convert.ToHexString(reader.Data)));
        }
        Assert.Null(reader.Problem);
        Assert.Equal([(EdnsOptionCode.Nsid, "ABCD"), (EdnsOptionCode.Padding, ""), (EdnsOptionCode.Cookie, "0102030405060708")], read);

        Assert.Equal("EDNS option header truncated", ProblemOf([0, 3, 0, 0, 0, 10, 0]));
        Assert.Equal("EDNS option data truncated", ProblemOf([0, 3, 0, 5, 1, 2, 3, 4]));

        // DnsMessage reads OPT through the same reader.
        var query = DnsMessage.CreateQuery(DnsName.Parse("example."), RecordType.A, edns: new EdnsRecord()).Encode();
        byte[] broken = [.. query[..^2], 0, 3, 0, 3, 0]; // RDLENGTH 3: an option header cut short
        var e = Assert.Throws<DnsFormatException>(() => DnsMessage.Parse(broken));
        Assert.Equal(WireError.BadOpt, e.Error);
        Assert.Equal("EDNS option header truncated", e.Message);
    }

    private static string? ProblemOf(byte[] rdata)
    {
        var reader = new EdnsOptionReader(rdata);
        while (reader.TryRead())
        {
        }
        return reader.Problem;
    }
}
