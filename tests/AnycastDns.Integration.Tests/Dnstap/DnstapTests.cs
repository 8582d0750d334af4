using System.Globalization;
using System.Net.Http;
using AnycastDns.Integration.Tests.Telemetry;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Dnstap;

/// <summary>
/// dnstap out of the real server, received by collectors nobody here wrote (fstrm_capture, the dnstap CLI): exactly the
/// exchanges the test's dig and kdig queries made, with names, types, RCODEs, transports, client address and port and
/// the PoP identity; a collector killed and restarted mid-stream; sampling and the response-class filter.
/// </summary>
public sealed class DnstapTests : IDisposable
{
    private const string Pop = "dnstap-pop-7";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private readonly string _folder = Directory.CreateTempSubdirectory("dnstap-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Socket => Path.Combine(_folder, "dnstap.sock");

    private static Task<AnycastDnsServer> StartServerAsync(string socket, params string[] more) =>
        AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, ["--pop-id", Pop, "--udp-receive-loops", "1", "--dnstap-socket", socket, .. more], addresses: ["127.0.0.1"]);

    /// <summary>dig (BIND's) from a source port we choose, so the test knows the client port dnstap must report.</summary>
    private static async Task<string> DigAsync(AnycastDnsServer server, int sourcePort, params string[] query)
    {
        ExternalTool.RequireInstalled("/usr/bin/dig", "bind9-dnsutils");
        var result = await ExternalTool.RunAsync("/usr/bin/dig", ["@127.0.0.1", "-p", server.Port.ToString(CultureInfo.InvariantCulture),
            "-b", $"127.0.0.1#{sourcePort.ToString(CultureInfo.InvariantCulture)}", "+tries=1", "+time=3", .. query], Bound);
        Assert.True(result.ExitCode == 0, result.Output);
        return result.Output;
    }

    private static async Task WaitForCountAsync(AnycastDnsServer server, string text, int count)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (Occurrences(server.Log, text) < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no {count}x '{text}' in the server log within {Bound.TotalSeconds} s:\n{server.Log}");
            await Task.Delay(50);
        }
    }

    private static int Occurrences(string text, string what)
    {
        int count = 0;
        for (int at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    /// <summary>Stops the server (it says STOP and waits for FINISH), then the collector, and decodes what it wrote.</summary>
    private static async Task<IReadOnlyList<DnstapEntry>> FinishAsync(AnycastDnsServer server, DnstapCollector collector)
    {
        Assert.Equal(0, await server.TerminateAsync(Bound));
        await collector.StopAsync();
        return await DnstapCollector.DecodeAsync(collector.File);
    }

    [Fact]
    public async Task Fstrm_capture_and_the_dnstap_cli_decode_exactly_the_exchanges_sent_over_udp_and_tcp()
    {
        await using var collector = await DnstapCollector.StartAsync(Socket, Path.Combine(_folder, "capture.fstrm"));
        await using var server = await StartServerAsync(Socket);
        await WaitForCountAsync(server, "dnstap: sending to", 1);

        // (name, type, transport, source port or 0 for kdig's own, RCODE expected); none of the names the start-up
        // self-check asks (id.server and the zone apexes), which dnstap reports as well.
        var sent = new List<(string Name, string Type, string Protocol, int Port, string Rcode)>();
        async Task DigOne(string name, string type, bool tcp, string rcode)
        {
            int port = LoopbackPort.FindFreeForUdpAndTcp();
            string output = await DigAsync(server, port, tcp ? ["+tcp", name, type] : [name, type]);
            Assert.Contains($"status: {rcode}", output, StringComparison.Ordinal);
            sent.Add((name + ".", type, tcp ? "TCP" : "UDP", port, rcode));
        }
        await DigOne("www.example.test", "A", tcp: false, "NOERROR");
        await DigOne("nothere.example.test", "AAAA", tcp: false, "NXDOMAIN");
        await DigOne("ns1.example.test", "A", tcp: true, "NOERROR");
        await DigOne("www.outside-every-zone.invalid", "A", tcp: false, "REFUSED");
        await DigOne("nothere-tcp.example.test", "TXT", tcp: true, "NXDOMAIN");
        // kdig too, over TCP (its source port is its own: not checked).
        var kdig = await Kdig.QueryAsync(server.EndPoint, ["+tcp", "mail.example.test", "MX"]);
        Assert.True(kdig.ExitCode == 0, kdig.Output);
        sent.Add(("mail.example.test.", "MX", "TCP", 0, "NOERROR"));

        var entries = await FinishAsync(server, collector);
        var names = sent.Select(s => s.Name).ToHashSet();
        var ours = entries.Where(e => names.Contains(e.Name)).ToList();
        Assert.True(ours.Count == 2 * sent.Count, $"expected {2 * sent.Count} messages for the queries sent, got {ours.Count}:\n{string.Join('\n', entries)}");
        foreach (var (name, type, protocol, port, rcode) in sent)
        {
            var pair = ours.Where(e => e.Name == name).ToList();
            var query = Assert.Single(pair, e => e.IsQuery);
            var response = Assert.Single(pair, e => e.IsResponse);
            foreach (var entry in pair)
            {
                Assert.Equal(Pop, entry.Identity);
                Assert.StartsWith("anycastdns ", entry.Version, StringComparison.Ordinal);
                Assert.Equal(type, entry.QType);
                Assert.Equal(protocol, entry.Protocol);
                Assert.Equal("INET", entry.Family);
                Assert.Equal("127.0.0.1", entry.QueryAddress);
                if (port != 0)
                {
                    Assert.Equal(port, entry.QueryPort);
                }
            }
            Assert.Equal(query.QueryPort, response.QueryPort);
            Assert.Equal("NOERROR", query.Status); // a query's header RCODE is 0
            Assert.Equal(rcode, response.Status);
            // query_zone: the zone that answered, none for a name outside every zone.
            Assert.All(pair, e => Assert.Equal(rcode == "REFUSED" ? "" : "example.test.", e.Zone));
        }
    }

    [Fact]
    public async Task Dnstap_tcp_sends_to_a_collector_over_tcp()
    {
        int port = LoopbackPort.FindFreeForUdpAndTcp();
        await using var collector = await DnstapCollector.StartTcpAsync(port, Path.Combine(_folder, "tcp.fstrm"));
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones,
            ["--pop-id", Pop, "--dnstap-tcp", $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"], addresses: ["127.0.0.1"]);
        await WaitForCountAsync(server, "dnstap: sending to tcp:127.0.0.1:", 1);
        var kdig = await Kdig.QueryAsync(server.EndPoint, ["over-tcp.example.test", "A"]);
        Assert.True(kdig.ExitCode == 0, kdig.Output);

        var entries = (await FinishAsync(server, collector)).Where(e => e.Name == "over-tcp.example.test.").ToList();
        Assert.Equal(["AUTH_QUERY", "AUTH_RESPONSE"], entries.Select(e => e.Type).Order());
        Assert.Equal("NXDOMAIN", entries.Single(e => e.IsResponse).Status);
        Assert.All(entries, e => Assert.Equal(Pop, e.Identity));
    }

    [Fact]
    public async Task The_dnstap_cli_reads_the_stream_live_from_its_own_socket()
    {
        ExternalTool.RequireInstalled(DnstapCollector.DnstapPath, "golang-github-dnstap-golang-dnstap-cli");
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var live = ChildProcess.Start(DnstapCollector.DnstapPath, ["-u", Socket, "-y"], RepositoryPaths.Root, standardOutput: lines.Enqueue);
        try
        {
            var deadline = DateTime.UtcNow + Bound;
            while (!File.Exists(Socket))
            {
                Assert.True(DateTime.UtcNow < deadline && !live.HasExited, $"dnstap -u did not open its socket:\n{live.Log}");
                await Task.Delay(20);
            }
            await using var server = await StartServerAsync(Socket);
            await WaitForCountAsync(server, "dnstap: sending to", 1);
            var kdigUdp = await Kdig.QueryAsync(server.EndPoint, ["live-udp.example.test", "A"]);
            Assert.True(kdigUdp.ExitCode == 0, kdigUdp.Output);
            var kdigTcp = await Kdig.QueryAsync(server.EndPoint, ["+tcp", "live-tcp.example.test", "AAAA"]);
            Assert.True(kdigTcp.ExitCode == 0, kdigTcp.Output);

            // Read while the server still runs: the messages arrive as they are sent, not at the end of the stream.
            IReadOnlyList<DnstapEntry> entries = [];
            while (entries.Count(e => e.Name.StartsWith("live-", StringComparison.Ordinal)) < 4)
            {
                Assert.True(DateTime.UtcNow < deadline, $"dnstap -u printed, within {Bound.TotalSeconds} s:\n{string.Join('\n', lines)}");
                await Task.Delay(100);
                entries = DnstapCollector.ParseYaml(string.Join('\n', lines));
            }
            var udp = entries.Where(e => e.Name == "live-udp.example.test.").ToList();
            var tcp = entries.Where(e => e.Name == "live-tcp.example.test.").ToList();
            Assert.Equal(["AUTH_QUERY", "AUTH_RESPONSE"], udp.Select(e => e.Type).Order());
            Assert.Equal(["AUTH_QUERY", "AUTH_RESPONSE"], tcp.Select(e => e.Type).Order());
            Assert.All(udp, e => Assert.Equal("UDP", e.Protocol));
            Assert.All(tcp, e => Assert.Equal("TCP", e.Protocol));
            Assert.Equal("NXDOMAIN", udp.Single(e => e.IsResponse).Status);
            Assert.All(udp.Concat(tcp), e => Assert.Equal(Pop, e.Identity));
            Assert.Equal(0, await server.TerminateAsync(Bound));
        }
        finally
        {
            await live.StopAsync();
        }
    }

    [Fact]
    public async Task A_collector_killed_mid_stream_costs_no_answer_drops_are_counted_and_the_stream_resumes_when_it_is_back()
    {
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        var first = await DnstapCollector.StartAsync(Socket, Path.Combine(_folder, "first.fstrm"));
        await using var server = await StartServerAsync(Socket, "--http", $"127.0.0.1:{http}");
        await WaitForCountAsync(server, "dnstap: sending to", 1);
        var before = await Kdig.QueryAsync(server.EndPoint, ["before.example.test", "A"]);
        Assert.True(before.ExitCode == 0, before.Output);

        await first.KillAsync();
        await first.DisposeAsync();
        // Every query answered while no collector listens: 30 over UDP, 3 over TCP.
        const int Udp = 30, Tcp = 3;
        var during = await Kdig.QueryAsync(server.EndPoint, [.. Enumerable.Range(0, Udp).SelectMany(i => new[] { $"during-{i}.example.test", "A" }),
            "+tcp", .. Enumerable.Range(0, Tcp).SelectMany(i => new[] { $"during-tcp-{i}.example.test", "A" })]);
        Assert.True(during.ExitCode == 0, during.Output);
        Assert.Equal(Udp + Tcp, Occurrences(during.Output, "status: NXDOMAIN"));

        using var client = new HttpClient { Timeout = Bound };
        var deadline = DateTime.UtcNow + Bound;
        double dropped;
        do
        {
            Assert.True(DateTime.UtcNow < deadline, "anycastdns_dnstap_messages_total{outcome=\"dropped\"} never reached the messages of the queries answered without a collector");
            await Task.Delay(100);
            var samples = await PrometheusText.ParseAsync(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/metrics")));
            dropped = samples.Value("anycastdns_dnstap_messages_total", ("outcome", "dropped"));
            Assert.True(samples.Value("anycastdns_dnstap_messages_total", ("outcome", "sent")) >= 2, "the exchange before the kill was sent");
        }
        while (dropped < 2 * (Udp + Tcp));
        Assert.Equal(1, Occurrences(server.Log, "dnstap: lost the collector"));

        await using var second = await DnstapCollector.StartAsync(Socket, Path.Combine(_folder, "second.fstrm"));
        await WaitForCountAsync(server, "dnstap: sending to", 2);
        var after = await Kdig.QueryAsync(server.EndPoint, [.. Enumerable.Range(0, 10).SelectMany(i => new[] { $"after-{i}.example.test", "A" })]);
        Assert.True(after.ExitCode == 0, after.Output);

        var entries = await FinishAsync(server, second);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(2, entries.Count(e => e.Name == $"after-{i}.example.test."));
        }
        Assert.DoesNotContain(entries, e => e.Name.StartsWith("during-", StringComparison.Ordinal));
        Assert.Equal(1, Occurrences(server.Log, "dnstap: lost the collector"));
    }

    [Fact]
    public async Task One_in_four_sends_a_quarter_of_the_exchanges_and_log_responses_false_leaves_out_the_responses()
    {
        await using var collector = await DnstapCollector.StartAsync(Socket, Path.Combine(_folder, "sampled.fstrm"));
        await using var server = await StartServerAsync(Socket, "--dnstap-one-in", "4", "--dnstap-log-responses", "false");
        await WaitForCountAsync(server, "dnstap: sending to", 1);
        // After the start-up self-check, so that only these queries pass the one receive thread's sampling count.
        Assert.True(await server.WaitForLogAsync("-> Announced", Bound), server.Log);
        const int Queries = 40;
        var kdig = await Kdig.QueryAsync(server.EndPoint, [.. Enumerable.Range(0, Queries).SelectMany(i => new[] { $"sample-{i}.example.test", "A" })]);
        Assert.True(kdig.ExitCode == 0, kdig.Output);

        var entries = (await FinishAsync(server, collector)).Where(e => e.Name.StartsWith("sample-", StringComparison.Ordinal)).ToList();
        Assert.Equal(Queries / 4, entries.Count);
        Assert.All(entries, e => Assert.True(e.IsQuery, $"{e.Type} sent with Dnstap:LogResponses=false"));
        var sampled = entries.Select(e => int.Parse(e.Name["sample-".Length..e.Name.IndexOf('.', StringComparison.Ordinal)], CultureInfo.InvariantCulture)).Order().ToList();
        Assert.All(sampled.Zip(sampled.Skip(1)), p => Assert.Equal(4, p.Second - p.First));
    }

    [Fact]
    public async Task The_response_class_filter_sends_only_the_refused_exchanges()
    {
        await using var collector = await DnstapCollector.StartAsync(Socket, Path.Combine(_folder, "refused.fstrm"));
        await using var server = await StartServerAsync(Socket, "--dnstap-responses", "refused");
        await WaitForCountAsync(server, "dnstap: sending to", 1);
        var kdig = await Kdig.QueryAsync(server.EndPoint, [
            "www.example.test", "A", "nothere.example.test", "A", "example.test", "MX",
            "one.refused.invalid", "A", "two.refused.invalid", "AAAA", "+tcp", "three.refused.invalid", "TXT", "www.example.test", "AAAA"]);
        Assert.True(kdig.ExitCode == 0, kdig.Output);
        Assert.Equal(3, Occurrences(kdig.Output, "status: REFUSED"));

        var entries = await FinishAsync(server, collector);
        var names = entries.Where(e => e.Name.Length > 0 && e.Name != "id.server." && !e.Name.EndsWith("in-addr.arpa.", StringComparison.Ordinal))
            .Select(e => e.Name).Distinct().Order().ToList();
        Assert.Equal(["one.refused.invalid.", "three.refused.invalid.", "two.refused.invalid."], names);
        Assert.Equal(6, entries.Count(e => e.Name.EndsWith(".refused.invalid.", StringComparison.Ordinal)));
        Assert.All(entries.Where(e => e.IsResponse), e => Assert.Equal("REFUSED", e.Status));
    }
}
