using AnycastDns.Protocol;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.ReferenceServers;

public sealed class NsdServerTests(NsdOnTestZones nsd) : ReferenceServerContract, IClassFixture<NsdOnTestZones>
{
    protected override ReferenceServer Server => nsd.Server;

    [Fact]
    public async Task Its_configuration_passes_nsd_checkconf()
    {
        var result = await ExternalTool.RunAsync("/usr/sbin/nsd-checkconf", [Server.ConfigurationFile], TimeSpan.FromSeconds(15));

        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Fact]
    public async Task By_default_it_adds_the_apex_NS_to_a_positive_answer_and_with_minimal_responses_it_does_not()
    {
        byte[] query = DnsMessage.CreateQuery(DnsName.Parse("www.example.test."), RecordType.A, id: 3).Encode();
        await using var minimal = await NsdServer.StartAsync(RepositoryPaths.TestZones, minimalResponses: true, CancellationToken.None);

        var stock = DnsMessage.Parse(await DnsWire.QueryUdpAsync(Server.EndPoint, query, 2000));
        var minimized = DnsMessage.Parse(await DnsWire.QueryUdpAsync(minimal.EndPoint, query, 2000));

        Assert.Equal([RecordType.NS, RecordType.NS], stock.Authority.Select(r => r.Type));
        Assert.Empty(minimized.Authority);
        Assert.Single(minimized.Answers);
    }
}
