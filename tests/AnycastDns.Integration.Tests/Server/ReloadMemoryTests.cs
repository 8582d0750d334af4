using System.Globalization;
using System.Text;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// A reload gives back the version it replaced: after the collection one second after the swap, the process holds
/// about what it held before, not both versions. A bound against regressions, not a benchmark
/// (<c>bench/compare.sh --reload-names</c> measures): the collection once ran while the replaced version was still
/// reachable, and a 1 M-name zone's reload kept 666 MiB resident where the load had kept 372.
/// </summary>
public sealed class ReloadMemoryTests : IDisposable
{
    private const int Names = 300_000;

    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-reloadmemory-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private void WriteZone(int serial, string extra)
    {
        var text = new StringBuilder(Names * 32);
        text.Append(CultureInfo.InvariantCulture, $"$TTL 3600\n@ SOA ns1 hostmaster {serial} 7200 3600 1209600 3600\n@ NS ns1\nns1 A 192.0.2.1\n");
        for (int i = 0; i < Names; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"n{i} A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n");
        }
        text.Append(extra);
        File.WriteAllText(Path.Combine(_folder, "big.test.zone"), text.ToString());
    }

    private static long ResidentMiB(int pid) => long.Parse(File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
        .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) >> 10;

    [Fact]
    public async Task A_reload_gives_back_the_version_it_replaced()
    {
        WriteZone(1, "");
        await using var server = await AnycastDnsServer.StartAsync(_folder, ["--no-watch"], ["127.0.0.1"]);
        Assert.True(await server.WaitForAnswerAsync($"n{Names - 1}.big.test.", "10.4.147.223", TimeSpan.FromSeconds(30)), server.Log);
        await Task.Delay(TimeSpan.FromSeconds(4)); // the collection one second after the swap, and the digest before it
        long loaded = ResidentMiB(server.ProcessId);

        WriteZone(2, "edit A 192.0.2.77\n");
        server.Signal(AnycastDnsServer.SigHup);
        Assert.True(await server.WaitForAnswerAsync("edit.big.test.", "192.0.2.77", TimeSpan.FromSeconds(30)), server.Log);
        await Task.Delay(TimeSpan.FromSeconds(4));
        long reloaded = ResidentMiB(server.ProcessId);
        Assert.True(reloaded <= loaded * 6 / 5, $"{Names} names: {loaded} MiB resident after the load, {reloaded} MiB after a reload of one record more");
    }
}
