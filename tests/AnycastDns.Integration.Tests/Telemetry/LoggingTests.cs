using System.Globalization;
using System.Text.Json;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Telemetry;

/// <summary>
/// Logs an operator can ship: with <c>--log-format json</c> every line the server prints is one JSON object with the
/// PoP id; zone loads and state changes are one line each with their fields; <c>--query-log n</c> logs sampled queries.
/// </summary>
public sealed class LoggingTests
{
    [Fact]
    public async Task Json_lines_carry_the_pop_zone_loads_state_changes_and_the_sampled_query_log()
    {
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones,
            ["--http", $"127.0.0.1:{http}", "--log-format", "json", "--query-log", "1", "--pop-id", "fra2"], ["127.0.0.1"]);
        var answer = await Kdig.QueryAsync(server.EndPoint, ["www.example.test", "A", "+short"]);
        Assert.Equal("192.0.2.80", answer.StandardOutput.Trim());
        Assert.True(await server.WaitForLogAsync("\"Name\":\"www.example.test.\"", TimeSpan.FromSeconds(10)), server.Log);
        Assert.True(await server.WaitForLogAsync("\"To\":\"Announced\"", TimeSpan.FromSeconds(20)), server.Log);

        var lines = server.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(lines, l => Assert.Equal("fra2", l.GetProperty("pop").GetString()));
        Assert.All(lines, l => Assert.True(DateTimeOffset.TryParse(l.GetProperty("time").GetString(), CultureInfo.InvariantCulture, out _)));

        var zone = Assert.Single(lines, l => l.TryGetProperty("Origin", out var o) && o.GetString() == "example.test." && l.TryGetProperty("Serial", out _));
        Assert.Equal(2024010101, zone.GetProperty("Serial").GetInt64());
        Assert.Equal("info", zone.GetProperty("level").GetString());
        Assert.Equal("AnycastDns.Server.ZoneReloader", zone.GetProperty("category").GetString());

        var announced = Assert.Single(lines, l => l.TryGetProperty("To", out var to) && to.GetString() == "Announced");
        Assert.Equal("Starting", announced.GetProperty("From").GetString());

        var query = lines.First(l => l.GetProperty("category").GetString() == "AnycastDns.QueryLog" && l.GetProperty("Name").GetString() == "www.example.test.");
        Assert.Equal("A", query.GetProperty("Type").GetString());
        Assert.Equal("NOERROR", query.GetProperty("Rcode").GetString());
        Assert.Equal("udp", query.GetProperty("Transport").GetString());
        Assert.StartsWith("127.0.0.1:", query.GetProperty("Client").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, query.GetProperty("Answers").GetInt32());
    }

    [Fact]
    public async Task Every_fourth_query_of_a_receive_thread_is_logged_with_query_log_4()
    {
        // One UDP receive thread, so every fourth datagram it answers is logged: 2 of our 8, or 3 when a periodic
        // self-check (id.server and 3 SOAs over UDP, every 5 s) falls in between; never all 8.
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, ["--query-log", "4", "--udp-receive-loops", "1"], ["127.0.0.1"]);
        Assert.True(await server.WaitForLogAsync("-> Announced", TimeSpan.FromSeconds(20)), server.Log);
        int before = CountQueryLines(server.Log);
        var answer = await Kdig.QueryAsync(server.EndPoint, [.. Enumerable.Repeat(new[] { "www.example.test", "AAAA" }, 8).SelectMany(q => q)]);
        Assert.True(answer.ExitCode == 0, answer.Output);
        await Task.Delay(500);
        int logged = CountQueryLines(server.Log) - before;
        Assert.InRange(logged, 2, 3);
        Assert.Contains("www.example.test. IN AAAA -> NOERROR", server.Log, StringComparison.Ordinal);
    }

    private static int CountQueryLines(string log) => log.Split('\n').Count(l => l.Contains("query from 127.0.0.1:", StringComparison.Ordinal) && l.Contains(" over udp: ", StringComparison.Ordinal));
}
