using System.Net;
using AnycastDns.Server;
using AnycastDns.Server.Transfers;
using Microsoft.Extensions.Configuration;

namespace AnycastDns.Server.Tests.Transfers;

/// <summary><c>Transfers:Notify</c> entries and the other NOTIFY keys, as read from configuration.</summary>
public sealed class NotifyTargetTests
{
    [Theory]
    [InlineData("192.0.2.53", "192.0.2.53:53", null)]
    [InlineData("192.0.2.53:5353", "192.0.2.53:5353", null)]
    [InlineData("2001:db8::53", "[2001:db8::53]:53", null)]
    [InlineData("[2001:db8::53]:5353", "[2001:db8::53]:5353", null)]
    [InlineData("[2001:db8::53]", "[2001:db8::53]:53", null)]
    [InlineData("127.0.0.1:5300 key:XFR-key", "127.0.0.1:5300", "xfr-key.")]
    public void Entries_name_an_address_a_port_53_by_default_and_optionally_a_key(string entry, string endPoint, string? key)
    {
        var target = NotifyTarget.Parse(entry);
        Assert.Equal(IPEndPoint.Parse(endPoint), target.EndPoint);
        Assert.Equal(key, target.KeyName?.ToString());
    }

    [Theory]
    [InlineData("192.0.2", "'192.0.2' is not an IP address")]
    [InlineData("192.0.2.53:0", "'0' is not a port number (1-65535)")]
    [InlineData("192.0.2.53:99999", "'99999' is not a port number")]
    [InlineData("[2001:db8::53]5353", "expected [ipv6]:port")]
    [InlineData("192.0.2.53 xfr-key", "'xfr-key' does not name a TSIG key (expected key:<name>)")]
    [InlineData("192.0.2.53 key:", "does not name a TSIG key")]
    [InlineData("0.0.0.0", "a wildcard address names no secondary")]
    [InlineData("192.0.2.53 key:a key:b", "expected ip[:port]")]
    public void A_bad_entry_is_one_line_naming_it(string entry, string problem)
    {
        var e = Assert.Throws<ConfigurationException>(() => Options(("Transfers:Notify:0", entry)));
        Assert.StartsWith($"Transfers:Notify: '{entry}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void One_environment_value_lists_several_targets_and_the_other_keys_are_range_checked()
    {
        var options = Options(("Transfers:Notify", "192.0.2.53, 192.0.2.54:5300"), ("Transfers:NotifyAttempts", "3"), ("Transfers:NotifyIntervalSeconds", "0.5"),
            ("Transfers:NotifySource", "192.0.2.1"));
        Assert.Equal(["192.0.2.53:53", "192.0.2.54:5300"], options.Notify.Select(n => n.ToString()));
        Assert.Equal(3, options.NotifyAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.NotifyInterval);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), options.NotifySource);

        var defaults = Options();
        Assert.Empty(defaults.Notify);
        Assert.Equal(5, defaults.NotifyAttempts);
        Assert.Equal(TimeSpan.FromSeconds(15), defaults.NotifyInterval);
        Assert.Null(defaults.NotifySource);

        Assert.Equal("Transfers:NotifyAttempts: '0' is not a whole number from 1 to 100",
            Assert.Throws<ConfigurationException>(() => Options(("Transfers:NotifyAttempts", "0"))).Message);
        Assert.StartsWith("Transfers:NotifyIntervalSeconds: '0' is not a number",
            Assert.Throws<ConfigurationException>(() => Options(("Transfers:NotifyIntervalSeconds", "0"))).Message, StringComparison.Ordinal);
        Assert.Equal("Transfers:NotifySource: 'pop1' is not an IP address",
            Assert.Throws<ConfigurationException>(() => Options(("Transfers:NotifySource", "pop1"))).Message);
        Assert.Equal("Transfers:NotifySource: 192.0.2.1 cannot send to [2001:db8::53]:53 (another address family)",
            Assert.Throws<ConfigurationException>(() => Options(("Transfers:NotifySource", "192.0.2.1"), ("Transfers:Notify:0", "2001:db8::53"))).Message);
        Assert.Equal("Transfers:Notify: '192.0.2.53:53 key:xfr-key.' names a TSIG key, but there is no Transfers:KeysFile",
            Assert.Throws<ConfigurationException>(() => Options(("Transfers:Notify:0", "192.0.2.53 key:xfr-key"))).Message);
    }

    private static TransferOptions Options(params (string Key, string Value)[] pairs) =>
        TransferOptions.FromConfiguration(new ConfigurationBuilder()
            .AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)))
            .Build());
}
