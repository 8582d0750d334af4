using System.Globalization;
using System.Net;
using System.Text;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// A PoP in a container gets the memory its steady use needs, and .NET gives the GC 75 % of the container's limit. A
/// zone that does not fit must not kill the server with an unhandled OutOfMemoryException and a stack trace (issue
/// 20): the zones that fit are served, the one that did not is reported with one line naming the limit and what the
/// load needs, and the PoP stays withdrawn, since the fleet's other PoPs, with more memory, serve that zone. The load
/// is refused before it starts: running the heap into the limit could abort the runtime on another thread (CI saw
/// exit 134, PAL_SEHException, while this test caught the OutOfMemoryException of the load itself).
/// </summary>
public sealed class MemoryLimitTests : IDisposable
{
    /// <summary>96 MiB for the GC: the server and a small zone fit; a 400,000-name zone (8 MiB of file) does not.</summary>
    private const string HeapLimit = "0x6000000";

    private const int BigNames = 400_000;

    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-memory-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task A_zone_larger_than_the_heap_limit_is_one_error_line_while_the_others_are_served_and_the_pop_stays_withdrawn()
    {
        var big = new StringBuilder("$TTL 300\n@ SOA ns hostmaster 1 7200 900 1209600 300\n@ NS ns\nns A 192.0.2.53\n");
        for (int i = 0; i < BigNames; i++)
        {
            big.Append(CultureInfo.InvariantCulture, $"h{i} A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n");
        }
        big.Append("last A 192.0.2.254\n");
        await File.WriteAllTextAsync(Path.Combine(_folder, "big.test.zone"), big.ToString());
        await File.WriteAllTextAsync(Path.Combine(_folder, "small.test.zone"), "$TTL 300\n@ SOA ns hostmaster 1 7200 900 1209600 300\n@ NS ns\nns A 192.0.2.53\nwww A 192.0.2.80\n");

        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(_folder, ["--http", $"127.0.0.1:{http}", "--no-watch"], ["127.0.0.1"],
            environment: new Dictionary<string, string?> { ["DOTNET_GCHeapHardLimit"] = HeapLimit });

        // The zone that fits answers; the one that did not is SERVFAIL (its file is there, never loaded), not REFUSED.
        var small = await Kdig.QueryAsync(server.EndPoint, ["+time=2", "+retry=1", "www.small.test.", "A"]);
        Assert.Contains("192.0.2.80", small.StandardOutput, StringComparison.Ordinal);
        var missing = await Kdig.QueryAsync(server.EndPoint, ["+time=2", "+retry=1", "last.big.test.", "A"]);
        Assert.Contains("status: SERVFAIL", missing.StandardOutput, StringComparison.Ordinal);

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var ready = await client.GetAsync(new Uri($"http://127.0.0.1:{http}/readyz"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("zone big.test. did not fit in memory", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        string zones = await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/zones"));
        Assert.Contains("not enough memory to load this zone: the runtime may use 96 MiB", zones, StringComparison.Ordinal);

        // One line says it, naming the limit and the need; no exception, no stack trace.
        string log = server.Log;
        var lines = log.Split('\n').Where(l => l.Contains("not enough memory", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(lines);
        Assert.Matches(@"big\.test\.zone:1:1: error: not enough memory to load this zone: the runtime may use 96 MiB .*, \d+ MiB of it in use, and loading this 8 MiB file needs about \d+ MiB more \(400005 records\)", line);
        Assert.DoesNotContain("Exception", log, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", log, StringComparison.Ordinal);
    }
}
