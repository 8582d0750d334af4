using AnycastDns.Server;
using AnycastDns.Server.Secondary;
using Microsoft.Extensions.Configuration;

namespace AnycastDns.Server.Tests.Secondary;

/// <summary><c>Secondary:Catalogs</c>: the JSON form with Groups, the command-line string, and one line naming the key per bad value.</summary>
public sealed class SecondaryOptionsTests
{
    [Fact]
    public void Catalogs_in_both_forms_with_groups()
    {
        var options = Options(
            ("Secondary:StateFolder", "/var/lib/anycastdns"),
            ("Secondary:Catalogs:0:Origin", "catalog.invalid"),
            ("Secondary:Catalogs:0:Primaries:0", "192.0.2.1:53 key:xfr"),
            ("Secondary:Catalogs:0:Groups:far:0", "[2001:db8::1]:5353"),
            ("Secondary:Catalogs:0:Groups:near", "192.0.2.7; 192.0.2.8:54"),
            ("Secondary:Catalogs:1", "second.invalid. 198.51.100.1:53; 198.51.100.2"));
        Assert.True(options.Enabled);
        Assert.Equal(2, options.Catalogs.Count);
        var first = options.Catalogs[0];
        Assert.Equal("catalog.invalid.", first.Origin.ToString());
        Assert.Equal("xfr.", first.Primaries[0].KeyName!.ToString());
        Assert.Equal(5353, first.Groups["far"][0].EndPoint.Port);
        Assert.Equal(2, first.Groups["near"].Count);
        Assert.Equal(2, options.Catalogs[1].Primaries.Count);
        Assert.Empty(options.Zones);
    }

    [Theory]
    [InlineData("Secondary:Catalogs:0", "catalog.invalid.", "Secondary:Catalogs:0: zone catalog.invalid. has no primaries")]
    [InlineData("Secondary:Catalogs:0", "bad..name 192.0.2.1", "Secondary:Catalogs:0: 'bad..name' is not a zone origin")]
    [InlineData("Secondary:Catalogs:0", "catalog.invalid. 192.0.2.300", "Secondary:Catalogs:0: primary '192.0.2.300'")]
    [InlineData("Secondary:Catalogs:0:Groups:far:0", "nowhere", "Secondary:Catalogs:0:Groups:far: primary 'nowhere'")]
    public void A_bad_value_is_one_line_naming_the_key(string key, string value, string message)
    {
        var pairs = new List<(string, string)> { ("Secondary:StateFolder", "/tmp/x"), (key, value) };
        if (key.Contains("Groups", StringComparison.Ordinal))
        {
            pairs.Add(("Secondary:Catalogs:0:Origin", "catalog.invalid."));
            pairs.Add(("Secondary:Catalogs:0:Primaries:0", "192.0.2.1"));
        }
        var error = Assert.Throws<ConfigurationException>(() => Options([.. pairs]));
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_catalog_that_is_also_a_secondary_zone_or_without_a_state_folder_is_refused()
    {
        var twice = Assert.Throws<ConfigurationException>(() => Options(("Secondary:StateFolder", "/tmp/x"),
            ("Secondary:Zones:0", "example.net. 192.0.2.1"), ("Secondary:Catalogs:0", "example.net. 192.0.2.1")));
        Assert.Equal("Secondary:Catalogs:0: zone example.net. is configured twice", twice.Message);
        var noState = Assert.Throws<ConfigurationException>(() => Options(("Secondary:Catalogs:0", "catalog.invalid. 192.0.2.1")));
        Assert.StartsWith("Secondary:StateFolder: required", noState.Message, StringComparison.Ordinal);
        var keyless = Assert.Throws<ConfigurationException>(() => SecondaryOptions.FromConfiguration(Build(("Secondary:StateFolder", "/tmp/x"),
            ("Secondary:Catalogs:0", "catalog.invalid. 192.0.2.1 key:xfr")), keysFile: null));
        Assert.StartsWith("Secondary:Catalogs:0: '192.0.2.1:53 key:xfr.' names a TSIG key", keyless.Message, StringComparison.Ordinal);
    }

    private static SecondaryOptions Options(params (string Key, string Value)[] pairs) => SecondaryOptions.FromConfiguration(Build(pairs), "/keys");

    private static IConfiguration Build(params (string Key, string Value)[] pairs) => new ConfigurationBuilder()
        .AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)))
        .Build();
}
