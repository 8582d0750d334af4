using AnycastDns.Protocol;
using AnycastDns.Protocol.Tsig;
using AnycastDns.Server.Transfers;

namespace AnycastDns.Server.Tests.Transfers;

/// <summary>The TSIG keys file: BIND's syntax read as BIND writes it, and every problem one line naming file and line.</summary>
public sealed class TsigKeyFileTests
{
    private const string Secret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=";

    [Fact]
    public void Reads_what_tsig_keygen_writes_with_comments_and_several_keys()
    {
        // The form of `tsig-keygen -a hmac-sha256 transfer-key` (BIND 9.18), then more keys written by hand.
        string text = $$"""
            key "transfer-key" {
            	algorithm hmac-sha256;
            	secret "{{Secret}}";
            };
            # an old peer
            key legacy.example. { algorithm HMAC-SHA1; secret "{{Secret}}"; };
            // two more
            key "k384" { algorithm hmac-sha384; /* inline comment */ secret "{{Secret}}"; };
            key "k512" {
                secret "{{Secret}}";
                algorithm hmac-sha512.;
            };
            """;
        var keys = TsigKeyFile.Parse(text, "keys.conf");
        Assert.Equal(4, keys.Count);
        Assert.Equal(TsigAlgorithm.HmacSha256, keys.Find(DnsName.Parse("transfer-key."))!.Algorithm);
        Assert.Equal(TsigAlgorithm.HmacSha1, keys.Find(DnsName.Parse("LEGACY.example."))!.Algorithm);
        Assert.Equal(TsigAlgorithm.HmacSha384, keys.Find(DnsName.Parse("k384."))!.Algorithm);
        Assert.Equal(TsigAlgorithm.HmacSha512, keys.Find(DnsName.Parse("k512."))!.Algorithm);
        Assert.Null(keys.Find(DnsName.Parse("other.")));
    }

    [Theory]
    [InlineData("key \"k\" {\n algorithm hmac-md5;\n secret \"S\";\n};", "keys.conf:2: key 'k': unknown algorithm 'hmac-md5' (expected hmac-sha256, hmac-sha384, hmac-sha512 or hmac-sha1)")]
    [InlineData("key \"k\" {\n algorithm hmac-sha256;\n secret \"not base64!\";\n};", "keys.conf:3: key 'k': the secret is not base64")]
    [InlineData("key \"k\" {\n algorithm hmac-sha256;\n};", "keys.conf:1: key 'k' has no secret")]
    [InlineData("key \"k\" {\n secret \"S\";\n};", "keys.conf:1: key 'k' has no algorithm")]
    [InlineData("key \"k\" {\n algorithm hmac-sha256\n secret \"S\";\n};", "keys.conf:3: expected ';', found 'secret'")]
    [InlineData("key \"k\" { algorithm hmac-sha256; secret \"S\"; }", "keys.conf:1: the file ends where ';' was expected")]
    [InlineData("key \"k\" { algorithm hmac-sha256; secret \"S\"; };\nkey \"K.\" { algorithm hmac-sha256; secret \"S\"; };", "keys.conf:2: key 'K.' is defined twice (first on line 1)")]
    [InlineData("key \"k\" { algorithm hmac-sha256; secret \"S\"; owner x; };", "keys.conf:1: key 'k': unknown statement 'owner' (expected algorithm or secret)")]
    [InlineData("options { };", "keys.conf:1: expected 'key', found 'options'")]
    [InlineData("key \"k\" {\n secret \"S;\n};", "keys.conf:2: a quoted string does not end on its line")]
    [InlineData("# nothing here\n", "keys.conf: no key in the file (expected key \"name\" { algorithm hmac-sha256; secret \"...\"; };)")]
    [InlineData("/* open\n", "keys.conf:1: a /* comment does not end")]
    public void A_bad_file_is_one_line_naming_file_and_line(string text, string expected)
    {
        text = text.Replace("\"S\"", $"\"{Secret}\"", StringComparison.Ordinal);
        var e = Assert.Throws<ConfigurationException>(() => TsigKeyFile.Parse(text, "keys.conf"));
        Assert.Equal(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain(Secret, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_secret_that_is_almost_right_is_not_repeated()
    {
        string almost = Secret[..^2] + "!=";
        var e = Assert.Throws<ConfigurationException>(() => TsigKeyFile.Parse($"key k {{ algorithm hmac-sha256; secret \"{almost}\"; }};", "keys.conf"));
        Assert.DoesNotContain(almost, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret[..20], e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var e = Assert.Throws<ConfigurationException>(() => TsigKeyFile.Read("/nonexistent/keys.conf"));
        Assert.Equal("/nonexistent/keys.conf: no such TSIG keys file", e.Message);
    }

    [Theory]
    [InlineData("192.0.2.0/24", new byte[] { 192, 0, 2, 7 }, null, true)]
    [InlineData("192.0.2.0/24", new byte[] { 192, 0, 3, 7 }, null, false)]
    [InlineData("2001:db8::/48", new byte[] { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, null, true)]
    [InlineData("key:transfer-key", new byte[] { 192, 0, 2, 7 }, null, false)]
    [InlineData("key:transfer-key", new byte[] { 192, 0, 2, 7 }, "transfer-key.", true)]
    [InlineData("key:Transfer-Key.", new byte[] { 192, 0, 2, 7 }, "transfer-key.", true)]
    [InlineData("key:transfer-key", new byte[] { 192, 0, 2, 7 }, "other-key.", false)]
    public void The_allow_list_matches_addresses_and_keys(string entry, byte[] address, string? key, bool allowed)
    {
        var list = TransferAllowList.Parse([entry]);
        var tsigKey = key is null ? null : new TsigKey(DnsName.Parse(key), TsigAlgorithm.HmacSha256, [1, 2, 3]);
        Assert.Equal(allowed, list.Allows(address, tsigKey));
        Assert.False(TransferAllowList.Nobody.Allows(address, tsigKey));
    }

    [Theory]
    [InlineData("192.0.2.0/33")]
    [InlineData("key:")]
    [InlineData("example.com")]
    public void A_bad_allow_entry_is_named(string entry)
    {
        var e = Assert.Throws<FormatException>(() => TransferAllowList.Parse([entry]));
        Assert.Contains($"'{entry}'", e.Message, StringComparison.Ordinal);
    }
}
