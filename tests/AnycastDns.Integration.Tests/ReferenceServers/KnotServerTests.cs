using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.ReferenceServers;

public sealed class KnotServerTests(KnotOnTestZones knot) : ReferenceServerContract, IClassFixture<KnotOnTestZones>
{
    protected override ReferenceServer Server => knot.Server;

    [Fact]
    public async Task Its_configuration_passes_knotc_conf_check()
    {
        var result = await ExternalTool.RunAsync("/usr/sbin/knotc", ["-c", Server.ConfigurationFile, "conf-check"], TimeSpan.FromSeconds(15));

        Assert.True(result.ExitCode == 0, result.Output);
    }
}
