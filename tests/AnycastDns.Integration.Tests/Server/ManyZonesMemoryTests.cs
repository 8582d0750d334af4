using System.Globalization;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// A provider's PoP serves tens of thousands of small zones, and a zone costs what its records need: 10,000 zones of
/// ten records stay under 180 MiB of resident memory, about 1.5 times the 113-118 MiB measured (Release, Debug) (a fixed 64 KiB record block
/// per zone made that 1.2 GiB; the rate-limiting table copied whole by the collection after the load, 128 MiB). A
/// bound against regressions, not a benchmark: bench/compare.sh --zones measures.
/// </summary>
public sealed class ManyZonesMemoryTests : IDisposable
{
    private const int Zones = 10_000;

    private const long MostResidentMiB = 180;

    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-manyzones-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Ten_thousand_small_zones_are_all_served_in_under_180_MiB()
    {
        for (int i = 0; i < Zones; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(_folder, $"z{i}.example.zone"), string.Create(CultureInfo.InvariantCulture, $"""
                $TTL 3600
                @ SOA ns1 hostmaster {i + 1} 7200 3600 1209600 3600
                @ NS ns1
                @ NS ns2
                ns1 A 192.0.2.1
                ns2 A 192.0.2.2
                @ A 192.0.2.10
                www A 10.{i >> 8 & 255}.{i & 255}.11
                mail A 192.0.2.12
                @ MX 10 mail
                @ TXT "v=spf1 -all"

                """));
        }
        await using var server = await AnycastDnsServer.StartAsync(_folder, ["--no-watch"], ["127.0.0.1"]);
        // One line sums the load up: a line per zone overflowed the console logger's queue, which dropped lines
        // ("answering as" once, and this test timed out waiting for it).
        Assert.Contains($"{Zones} zones loaded or updated, {Zones * 10} records", server.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("records from", server.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("dropped because of queue size limit", server.Log, StringComparison.Ordinal);

        foreach (int i in new[] { 0, 1, Zones / 2, Zones - 1 })
        {
            var answer = await Kdig.QueryAsync(server.EndPoint, ["+time=2", "+retry=1", "+short", $"www.z{i}.example.", "A"]);
            Assert.Equal($"10.{i >> 8 & 255}.{i & 255}.11", answer.StandardOutput.Trim());
        }
        // The load's garbage is collected a second after the swap (ZoneReloader.ReturnLoadMemory).
        await Task.Delay(TimeSpan.FromSeconds(3));
        long residentKiB = long.Parse(File.ReadLines($"/proc/{server.ProcessId}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        Assert.True(residentKiB >> 10 < MostResidentMiB, $"{Zones} zones of ten records: {residentKiB >> 10} MiB resident, more than {MostResidentMiB} MiB");
    }
}
