using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Telemetry;

/// <summary>
/// OTLP: the real server, configured only by the standard OTEL_EXPORTER_OTLP_* variables, sends its metrics, its
/// zone-load span and its logs to a collector stand-in over OTLP/HTTP with protobuf bodies, with the PoP as a
/// resource attribute, and the query counts in them are the traffic sent.
/// </summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task Metrics_traces_and_logs_reach_an_otlp_http_receiver_with_the_pop_and_exact_counts()
    {
        using var receiver = new OtlpReceiver(LoopbackPort.FindFreeForUdpAndTcp());
        var environment = new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint.ToString(),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
        };
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, addresses: ["127.0.0.1"], environment: environment);

        var udp = await Kdig.QueryAsync(server.EndPoint, [.. Enumerable.Repeat(new[] { "www.example.test", "A" }, 5).SelectMany(q => q)]);
        Assert.True(udp.ExitCode == 0, udp.Output);

        // Exports are cumulative: wait for one that has all five.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        double answered = 0;
        while (DateTime.UtcNow < deadline)
        {
            answered = receiver.MetricPoints.Where(p => p.Point.Metric == "anycastdns.queries"
                    && p.Point.Attributes.GetValueOrDefault("dns.question.type") == "A" && p.Point.Attributes.GetValueOrDefault("dns.response_code") == "NOERROR"
                    && p.Point.Attributes.GetValueOrDefault("network.transport") == "udp" && p.Point.Attributes.GetValueOrDefault("network.type") == "ipv4")
                .Select(p => p.Point.Value).DefaultIfEmpty(0).Max();
            if (answered >= 5 && receiver.SpanNames.Contains("zones.load") && receiver.LogRequests > 0)
            {
                break;
            }
            await Task.Delay(250);
        }
        Assert.True(answered == 5, $"the largest exported count of A/NOERROR/udp/ipv4 queries is {answered}, not 5\n{server.Log}");

        var points = receiver.MetricPoints;
        Assert.All(points, p => Assert.Equal("test-pop", p.Resource.GetValueOrDefault("pop")));
        Assert.Equal("anycastdns", points[0].Resource.GetValueOrDefault("service.name"));
        var names = points.Select(p => p.Point.Metric).ToHashSet();
        foreach (var name in new[] { "anycastdns.zone.serial", "anycastdns.anycast.state", "anycastdns.tcp.connections.accepted", "anycastdns.query.duration.bucket", "dotnet.gc.collections" })
        {
            Assert.True(names.Contains(name), $"no {name} among the exported metrics: {string.Join(", ", names.Order())}");
        }
        Assert.Contains(points, p => p.Point.Metric == "anycastdns.zone.serial" && p.Point.Attributes.GetValueOrDefault("zone") == "example.test." && p.Point.Value == 2024010101);
        Assert.Contains("zones.load", receiver.SpanNames);
        Assert.True(receiver.LogRequests > 0, "no log export arrived");
    }
}
