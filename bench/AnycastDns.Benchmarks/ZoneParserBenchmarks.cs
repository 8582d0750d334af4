using AnycastDns.Protocol;
using AnycastDns.Zones;
using BenchmarkDotNet.Attributes;

namespace AnycastDns.Benchmarks;

/// <summary>
/// Loading a generated zone: master-file parsing alone, parsing plus the zone model, and the whole file load.
/// This path runs off the query path and allocates by design; the numbers say how long a reload takes and how much
/// garbage it leaves.
/// </summary>
[MemoryDiagnoser]
public class ZoneParserBenchmarks
{
    private DnsName _origin = null!;
    private string _text = null!;
    private string _folder = null!;
    private string _path = null!;

    [Params(10_000)]
    public int Names { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _origin = DnsName.Parse(BenchZone.Origin);
        _text = BenchZone.Text(Names);
        _folder = Directory.CreateTempSubdirectory("anycastdns-bench-").FullName;
        _path = Path.Combine(_folder, BenchZone.Origin + "zone");
        File.WriteAllText(_path, _text);
        if (!ZoneLoader.LoadFile(_path).Succeeded)
        {
            throw new InvalidOperationException("generated zone does not load");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_folder, recursive: true);

    [Benchmark(Baseline = true)]
    public int ReadText() => ZoneFileReader.ReadText(_text, "bench.test.zone", _origin).Records.Count;

    [Benchmark]
    public int ReadTextAndBuild()
    {
        var parsed = ZoneFileReader.ReadText(_text, "bench.test.zone", _origin);
        var zone = ZoneBuilder.Build(_origin, parsed.Records, [], "bench.test.zone");
        return zone?.NodeCount ?? -1;
    }

    [Benchmark]
    public int LoadFile() => ZoneLoader.LoadFile(_path, _origin).Zone?.NodeCount ?? -1;
}
