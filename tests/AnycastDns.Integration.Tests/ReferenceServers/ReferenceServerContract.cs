using AnycastDns.Protocol;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.ReferenceServers;

/// <summary>
/// What every reference server fixture must do, checked with a real client (kdig) and with raw sockets:
/// serve each zone of tests/zones over UDP and TCP on its loopback port, and refuse names outside them.
/// </summary>
public abstract class ReferenceServerContract
{
    private const int TimeoutMs = 2000;

    protected abstract ReferenceServer Server { get; }

    public static TheoryData<string, string> ZonesAndTransports()
    {
        var data = new TheoryData<string, string>();
        foreach (var zone in ZoneFile.FindIn(RepositoryPaths.TestZones))
        {
            data.Add(zone.Origin, "+notcp");
            data.Add(zone.Origin, "+tcp");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ZonesAndTransports))]
    public async Task Each_zone_answers_its_SOA_to_kdig(string origin, string transport)
    {
        var result = await Kdig.QueryAsync(Server.EndPoint, [origin, "SOA", "+norec", transport]);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("status: NOERROR", result.StandardOutput, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^;; Flags: qr aa\b", result.StandardOutput);
        Assert.Matches($@"(?m)^{System.Text.RegularExpressions.Regex.Escape(origin)}\.\s+\d+\s+IN\s+SOA\s", result.StandardOutput);
    }

    [Fact]
    public async Task A_name_outside_every_zone_is_refused()
    {
        var result = await Kdig.QueryAsync(Server.EndPoint, ["www.example.org", "A", "+norec"]);

        Assert.Contains("status: REFUSED", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DnsWire_gets_one_answer_over_UDP_and_TCP()
    {
        byte[] query = DnsMessage.CreateQuery(DnsName.Parse("www.example.test."), RecordType.A, id: 0x5A5A).Encode();

        var overUdp = DnsMessage.Parse(await DnsWire.QueryUdpAsync(Server.EndPoint, query, TimeoutMs));
        var overTcp = DnsMessage.Parse(await DnsWire.QueryTcpAsync(Server.EndPoint, query, TimeoutMs));

        foreach (var response in new[] { overUdp, overTcp })
        {
            Assert.Equal(0x5A5A, response.Id);
            Assert.True(response.IsResponse && response.AuthoritativeAnswer);
            Assert.Equal(ResponseCode.NoError, response.ResponseCode);
            var answer = Assert.Single(response.Answers);
            Assert.Equal(RecordType.A, answer.Type);
            Assert.Equal(new byte[] { 192, 0, 2, 80 }, answer.Data);
        }
    }

    [Fact]
    public async Task Every_query_of_queries_txt_gets_a_response_echoing_its_question()
    {
        var queries = TestQuery.ReadAll(RepositoryPaths.TestQueries);
        ushort id = 1000;
        foreach (var query in queries)
        {
            byte[] wire = query.Encode(++id);
            byte[] response = query.Tcp
                ? await DnsWire.QueryTcpAsync(Server.EndPoint, wire, TimeoutMs)
                : await DnsWire.QueryUdpAsync(Server.EndPoint, wire, TimeoutMs);

            var message = DnsMessage.Parse(response);
            Assert.True(message.IsResponse && message.Id == id, $"line {query.Line}: {query}");
            // Header, then the question exactly as sent: 0x20 case included (RFC 1035 §4.1.2).
            int questionLength = query.Name.Length + 4;
            Assert.True(
                response.AsSpan(12, questionLength).SequenceEqual(wire.AsSpan(12, questionLength)),
                $"line {query.Line}: {query}: question not echoed octet for octet");
        }
    }

    [Fact]
    public async Task Without_EDNS_a_response_over_512_octets_is_truncated_over_UDP_and_whole_over_TCP()
    {
        // many.example.test holds 40 A records: about 700 octets (tests/zones/example.test.zone).
        byte[] query = DnsMessage.CreateQuery(DnsName.Parse("many.example.test."), RecordType.A, id: 7).Encode();

        byte[] overUdp = await DnsWire.QueryUdpAsync(Server.EndPoint, query, TimeoutMs);
        var overTcp = DnsMessage.Parse(await DnsWire.QueryTcpAsync(Server.EndPoint, query, TimeoutMs));

        Assert.True(overUdp.Length <= 512, $"{overUdp.Length} octets over UDP without EDNS");
        Assert.True(DnsMessage.Parse(overUdp).Truncated);
        Assert.False(overTcp.Truncated);
        Assert.Equal(40, overTcp.Answers.Count);
    }
}
