using System.Diagnostics;
using System.Net;
using AnycastDns.Protocol;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// The anycast state machine as /readyz and /state show it, without a BGP speaker (the lab tests drive real BIRD):
/// ready only after the self-check, never with no zone, withdrawn in maintenance, and a drain that keeps answering.
/// </summary>
public sealed class AnycastStateTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-state-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private async Task<(HttpStatusCode Status, string Body)> Get(int port, string path)
    {
        using var response = await _http.GetAsync(new Uri($"http://127.0.0.1:{port}{path}"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Polls /readyz until it gives <paramref name="status"/>; bounded by 50 polls of 200 ms.</summary>
    private async Task<string> WaitForReady(int port, HttpStatusCode status)
    {
        string last = "";
        for (int i = 0; i < 50; i++)
        {
            var (code, body) = await Get(port, "/readyz");
            if (code == status)
            {
                return body;
            }
            last = $"{(int)code} {body}";
            await Task.Delay(200);
        }
        throw new TimeoutException($"/readyz never gave {(int)status}; last: {last}");
    }

    [Fact]
    public async Task With_no_zone_loaded_the_server_answers_but_is_never_ready()
    {
        File.WriteAllText(Path.Combine(_folder, "broken.test.zone"), "$TTL 60\n@ SOA ns h 1 1 1 1 1\nwww CNAME a\nwww A 192.0.2.1\n");
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(_folder, ["--http", $"127.0.0.1:{http}"], ["127.0.0.1"]);
        for (int i = 0; i < 3; i++)
        {
            var (status, body) = await Get(http, "/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Contains("no zone loaded", body, StringComparison.Ordinal);
            await Task.Delay(500);
        }
        Assert.DoesNotContain("-> Announced", server.Log, StringComparison.Ordinal);
        var (_, state) = await Get(http, "/state");
        Assert.Contains("\"problem\": \"no zone loaded\"", state, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Maintenance_by_file_and_by_command_withdraws_while_answering()
    {
        File.Copy(Path.Combine(RepositoryPaths.ExampleZones, "example.com.zone"), Path.Combine(_folder, "example.com.zone"));
        string flag = Path.Combine(_folder, "maintenance");
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(_folder, ["--http", $"127.0.0.1:{http}", "--maintenance-file", flag], ["127.0.0.1"]);
        Assert.StartsWith("ready: announced", await WaitForReady(http, HttpStatusCode.OK), StringComparison.Ordinal);

        File.WriteAllText(flag, "");
        Assert.Contains("maintenance file", await WaitForReady(http, HttpStatusCode.ServiceUnavailable), StringComparison.Ordinal);
        var answer = await Kdig.QueryAsync(server.EndPoint, ["www.example.com", "A", "+short"]);
        Assert.Equal("192.0.2.10", answer.StandardOutput.Trim());
        File.Delete(flag);
        await WaitForReady(http, HttpStatusCode.OK);

        var drain = await ExternalTool.RunAsync("dotnet", ["exec", AnycastDnsServer.DllPath, "drain", "--http", $"127.0.0.1:{http}"], TimeSpan.FromSeconds(60));
        Assert.True(drain.ExitCode == 0, drain.Output);
        Assert.Contains("maintenance requested", await WaitForReady(http, HttpStatusCode.ServiceUnavailable), StringComparison.Ordinal);
        var undrain = await ExternalTool.RunAsync("dotnet", ["exec", AnycastDnsServer.DllPath, "undrain", "--http", $"127.0.0.1:{http}"], TimeSpan.FromSeconds(60));
        Assert.True(undrain.ExitCode == 0, undrain.Output);
        await WaitForReady(http, HttpStatusCode.OK);
        Assert.Contains("Maintenance -> Announced", server.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_sigterm_the_server_withdraws_then_answers_through_the_drain_and_exits_0()
    {
        File.Copy(Path.Combine(RepositoryPaths.ExampleZones, "example.com.zone"), Path.Combine(_folder, "example.com.zone"));
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        var server = await AnycastDnsServer.StartAsync(_folder, ["--http", $"127.0.0.1:{http}", "--drain-seconds", "4"], ["127.0.0.1"]);
        await using (server)
        {
            await WaitForReady(http, HttpStatusCode.OK);
            var query = DnsMessage.CreateQuery(DnsName.Parse("www.example.com."), RecordType.A, id: 9).Encode();
            var clock = Stopwatch.StartNew();
            server.Signal(AnycastDnsServer.SigTerm);
            Assert.True(await server.WaitForLogAsync("-> Draining", TimeSpan.FromSeconds(5)), server.Log);
            // Queries keep the drain going (they arrive on the address that counts); every one is answered.
            int answered = 0;
            for (int i = 0; i < 100 && clock.Elapsed < TimeSpan.FromSeconds(3); i++)
            {
                var reply = DnsMessage.Parse(await DnsWire.QueryUdpAsync(server.EndPoint, query, 2000));
                Assert.Equal(ResponseCode.NoError, reply.ResponseCode);
                answered++;
                await Task.Delay(50);
            }
            Assert.True(answered > 10);
            Assert.False(server.HasExited, "the server stopped answering before the drain ended");
            int exit = await server.TerminateAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, exit);
            // Withdrawn first, listeners closed last.
            int draining = server.Log.IndexOf("-> Draining", StringComparison.Ordinal);
            int stopped = server.Log.IndexOf("stopped answering", StringComparison.Ordinal);
            Assert.True(draining >= 0 && stopped > draining, server.Log);
        }
    }

    [Fact]
    public async Task An_unreachable_bird_is_reported_and_the_server_keeps_answering()
    {
        File.Copy(Path.Combine(RepositoryPaths.ExampleZones, "example.com.zone"), Path.Combine(_folder, "example.com.zone"));
        string socket = Path.Combine(_folder, "no-bird.ctl");
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(_folder, ["--http", $"127.0.0.1:{http}", "--bird-socket", socket, "--drain-seconds", "0"], ["127.0.0.1"]);
        Assert.True(await server.WaitForLogAsync("cannot withdraw", TimeSpan.FromSeconds(10)) || await server.WaitForLogAsync("cannot announce", TimeSpan.FromSeconds(10)), server.Log);
        var answer = await Kdig.QueryAsync(server.EndPoint, ["www.example.com", "A", "+short"]);
        Assert.Equal("192.0.2.10", answer.StandardOutput.Trim());
        // Not ready: it wants the route but cannot get it announced.
        string seen = "";
        for (int i = 0; i < 25 && !seen.Contains("cannot announce", StringComparison.Ordinal); i++)
        {
            var (status, body) = await Get(http, "/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            seen = body;
            await Task.Delay(200);
        }
        Assert.Contains($"cannot announce: BIRD control socket {socket}", seen, StringComparison.Ordinal);
        var (_, state) = await Get(http, "/state");
        Assert.Contains("\"speakerReachable\": false", state, StringComparison.Ordinal);
        Assert.Contains(socket, state, StringComparison.Ordinal);
        Assert.False(server.HasExited);
    }

    [Fact]
    public async Task A_full_tcp_table_is_load_not_failure_and_the_pop_stays_announced()
    {
        File.Copy(Path.Combine(RepositoryPaths.ExampleZones, "example.com.zone"), Path.Combine(_folder, "example.com.zone"));
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(_folder,
            ["--http", $"127.0.0.1:{http}", "--tcp-max-connections", "1", "--tcp-idle-timeout", "60", "--tcp-max-queries", "0"], ["127.0.0.1"]);
        await WaitForReady(http, HttpStatusCode.OK);

        // One client holds the only place and keeps it busy: it sends queries without reading the answers, until the
        // server's write to it blocks. An idle holder would be closed to make room for the probe; one being answered
        // is not, so the periodic self-check's TCP probe is turned away like any other client. (No query limit: the
        // flood passes the default 10,000 per connection.)
        var query = DnsMessage.CreateQuery(DnsName.Parse("www.example.com."), RecordType.A, id: 1);
        byte[] chunk = TcpFairnessTests.Chunk(query, 500);
        TcpDnsConnection? holder = null;
        int chunks = 0;
        Task? lastSend = null;
        for (int attempt = 1; holder is null; attempt++)
        {
            // Until it is busy the holder is idle between reads, and a self-check probe may take its place: try again.
            var candidate = await TcpDnsConnection.ConnectAsync(server.EndPoint, TimeSpan.FromSeconds(5), IPAddress.Parse("127.0.0.2"), bufferBytes: 4096);
            try
            {
                var first = await candidate.QueryAsync(query, TimeSpan.FromSeconds(5));
                Assert.True(first.ResponseCode == ResponseCode.NoError, $"the holder's first query: {first.ResponseCode}");
                (chunks, lastSend) = await candidate.SendUntilStalledAsync(chunk, TcpFairnessTests.Stall, 4000);
                holder = candidate;
            }
            catch (System.Net.Sockets.SocketException) when (attempt < 3)
            {
                candidate.Dispose();
            }
        }
        using var held = holder;
        // Evictions before the holder was busy (a probe may take an idle candidate's place) do not count.
        double evictedBefore = Evictions(await Telemetry.PrometheusText.ParseAsync((await Get(http, "/metrics")).Body));

        // The periodic self-check runs every 5 s: watch for 8.
        for (int i = 0; i < 16; i++)
        {
            await Task.Delay(500);
            var (code, body) = await Get(http, "/readyz");
            Assert.True(code == HttpStatusCode.OK, $"withdrawn while only busy: {(int)code} {body}");
        }
        Assert.DoesNotContain("-> Unhealthy", server.Log, StringComparison.Ordinal);
        var (_, metrics) = await Get(http, "/metrics");
        var samples = await Telemetry.PrometheusText.ParseAsync(metrics);
        var turnedAway = Telemetry.PrometheusText.Value(samples, "anycastdns_tcp_connections_closed_total", ("network_type", "ipv4"), ("reason", "over_limit"));
        Assert.True(turnedAway >= 1, "the self-check's probe was never turned away: the test did not test the rule");
        // The holder was never cut off while busy: nothing was evicted...
        Assert.Equal(evictedBefore, Evictions(samples));
        // ...and it gets every answer. Except in one case the rule allows: while it drains, the rest of its last chunk
        // reaches the server in pieces, and between two pieces the server waits for the client; a self-check probe
        // arriving in that moment finds the holder waiting and takes its place (CI saw 63,536 of 64,000 answers once).
        // Closing a connection with unread octets makes the kernel reset it, so how many answers still arrive varies.
        var drained = await held.DrainAsync(TimeSpan.FromSeconds(1), chunks * 500 + 10);
        if (drained.Closed && drained.Messages < chunks * 500)
        {
            var (_, after) = await Get(http, "/metrics");
            Assert.True(Evictions(await Telemetry.PrometheusText.ParseAsync(after)) == evictedBefore + 1,
                $"held: {drained.Messages} answers of the {chunks * 500} owed, then closed by the server, and not for a probe once the holder waited");
        }
        else
        {
            TcpFairnessTests.AssertDrained(drained, chunks * 500, "held");
        }
        await lastSend!;
    }

    private static double Evictions(IReadOnlyList<Telemetry.PrometheusSample> samples) =>
        samples.Where(s => s.Name == "anycastdns_tcp_connections_closed_total" && s.Has(("reason", "evicted"))).Sum(s => s.Value);

    [Fact]
    public async Task A_read_only_status_endpoint_serves_status_and_metrics_and_refuses_every_command()
    {
        File.Copy(Path.Combine(RepositoryPaths.ExampleZones, "example.com.zone"), Path.Combine(_folder, "example.com.zone"));
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(_folder, ["--http", $"127.0.0.1:{http}", "--no-http-control"], ["127.0.0.1"]);
        await WaitForReady(http, HttpStatusCode.OK);

        foreach (var path in new[] { "/healthz", "/state", "/zones", "/metrics" })
        {
            var (code, _) = await Get(http, path);
            Assert.True(code == HttpStatusCode.OK, $"GET {path}: {(int)code}");
        }
        foreach (var command in new[] { "/reload", "/drain", "/undrain" })
        {
            using var response = await _http.PostAsync(new Uri($"http://127.0.0.1:{http}{command}"), null);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("HttpControl is false", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        // Refused means not done: still announced, no maintenance.
        Assert.StartsWith("ready: announced", await WaitForReady(http, HttpStatusCode.OK), StringComparison.Ordinal);
        Assert.DoesNotContain("Maintenance", server.Log, StringComparison.Ordinal);
    }
}
