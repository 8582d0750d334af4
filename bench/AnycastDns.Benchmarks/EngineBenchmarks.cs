using AnycastDns.Authority;
using AnycastDns.Protocol;
using BenchmarkDotNet.Attributes;

namespace AnycastDns.Benchmarks;

/// <summary>
/// One query answered end to end by <see cref="Responder.Respond"/>: parse, look up, write. Queries are encoded
/// once and the response buffer is reused, so Allocated must read 0 B (or "-") for every case.
/// </summary>
[MemoryDiagnoser]
public class EngineBenchmarks
{
    private readonly byte[] _response = new byte[Responder.MaxResponseSize];
    private Responder _responder = null!;
    private byte[] _exact = null!;
    private byte[] _additional = null!;
    private byte[] _nxDomain = null!;
    private byte[] _wildcard = null!;
    private byte[] _referral = null!;
    private byte[] _cnameChain = null!;
    private byte[] _ednsNsid = null!;
    private byte[] _chaosId = null!;

    /// <summary>Filler names in the zone besides the case names.</summary>
    [Params(10_000)]
    public int Hosts { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _responder = BenchZone.Responder(Hosts);
        _exact = BenchZone.Query("www.bench.test.", RecordType.A);
        _additional = BenchZone.Query("bench.test.", RecordType.MX);
        _nxDomain = BenchZone.Query("nothere.bench.test.", RecordType.A);
        _wildcard = BenchZone.Query("anything.wild.bench.test.", RecordType.A);
        _referral = BenchZone.Query("www.sub.bench.test.", RecordType.A);
        _cnameChain = BenchZone.Query("chain1.bench.test.", RecordType.A);
        _ednsNsid = BenchZone.Query("www.bench.test.", RecordType.A, edns: BenchZone.NsidRequest());
        _chaosId = BenchZone.Query("id.server.", RecordType.TXT, RecordClass.CH);
        // A case that answers nothing would measure the drop path, not the answer.
        foreach (var query in (byte[][])[_exact, _additional, _nxDomain, _wildcard, _referral, _cnameChain, _ednsNsid, _chaosId])
        {
            if (_responder.Respond(query, _response, Transport.Udp) == 0)
            {
                throw new InvalidOperationException("a benchmark query got no response");
            }
        }
    }

    [Benchmark(Baseline = true)]
    public int ExactA() => _responder.Respond(_exact, _response, Transport.Udp);

    [Benchmark]
    public int MxWithAdditional() => _responder.Respond(_additional, _response, Transport.Udp);

    [Benchmark]
    public int NxDomain() => _responder.Respond(_nxDomain, _response, Transport.Udp);

    [Benchmark]
    public int Wildcard() => _responder.Respond(_wildcard, _response, Transport.Udp);

    [Benchmark]
    public int Referral() => _responder.Respond(_referral, _response, Transport.Udp);

    [Benchmark]
    public int CnameChain() => _responder.Respond(_cnameChain, _response, Transport.Udp);

    [Benchmark]
    public int EdnsNsid() => _responder.Respond(_ednsNsid, _response, Transport.Udp);

    [Benchmark]
    public int ChaosIdServer() => _responder.Respond(_chaosId, _response, Transport.Udp);
}
