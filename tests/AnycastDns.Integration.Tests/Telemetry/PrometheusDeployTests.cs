using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Telemetry;

/// <summary>deploy/prometheus: the example scrape configuration is valid, and the two alerts fire when they should and not before (promtool's rule unit tests).</summary>
public sealed class PrometheusDeployTests
{
    private const string Promtool = "/usr/bin/promtool";
    private static readonly string Folder = Path.Combine(RepositoryPaths.Root, "deploy", "prometheus");

    [Theory]
    [InlineData("check", "config", "prometheus.yml")]
    [InlineData("test", "rules", "anycastdns-alerts.test.yml")]
    public async Task Promtool_accepts_the_example_configuration_and_alerts(string command, string what, string file)
    {
        ExternalTool.RequireInstalled(Promtool, "prometheus");
        // promtool resolves rule_files relative to the file it reads, so it is given the path in deploy/prometheus.
        var result = await ExternalTool.RunAsync(Promtool, [command, what, Path.Combine(Folder, file)], TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("SUCCESS", result.Output, StringComparison.Ordinal);
    }
}
