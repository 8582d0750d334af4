using AnycastDns.Server.Dnstap;
using Microsoft.Extensions.Configuration;

namespace AnycastDns.Server.Tests.Dnstap;

/// <summary>The <c>Dnstap:*</c> keys: defaults, parsing, and one line naming the key of each bad value.</summary>
public sealed class DnstapOptionsTests
{
    private static DnstapOptions Options(params (string Key, string Value)[] pairs) =>
        DnstapOptions.FromConfiguration(new ConfigurationBuilder()
            .AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)))
            .Build());

    [Fact]
    public void Off_by_default_and_everything_sent_once_on()
    {
        Assert.False(Options().Enabled);
        var on = Options(("Dnstap:Socket", "/run/dnstap.sock"));
        Assert.True(on.Enabled);
        Assert.True(on.LogQueries && on.LogResponses);
        Assert.Equal(1, on.OneIn);
        Assert.Equal(DnstapResponses.All, on.Responses);
        Assert.Equal("127.0.0.1:6000", Options(("Dnstap:Tcp", "127.0.0.1:6000")).Tcp!.ToString());
        Assert.Equal(DnstapResponses.Refused | DnstapResponses.Limited, Options(("Dnstap:Responses:0", "refused"), ("Dnstap:Responses:1", "Limited")).Responses);
        Assert.Equal(DnstapResponses.NxDomain | DnstapResponses.Error, Options(("Dnstap:Responses", "nxdomain, error")).Responses);
    }

    [Fact]
    public void A_bad_value_is_one_line_naming_its_key()
    {
        Assert.Equal("Dnstap:Tcp: 'collector:6000' is not an ip:port (such as 127.0.0.1:6000 or [::1]:6000)",
            Assert.Throws<ConfigurationException>(() => Options(("Dnstap:Tcp", "collector:6000"))).Message);
        Assert.Equal("Dnstap:Socket and Dnstap:Tcp are both given; dnstap goes to one collector",
            Assert.Throws<ConfigurationException>(() => Options(("Dnstap:Socket", "/s"), ("Dnstap:Tcp", "127.0.0.1:6000"))).Message);
        Assert.Equal("Dnstap:OneIn: '0' is not a whole number from 1 to 1000000000",
            Assert.Throws<ConfigurationException>(() => Options(("Dnstap:OneIn", "0"))).Message);
        Assert.Equal($"Dnstap:Responses: 'rude' is not one of {DnstapResponseClasses.Names}",
            Assert.Throws<ConfigurationException>(() => Options(("Dnstap:Responses", "rude"))).Message);
        Assert.Equal("Dnstap:LogQueries and Dnstap:LogResponses are both false; nothing would be sent",
            Assert.Throws<ConfigurationException>(() => Options(("Dnstap:Socket", "/s"), ("Dnstap:LogQueries", "no"), ("Dnstap:LogResponses", "false"))).Message);
        Assert.Equal("Dnstap:LogQueries: 'maybe' is not true or false",
            Assert.Throws<ConfigurationException>(() => Options(("Dnstap:LogQueries", "maybe"))).Message);
    }
}
