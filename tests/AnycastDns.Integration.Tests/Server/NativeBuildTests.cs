using System.Text.Json;
using AnycastDns.Integration.Tests.Telemetry;
using AnycastDns.TestSupport;
using Xunit.Abstractions;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// The server published as native code (<c>dotnet publish -p:PublishAot=true</c>, what the README's many-zones figures
/// run): made here from a copy of the sources, then started, asked, reloaded and stopped as an operator would. A native
/// build has no JIT: whatever the code reaches by reflection that the compiler could not see (configuration binding,
/// request handlers, serializers) fails only at run time, so the build's analyzers are not enough proof on their own.
/// </summary>
public sealed class NativeBuildTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("anycastdns-native-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task The_native_build_serves_reloads_reports_and_stops_as_the_jit_build_does()
    {
        // A copy: the publish restores for a runtime and writes obj/ and bin/, beside builds the other tests run from.
        string sources = Path.Combine(_work, "src-copy");
        foreach (var file in new[] { "Directory.Build.props", "Directory.Packages.props" })
        {
            Directory.CreateDirectory(sources);
            File.Copy(Path.Combine(RepositoryPaths.Root, file), Path.Combine(sources, file));
        }
        CopyTree(Path.Combine(RepositoryPaths.Root, "src"), Path.Combine(sources, "src"));
        string published = Path.Combine(_work, "native");
        var publish = await ExternalTool.RunAsync("dotnet",
            ["publish", Path.Combine(sources, "src", "AnycastDns", "AnycastDns.csproj"), "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-nologo", "-v", "q", "-o", published],
            PublishTimeout);
        Assert.True(publish.ExitCode == 0, publish.Output);
        // The trim and AOT analyzers' warnings are errors (TreatWarningsAsErrors): none may have been let through.
        Assert.DoesNotContain("warning IL", publish.Output, StringComparison.Ordinal);
        string executable = Path.Combine(published, "anycastdns");
        Assert.True(File.Exists(executable), $"no {executable}:\n{publish.Output}");
        output.WriteLine($"native executable: {new FileInfo(executable).Length / (1 << 20)} MiB");

        string zones = Path.Combine(_work, "zones");
        Directory.CreateDirectory(zones);
        string zoneFile = Path.Combine(zones, "example.com.zone");
        File.Copy(Path.Combine(RepositoryPaths.Root, "zones", "example.com.zone"), zoneFile);
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(zones, ["--http", $"127.0.0.1:{http}", "--log-format", "json"],
            ["127.0.0.1"], executable: executable);

        // Answers over UDP and TCP, the PoP's identity, the zones' identity.
        Assert.Equal("192.0.2.10", (await Kdig.QueryAsync(server.EndPoint, ["www.example.com.", "A", "+short"])).StandardOutput.Trim());
        Assert.Equal("2001:db8::10", (await Kdig.QueryAsync(server.EndPoint, ["www.example.com.", "AAAA", "+short", "+tcp"])).StandardOutput.Trim());
        Assert.Equal("\"test-pop\"", (await Kdig.QueryAsync(server.EndPoint, ["CH", "TXT", "id.server.", "+short"])).StandardOutput.Trim());
        Assert.StartsWith("\"zones\" \"1\" ", (await Kdig.QueryAsync(server.EndPoint, ["CH", "TXT", "zones.server.", "+short"])).StandardOutput.Trim(), StringComparison.Ordinal);
        Assert.Contains("status: NXDOMAIN", (await Kdig.QueryAsync(server.EndPoint, ["nope.example.com.", "A"])).StandardOutput, StringComparison.Ordinal);

        // The status endpoint: its handlers, JSON and the Prometheus exporter.
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using (var zonesPage = JsonDocument.Parse(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/zones"))))
        {
            var zone = zonesPage.RootElement.GetProperty("zones")[0];
            Assert.Equal(("example.com.", "ok", 2024010101u), (zone.GetProperty("origin").GetString(), zone.GetProperty("status").GetString(), zone.GetProperty("serial").GetUInt32()));
        }
        var metrics = await PrometheusText.ParseAsync(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/metrics")));
        Assert.Equal(2024010101, metrics.Value("anycastdns_zone_serial", ("zone", "example.com.")));

        // A reload by the folder's watch, then the new record.
        string text = File.ReadAllText(zoneFile).Replace("2024010101 ; serial", "2024010102 ; serial", StringComparison.Ordinal);
        File.WriteAllText(zoneFile + ".new", text + "native IN A 192.0.2.99\n");
        File.Move(zoneFile + ".new", zoneFile, overwrite: true);
        Assert.True(await server.WaitForAnswerAsync("native.example.com.", "192.0.2.99", TimeSpan.FromSeconds(10)), server.Log);
        // The log is JSON, a line each, with the PoP's id from the options (not bound by reflection).
        var line = server.Log.Split('\n').First(l => l.Contains("example.com. serial 2024010101", StringComparison.Ordinal) && l.Contains("2024010102", StringComparison.Ordinal));
        using (var entry = JsonDocument.Parse(line[line.IndexOf('{', StringComparison.Ordinal)..]))
        {
            Assert.Equal("test-pop", entry.RootElement.GetProperty("pop").GetString());
        }

        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(15)));
        Assert.Contains("stopped answering", server.Log, StringComparison.Ordinal);

        // A command that is not serve: a broken zone file is one line and exit 1.
        string broken = Path.Combine(_work, "broken");
        Directory.CreateDirectory(broken);
        File.WriteAllText(Path.Combine(broken, "broken.test.zone"), "$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.300\n");
        var check = await ExternalTool.RunAsync(executable, ["check", broken], TimeSpan.FromSeconds(30));
        Assert.Equal(1, check.ExitCode);
        Assert.Contains("broken.test.zone:4:", check.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", check.Output, StringComparison.Ordinal);
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var folder in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(from, folder);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            {
                continue;
            }
            Directory.CreateDirectory(Path.Combine(to, relative));
        }
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(from, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            {
                continue;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(to, relative))!);
            File.Copy(file, Path.Combine(to, relative));
        }
    }
}
