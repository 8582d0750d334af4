using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.Server.Anycast;
using AnycastDns.Zones;

namespace AnycastDns.Server.Tests.Anycast;

/// <summary>
/// Past <see cref="SelfCheck.WireZonesAtMost"/> zones the first self-check asks every zone of the answer engine itself:
/// a zone the engine does not answer with the serial loaded keeps the PoP unannounced, as a wrong answer over the wire
/// would. (No listen addresses here: only the in-process part runs.)
/// </summary>
public sealed class SelfCheckTests
{
    private const int Zones = SelfCheck.WireZonesAtMost + 5;

    private static Zone SmallZone(int i, uint serial)
    {
        var origin = DnsName.Parse($"z{i}.example.");
        var parsed = ZoneFileReader.ReadText($"@ 300 IN SOA ns1 h {serial} 3600 600 86400 300\n@ 300 IN NS ns1\nns1 300 IN A 192.0.2.1\n", "z.zone", origin);
        return ZoneBuilder.Build(origin, parsed.Records, [], "z.zone")!;
    }

    private static ZoneSet Set(Func<int, uint> serial) => new(Enumerable.Range(0, Zones).Select(i => SmallZone(i, serial(i))));

    [Fact]
    public async Task Every_zone_answered_with_its_serial_passes()
    {
        var loaded = Set(_ => 7);
        var check = new SelfCheck(new ServerOptions { PopId = "t" }, responder: () => new Responder(loaded, new ResponderOptions { PopId = "t" }));
        Assert.Null(await check.RunAsync([], loaded, int.MaxValue, CancellationToken.None));
    }

    [Fact]
    public async Task A_zone_the_engine_answers_with_another_serial_fails_naming_it()
    {
        var loaded = Set(_ => 7);
        // What the engine serves differs from what was loaded in one zone in the middle of the list, which the wire
        // sample (every second zone here) would skip.
        var served = Set(i => i == 501 ? 6u : 7u);
        var check = new SelfCheck(new ServerOptions { PopId = "t" }, responder: () => new Responder(served, new ResponderOptions { PopId = "t" }));
        var problem = await check.RunAsync([], loaded, int.MaxValue, CancellationToken.None);
        Assert.Equal("in-process: SOA of z501.example. did not come back authoritative with serial 7 (NoError)", problem);
    }
}
