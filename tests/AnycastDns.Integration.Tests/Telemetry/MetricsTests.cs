using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text.Json;
using AnycastDns.Protocol;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Telemetry;

/// <summary>
/// <c>/metrics</c> of the real server after known traffic: exact counts by transport, QTYPE and RCODE, truncation,
/// drops and TCP closes by reason; zone and anycast state; the PoP on every series; read by an independent parser and
/// checked by promtool (Debian's prometheus package). The server's own self-checks ask CH TXT id.server and each zone's
/// SOA, never A or MX, so the counts asserted here are ours alone.
/// </summary>
public sealed class MetricsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static async Task<HttpStatusCode> WaitUntilAnnouncedAsync(HttpClient client, int http)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            using var ready = await client.GetAsync(new Uri($"http://127.0.0.1:{http}/readyz"));
            if (ready.StatusCode == HttpStatusCode.OK || DateTime.UtcNow > deadline)
            {
                return ready.StatusCode;
            }
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task A_scrape_after_known_traffic_has_exact_counts_and_an_independent_parser_and_promtool_accept_it()
    {
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, ["--http", $"127.0.0.1:{http}", "--tcp-idle-timeout", "1"]);
        using var client = new HttpClient { Timeout = Timeout };
        Assert.Equal(HttpStatusCode.OK, await WaitUntilAnnouncedAsync(client, http));

        // UDP, by kdig: 7 A answered NOERROR and 2 NXDOMAIN.
        var udp = await Kdig.QueryAsync(server.EndPoint, [.. Enumerable.Repeat(new[] { "www.example.test", "A" }, 7).SelectMany(q => q), "nothere.example.test", "A", "nothere.example.test", "A"]);
        Assert.True(udp.ExitCode == 0, udp.Output);
        // TCP, by kdig on one connection: 3 A.
        var tcp = await Kdig.QueryAsync(server.EndPoint, ["+tcp", "+keepopen", "www.example.test", "A", "mail.example.test", "A", "ns1.example.test", "A"]);
        Assert.True(tcp.ExitCode == 0, tcp.Output);
        // 100 A records without EDNS do not fit 512 octets: TC (RFC 1035 §4.2.1); still an A query answered NOERROR.
        var huge = DnsMessage.Parse(await DnsWire.QueryUdpAsync(server.EndPoint, DnsMessage.CreateQuery(DnsName.Parse("huge.example.test."), RecordType.A, id: 7).Encode(), 5000));
        Assert.True(huge.Truncated);
        await SendDroppedThenMxAsync(server.EndPoint);
        await IdleAndBadFrameConnectionsAsync(server.EndPoint);

        string text = await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/metrics"));
        var samples = await PrometheusText.ParseAsync(text);

        (string, string) Udp = ("network_transport", "udp"), Tcp = ("network_transport", "tcp"), V4 = ("network_type", "ipv4");
        Assert.Equal(7 + 1, samples.Value("anycastdns_queries_total", Udp, V4, ("dns_question_type", "A"), ("dns_response_code", "NOERROR")));
        Assert.Equal(2, samples.Value("anycastdns_queries_total", Udp, V4, ("dns_question_type", "A"), ("dns_response_code", "NXDOMAIN")));
        Assert.Equal(1, samples.Value("anycastdns_queries_total", Udp, V4, ("dns_question_type", "MX"), ("dns_response_code", "NOERROR")));
        Assert.Equal(3, samples.Value("anycastdns_queries_total", Tcp, V4, ("dns_question_type", "A"), ("dns_response_code", "NOERROR")));
        Assert.Equal(1, samples.Value("anycastdns_queries_truncated_total", Udp, V4));
        Assert.Equal(3, samples.Value("anycastdns_queries_dropped_total", Udp, V4));
        Assert.Equal(1, samples.Value("anycastdns_tcp_connections_closed_total", V4, ("reason", "idle_timeout")));
        Assert.Equal(1, samples.Value("anycastdns_tcp_connections_closed_total", V4, ("reason", "bad_frame")));
        double closed = samples.Where(s => s.Name == "anycastdns_tcp_connections_closed_total" && s.Has(V4)).Sum(s => s.Value);
        Assert.InRange(samples.Value("anycastdns_tcp_connections_accepted_total", V4), closed, closed + 2);

        // The histogram: cumulative buckets, +Inf = count, at least every UDP answer above.
        var buckets = samples.Where(s => s.Name == "anycastdns_query_duration_seconds_bucket" && s.Has(Udp)).ToList();
        Assert.Equal(14, buckets.Count);
        Assert.Equal(buckets.Select(b => b.Value).Order(), buckets.Select(b => b.Value));
        double count = samples.Value("anycastdns_query_duration_seconds_count", Udp);
        Assert.Equal(count, buckets.Single(b => b.Labels["le"] == "+Inf").Value);
        Assert.True(count >= 7 + 2 + 1 + 1, $"{count} UDP answers timed");
        Assert.True(samples.Value("anycastdns_query_duration_seconds_sum", Udp) > 0);

        // Zones: as /zones says.
        using var zones = JsonDocument.Parse(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/zones")));
        var example = zones.RootElement.GetProperty("zones").EnumerateArray().Single(z => z.GetProperty("origin").GetString() == "example.test.");
        Assert.Equal(2024010101, samples.Value("anycastdns_zone_serial", ("zone", "example.test.")));
        Assert.Equal(example.GetProperty("records").GetInt32(), samples.Value("anycastdns_zone_records", ("zone", "example.test.")));
        Assert.Equal(example.GetProperty("loadedAt").GetDateTimeOffset().ToUnixTimeMilliseconds() / 1000.0, samples.Value("anycastdns_zone_loaded_timestamp_seconds", ("zone", "example.test.")), 3);
        Assert.Equal(0, samples.Value("anycastdns_zone_load_failures_total", ("zone", "example.test.")));
        Assert.Equal(0, samples.Value("anycastdns_zone_stale", ("zone", "example.test.")));

        // Anycast: announced (readyz said so), entered once; the speaker (none configured) reachable.
        Assert.Equal(1, samples.Value("anycastdns_anycast_state", ("state", "announced")));
        Assert.Equal(0, samples.Where(s => s.Name == "anycastdns_anycast_state" && !s.Has(("state", "announced"))).Sum(s => s.Value));
        Assert.Equal(1, samples.Value("anycastdns_anycast_transitions_total", ("state", "announced")));
        Assert.InRange(samples.Value("anycastdns_anycast_transition_timestamp_seconds", ("state", "announced")),
            DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.Equal(1, samples.Value("anycastdns_anycast_speaker_reachable"));

        // The PoP on every series, the resource in target_info, and the .NET runtime's metrics.
        Assert.All(samples, s => Assert.True(s.Has(("pop", "test-pop")), $"{s.Name} has no pop label"));
        Assert.Equal(1, samples.Value("target_info", ("service_name", "anycastdns")));
        Assert.Contains(samples, s => s.Name == "dotnet_gc_collections_total");

        await PromtoolAcceptsAsync(text);
    }

    /// <summary>
    /// A series per zone at any number of zones: the SDK's exporter folded every zone past its cardinality limit (2,000)
    /// into one overflow series, so /metrics writes them itself (ZoneMetrics). Both formats, each read by the Prometheus
    /// project's own parser for it (OpenMetrics' is the strict one: families, EOF, counters' _total).
    /// </summary>
    [Fact]
    public async Task Every_one_of_3000_zones_has_its_serial_on_metrics_in_text_and_OpenMetrics()
    {
        const int Zones = 3000;
        var folder = Directory.CreateTempSubdirectory("anycastdns-metrics-zones-");
        try
        {
            for (int i = 0; i < Zones; i++)
            {
                await File.WriteAllTextAsync(Path.Combine(folder.FullName, $"z{i}.example.zone"),
                    $"$TTL 3600\n@ SOA ns1 hostmaster {1000 + i} 7200 3600 1209600 3600\n@ NS ns1\nns1 A 192.0.2.1\n");
            }
            int http = LoopbackPort.FindFreeForUdpAndTcp();
            await using var server = await AnycastDnsServer.StartAsync(folder.FullName, ["--http", $"127.0.0.1:{http}", "--no-watch"]);
            using var client = new HttpClient { Timeout = Timeout };
            foreach (bool openMetrics in new[] { false, true })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://127.0.0.1:{http}/metrics"));
                if (openMetrics)
                {
                    request.Headers.Add("Accept", "application/openmetrics-text; version=1.0.0; charset=utf-8");
                }
                using var response = await client.SendAsync(request);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                string text = await response.Content.ReadAsStringAsync();
                Assert.Equal(openMetrics, text.EndsWith("# EOF\n", StringComparison.Ordinal));
                var samples = await PrometheusText.ParseAsync(text, openMetrics);
                Assert.DoesNotContain(samples, s => s.Labels.ContainsKey("otel_metric_overflow"));
                var serials = samples.Where(s => s.Name == "anycastdns_zone_serial").ToDictionary(s => s.Labels["zone"], s => s.Value);
                Assert.Equal(Zones, serials.Count);
                for (int i = 0; i < Zones; i++)
                {
                    Assert.Equal(1000 + i, serials[$"z{i}.example."]);
                }
                Assert.Equal(Zones, samples.Count(s => s.Name == "anycastdns_zone_load_failures_total" && s.Value == 0 && s.Has(("pop", "test-pop"))));
                Assert.Equal(3 * Zones, samples.Where(s => s.Name == "anycastdns_zone_records").Sum(s => s.Value));
                Assert.Contains(samples, s => s.Name == "anycastdns_queries_total" || s.Name == "anycastdns_anycast_state");
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task With_metrics_off_the_server_answers_and_metrics_is_404()
    {
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, ["--http", $"127.0.0.1:{http}", "--no-metrics"]);
        var answer = await Kdig.QueryAsync(server.EndPoint, ["www.example.test", "A", "+short"]);
        Assert.Equal("192.0.2.80", answer.StandardOutput.Trim());
        using var client = new HttpClient { Timeout = Timeout };
        using var metrics = await client.GetAsync(new Uri($"http://127.0.0.1:{http}/metrics"));
        Assert.Equal(HttpStatusCode.NotFound, metrics.StatusCode);
        Assert.Contains("Metrics:Enabled", await metrics.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>promtool check metrics, when Debian's prometheus package is installed (scripts/test.sh installs it).</summary>
    private static async Task PromtoolAcceptsAsync(string text)
    {
        const string Promtool = "/usr/bin/promtool";
        ExternalTool.RequireInstalled(Promtool, "prometheus");
        string file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, text);
            var result = await ExternalTool.RunAsync("/bin/sh", ["-c", $"{Promtool} check metrics < '{file}'"], TimeSpan.FromSeconds(30));
            // Exit 3 is lint findings only. The .NET runtime's own names (dotnet.assembly.count, ...: .NET's semantic
            // conventions) end in _count, which promtool's lint reserves for histograms; ours must have no finding at all.
            Assert.True(result.ExitCode is 0 or 3, result.Output);
            var findings = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.All(findings, f => Assert.StartsWith("dotnet_", f, StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Three messages the server must drop (a 5-octet datagram, a response, a 5000-octet datagram: longer than
    /// any query it reads), then an MX query from the same socket, so the same receive thread has counted the drops by
    /// the time the MX answer is back.</summary>
    private static async Task SendDroppedThenMxAsync(IPEndPoint server)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        using var deadline = new CancellationTokenSource(Timeout);
        await socket.ConnectAsync(server, deadline.Token);
        await socket.SendAsync(new byte[] { 0x12, 0x34, 0x01, 0x00, 0x00 }, SocketFlags.None, deadline.Token);
        var response = DnsMessage.CreateQuery(DnsName.Parse("www.example.test."), RecordType.A, id: 9);
        response.IsResponse = true;
        await socket.SendAsync(response.Encode(), SocketFlags.None, deadline.Token);
        var oversized = new byte[5000];
        DnsMessage.CreateQuery(DnsName.Parse("www.example.test."), RecordType.A, id: 11).Encode().CopyTo(oversized, 0);
        await socket.SendAsync(oversized, SocketFlags.None, deadline.Token);
        await socket.SendAsync(DnsMessage.CreateQuery(DnsName.Parse("example.test."), RecordType.MX, id: 10).Encode(), SocketFlags.None, deadline.Token);
        var buffer = new byte[65535];
        int received = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
        Assert.Equal(10, DnsMessage.Parse(buffer.AsSpan(0, received)).Id);
    }

    /// <summary>One connection left silent until the 1 s idle timeout closes it; one that sends a 3-octet frame.</summary>
    private static async Task IdleAndBadFrameConnectionsAsync(IPEndPoint server)
    {
        using var idle = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var bad = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var deadline = new CancellationTokenSource(Timeout);
        await idle.ConnectAsync(server, deadline.Token);
        await bad.ConnectAsync(server, deadline.Token);
        await bad.SendAsync(new byte[] { 0, 3, 1, 2, 3 }, SocketFlags.None, deadline.Token);
        var buffer = new byte[16];
        // Both end with the server's FIN: a read of 0.
        Assert.Equal(0, await bad.ReceiveAsync(buffer, SocketFlags.None, deadline.Token));
        Assert.Equal(0, await idle.ReceiveAsync(buffer, SocketFlags.None, deadline.Token));
        // The close is counted just after the FIN is sent.
        await Task.Delay(200);
    }
}
