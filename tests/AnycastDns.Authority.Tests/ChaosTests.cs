using System.Text;
using AnycastDns.Authority;
using AnycastDns.Protocol;

namespace AnycastDns.Authority.Tests;

public class ChaosTests
{
    private readonly Engine _engine = new(new ResponderOptions { PopId = "ams1", VersionString = "AnycastDns 1.2" });

    private static string Txt(ResourceRecord rr) => Encoding.UTF8.GetString(rr.Data.AsSpan(1, rr.Data[0]));

    [Theory]
    [InlineData("id.server.", "ams1")]
    [InlineData("HOSTNAME.bind.", "ams1")]
    [InlineData("version.server.", "AnycastDns 1.2")]
    [InlineData("version.bind.", "AnycastDns 1.2")]
    public void Identity_names_answer_in_class_chaos(string name, string expected)
    {
        var r = _engine.Ask(name, RecordType.TXT, RecordClass.CH);
        Assert.Equal(ResponseCode.NoError, r.ResponseCode);
        var rr = Assert.Single(r.Answers);
        Assert.Equal(RecordClass.CH, rr.Class);
        Assert.Equal(name, rr.Name.ToString());
        Assert.Equal(expected, Txt(rr));
    }

    [Fact]
    public void Other_chaos_names_and_types_are_refused()
    {
        Assert.Equal(ResponseCode.Refused, _engine.Ask("authors.bind.", RecordType.TXT, RecordClass.CH).ResponseCode);
        Assert.Equal(ResponseCode.Refused, _engine.Ask("id.server.", RecordType.A, RecordClass.CH).ResponseCode);
        Assert.Equal(ResponseCode.Refused, _engine.Ask("id.server.", RecordType.TXT, RecordClass.HS).ResponseCode);
    }

    [Fact]
    public void Empty_version_string_refuses_version_queries()
    {
        var engine = new Engine(new ResponderOptions { PopId = "x", VersionString = "" });
        Assert.Equal(ResponseCode.Refused, engine.Ask("version.bind.", RecordType.TXT, RecordClass.CH).ResponseCode);
        Assert.Equal(ResponseCode.NoError, engine.Ask("id.server.", RecordType.TXT, RecordClass.CH).ResponseCode);
    }

    [Fact]
    public void Nsid_is_returned_only_when_requested_with_an_empty_option()
    {
        var edns = new EdnsRecord();
        edns.Options.Add(new EdnsOption(EdnsOptionCode.Nsid, []));
        var r = _engine.Ask("id.server.", RecordType.TXT, RecordClass.CH, edns);
        var nsid = Assert.Single(r.Edns!.Options);
        Assert.Equal(EdnsOptionCode.Nsid, nsid.Code);
        Assert.Equal("ams1", Encoding.UTF8.GetString(nsid.Data));

        Assert.Empty(_engine.Ask("id.server.", RecordType.TXT, RecordClass.CH, new EdnsRecord()).Edns!.Options);
        // Also on REFUSED answers for names we do not serve: NSID describes the server, not the answer.
        var refused = _engine.Ask("www.example.org.", RecordType.A, RecordClass.IN, edns);
        Assert.Equal(ResponseCode.Refused, refused.ResponseCode);
        Assert.Equal([EdnsOptionCode.Nsid, EdnsOptionCode.ExtendedError], refused.Edns!.Options.Select(o => o.Code));
    }

    private static List<string> Strings(ResourceRecord rr)
    {
        var strings = new List<string>();
        for (int at = 0; at < rr.Data.Length; at += 1 + rr.Data[at])
        {
            strings.Add(Encoding.UTF8.GetString(rr.Data.AsSpan(at + 1, rr.Data[at])));
        }
        return strings;
    }

    [Fact]
    public void Zone_identity_names_give_origin_serial_and_zonemd_digest()
    {
        var a = Engine.BuildZone("a.test.", "$TTL 60\n@ SOA ns h 11 1 1 1 1\n@ NS ns\nns A 192.0.2.1\n");
        var b = Engine.BuildZone("b.test.", "$TTL 60\n@ SOA ns h 22 1 1 1 1\n@ NS ns\nns A 192.0.2.2\n");
        var engine = new Engine(new ResponderOptions { PopId = "ams1" }, ("a.test.", "$TTL 60\n@ SOA ns h 11 1 1 1 1\n@ NS ns\nns A 192.0.2.1\n"),
            ("b.test.", "$TTL 60\n@ SOA ns h 22 1 1 1 1\n@ NS ns\nns A 192.0.2.2\n"));

        var one = engine.Ask("B.TEST.zones.server.", RecordType.TXT, RecordClass.CH);
        Assert.Equal(ResponseCode.NoError, one.ResponseCode);
        Assert.Equal(["b.test.", "22", b.DigestHex], Strings(Assert.Single(one.Answers)));
        Assert.Equal(96, b.DigestHex.Length); // SHA-384

        var all = engine.Ask("zones.server.", RecordType.TXT, RecordClass.CH, transport: Transport.Tcp);
        // The summary first: the SHA-384 of each zone's "origin serial digest" line, in canonical order; then each zone.
        string summary = Convert.ToHexStringLower(System.Security.Cryptography.SHA384.HashData(Encoding.UTF8.GetBytes(
            $"a.test. 11 {a.DigestHex}\nb.test. 22 {b.DigestHex}\n")));
        Assert.Equal([["zones", "2", summary], ["a.test.", "11", a.DigestHex], ["b.test.", "22", b.DigestHex]], all.Answers.Select(Strings).ToList());

        Assert.Equal(ResponseCode.Refused, engine.Ask("c.test.zones.server.", RecordType.TXT, RecordClass.CH).ResponseCode);
        Assert.Equal(ResponseCode.Refused, engine.Ask("x.a.test.zones.server.", RecordType.TXT, RecordClass.CH).ResponseCode);
        Assert.Equal(ResponseCode.Refused, engine.Ask("a.test.zones.server.", RecordType.A, RecordClass.CH).ResponseCode);
    }

    private static (string Origin, string Text)[] SmallZones(int count) =>
        [.. Enumerable.Range(0, count).Select(i => ($"z{i:D5}.test.", $"$TTL 60\n@ SOA ns h {i + 1} 1 1 1 1\n@ NS ns\nns A 192.0.2.1\n"))];

    [Fact]
    public void Zones_server_past_one_message_answers_the_summary_alone_over_udp_and_tcp()
    {
        var zones = SmallZones(600);
        var engine = new Engine(new ResponderOptions { PopId = "ams1" }, zones);
        var lines = new StringBuilder();
        foreach (var (origin, text) in zones.OrderBy(z => z.Origin, StringComparer.Ordinal))
        {
            var zone = Engine.BuildZone(origin, text);
            lines.Append(System.Globalization.CultureInfo.InvariantCulture, $"{origin} {zone.Serial} {zone.DigestHex}\n");
        }
        string summary = Convert.ToHexStringLower(System.Security.Cryptography.SHA384.HashData(Encoding.UTF8.GetBytes(lines.ToString())));
        foreach (var transport in new[] { Transport.Tcp, Transport.Udp })
        {
            var all = engine.Ask("zones.server.", RecordType.TXT, RecordClass.CH, transport: transport);
            Assert.Equal(ResponseCode.NoError, all.ResponseCode);
            Assert.False(all.Truncated, transport.ToString());
            Assert.Equal(["zones", "600", summary], Strings(Assert.Single(all.Answers)));
        }
        // Each zone stays one query away.
        Assert.Equal(["z00599.test.", "600"], Strings(Assert.Single(engine.Ask("z00599.test.zones.server.", RecordType.TXT, RecordClass.CH).Answers))[..2]);
    }

    [Fact]
    public void Zones_server_is_servfail_until_a_large_snapshots_summary_is_made_off_the_answering_path()
    {
        // 4,000 zones of 3 records: past what is made on the spot, so a worker thread makes it.
        var engine = new Engine(new ResponderOptions { PopId = "ams1" }, SmallZones(4_000));
        var first = engine.Ask("zones.server.", RecordType.TXT, RecordClass.CH, transport: Transport.Tcp);
        Assert.Equal(ResponseCode.ServFail, first.ResponseCode);
        var answer = first;
        for (int i = 0; i < 200 && answer.ResponseCode != ResponseCode.NoError; i++)
        {
            Thread.Sleep(50);
            answer = engine.Ask("zones.server.", RecordType.TXT, RecordClass.CH, transport: Transport.Tcp);
        }
        Assert.Equal(ResponseCode.NoError, answer.ResponseCode);
        Assert.Equal("4000", Strings(Assert.Single(answer.Answers))[1]);
    }
}
