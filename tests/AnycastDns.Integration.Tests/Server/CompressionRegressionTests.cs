using System.Globalization;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// Issue 14's reproduction of the name-compression bug, as a client saw it: a long name asked after a shorter one, so
/// that the response buffer still held the earlier answer, came back with a compression pointer into the name itself
/// (dig: "bad compression pointer"), or not at all. Over UDP from one source port and over one TCP connection, which
/// is how the same buffer gets reused.
/// </summary>
public sealed class CompressionRegressionTests : IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(30);
    private static readonly string ShortName = string.Concat(Enumerable.Repeat("x.", 12)) + "w.edge.test";
    private static readonly string LongName = string.Concat(Enumerable.Repeat("x.", 20)) + "w.edge.test";

    private readonly string _zones = Directory.CreateTempSubdirectory("anycastdns-edge-").FullName;

    public CompressionRegressionTests()
    {
        File.WriteAllText(Path.Combine(_zones, "edge.test.zone"), """
            $TTL 300
            @    SOA ns.edge.test. h.edge.test. 1 3600 600 86400 60
                 NS  ns
            ns   A   192.0.2.1
            *.w  A   192.0.2.99
            """);
    }

    public void Dispose() => Directory.Delete(_zones, recursive: true);

    [Fact]
    public async Task A_longer_name_after_a_shorter_one_from_the_same_udp_port_is_answered_well_formed()
    {
        ExternalTool.RequireInstalled("/usr/bin/dig", "bind9-dnsutils");
        await using var server = await AnycastDnsServer.StartAsync(_zones, addresses: ["127.0.0.1"]);
        int source = LoopbackPort.FindFreeForUdpAndTcp();
        foreach (var name in new[] { ShortName, LongName, ShortName, LongName })
        {
            var result = await ExternalTool.RunAsync("/usr/bin/dig",
                ["@127.0.0.1", "-p", server.Port.ToString(CultureInfo.InvariantCulture), "-b", $"127.0.0.1#{source}", "+tries=1", "+time=5", name, "A"], RunTimeout);
            Assert.True(result.ExitCode == 0, result.Output);
            Assert.DoesNotContain("bad compression pointer", result.Output, StringComparison.Ordinal);
            Assert.Contains("status: NOERROR", result.StandardOutput, StringComparison.Ordinal);
            Assert.Matches($@"(?m)^{System.Text.RegularExpressions.Regex.Escape(name)}\.\s+300\s+IN\s+A\s+192\.0\.2\.99$", result.StandardOutput);
        }
    }

    [Fact]
    public async Task A_longer_name_after_a_shorter_one_on_one_tcp_connection_is_answered_well_formed()
    {
        await using var server = await AnycastDnsServer.StartAsync(_zones, addresses: ["127.0.0.1"]);
        var result = await Kdig.QueryAsync(server.EndPoint, ["+tcp", "+keepopen", ShortName, "A", LongName, "A", ShortName, "A", LongName, "A"]);
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.DoesNotContain("malformed", result.Output, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(4, result.StandardOutput.Split("status: NOERROR").Length - 1);
        Assert.Equal(4, System.Text.RegularExpressions.Regex.Matches(result.StandardOutput, @"\sA\s+192\.0\.2\.99").Count);
    }
}
