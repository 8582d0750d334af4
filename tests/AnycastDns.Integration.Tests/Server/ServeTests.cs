using System.Net;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>One real server on the test zones, asked by kdig over UDP and TCP, IPv4 and IPv6, with and without EDNS.</summary>
public sealed class ServeTests(ServeTests.Fixture server) : IClassFixture<ServeTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        public AnycastDnsServer Server { get; private set; } = null!;

        public async Task InitializeAsync() => Server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones);

        public async Task DisposeAsync() => await Server.DisposeAsync();
    }

    public static TheoryData<string, string> Transports => new()
    {
        { "127.0.0.1", "+notcp +edns" },
        { "127.0.0.1", "+tcp +edns" },
        { "::1", "+notcp +edns" },
        { "::1", "+tcp +edns" },
        { "127.0.0.1", "+noedns" },
        { "::1", "+tcp +noedns" },
    };

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Kdig_gets_the_zone_answer_over_every_transport(string address, string flags)
    {
        var result = await Kdig.QueryAsync(new IPEndPoint(IPAddress.Parse(address), server.Server.Port), ["www.example.test", "A", .. flags.Split(' ')]);
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("status: NOERROR", result.Output, StringComparison.Ordinal);
        Assert.Contains("Flags: qr aa", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"www\.example\.test\.\s+3600\s+IN\s+A\s+192\.0\.2\.80", result.Output);
        Assert.Equal(flags.Contains("noedns", StringComparison.Ordinal), !result.Output.Contains("EDNS PSEUDOSECTION", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("id.server")]
    [InlineData("hostname.bind")]
    [InlineData("ID.SERVER")]
    public async Task Chaos_identity_names_the_pop(string name)
    {
        var result = await Kdig.QueryAsync(server.Server.EndPoint, ["-c", "CH", name, "TXT"]);
        Assert.Contains("status: NOERROR", result.Output, StringComparison.Ordinal);
        Assert.Matches("(?i)" + name.Replace(".", @"\.", StringComparison.Ordinal) + @"\.\s+0\s+CH\s+TXT\s+""test-pop""", result.Output);
    }

    [Theory]
    [InlineData("version.bind")]
    [InlineData("version.server")]
    [InlineData("authors.bind")]
    public async Task Chaos_without_a_version_string_is_refused(string name)
    {
        var result = await Kdig.QueryAsync(server.Server.EndPoint, ["-c", "CH", name, "TXT", "+tcp"]);
        Assert.Contains("status: REFUSED", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nsid_request_gets_the_pop_identity_over_udp_and_tcp()
    {
        foreach (var transport in new[] { "+notcp", "+tcp" })
        {
            var result = await Kdig.QueryAsync(server.Server.EndPointV6, ["example.test", "SOA", "+nsid", transport]);
            Assert.Contains("NSID: 746573742D706F70 \"test-pop\"", result.Output, StringComparison.Ordinal);
            var plain = await Kdig.QueryAsync(server.Server.EndPointV6, ["example.test", "SOA", transport]);
            Assert.DoesNotContain("NSID", plain.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Names_outside_every_zone_are_refused()
    {
        var result = await Kdig.QueryAsync(server.Server.EndPoint, ["www.example.org", "A"]);
        Assert.Contains("status: REFUSED", result.Output, StringComparison.Ordinal);
    }
}
