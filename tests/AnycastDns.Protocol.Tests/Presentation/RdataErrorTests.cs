using AnycastDns.Protocol;
using AnycastDns.Protocol.Presentation;

namespace AnycastDns.Protocol.Tests.Presentation;

/// <summary>Every way RDATA text can be wrong names the token at fault and what was expected there.</summary>
public class RdataErrorTests
{
    private static readonly DnsName Origin = DnsName.Parse("example.test.");

    private static PresentationException Fail(string type, string text)
    {
        Assert.True(RecordTypeNames.TryParseType(type, out var t));
        return Assert.Throws<PresentationException>(() => RdataPresentation.Parse(t, text, Origin));
    }

    [Theory]
    // Addresses.
    [InlineData("A", "1.2.3", 0, "expected an IPv4 address, got '1.2.3'")]
    [InlineData("A", "256.1.1.1", 0, "expected an IPv4 address, got '256.1.1.1'")]
    [InlineData("A", "01.2.3.4", 0, "expected an IPv4 address")]
    [InlineData("A", "1.2.3.4.5", 0, "expected an IPv4 address")]
    [InlineData("A", "1.2.3.4 5", 1, "unexpected '5' after the end of the A data")]
    [InlineData("A", "", 0, "expected an IPv4 address, but the record ends here")]
    [InlineData("A", "\"1.2.3.4\"", 0, "got the quoted string \"1.2.3.4\"")]
    [InlineData("AAAA", "1.2.3.4", 0, "expected an IPv6 address, got '1.2.3.4'")]
    [InlineData("AAAA", "::1%eth0", 0, "expected an IPv6 address")]
    [InlineData("AAAA", "[::1]", 0, "expected an IPv6 address")]
    [InlineData("AAAA", "1::2::3", 0, "expected an IPv6 address")]
    [InlineData("AAAA", "::ffff:1.2.3", 0, "expected an IPv6 address")]
    [InlineData("AAAA", "2001:db8::12345", 0, "expected an IPv6 address")]
    [InlineData("L32", "10 1.2.3", 1, "expected a 32-bit locator in IPv4 form")]
    // Numbers and names.
    [InlineData("MX", "mail.example.", 0, "expected a preference (0-65535), got 'mail.example.'")]
    [InlineData("MX", "65536 mail", 0, "expected a preference (0-65535), got '65536'")]
    [InlineData("MX", "-1 mail", 0, "expected a preference (0-65535)")]
    [InlineData("MX", "10", 1, "expected a mail exchange's domain name, but the record ends here")]
    [InlineData("MX", "10 a..b", 1, "empty label")]
    [InlineData("MX", "10 \"mail\"", 1, "got the quoted string")]
    [InlineData("NS", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.", 0, "label longer than 63 octets")]
    [InlineData("SRV", "1 2 70000 t.", 2, "expected a port (0-65535), got '70000'")]
    [InlineData("SOA", "ns hm 4294967296 1 2 3 4", 2, "expected a serial number (0-4294967295), got '4294967296'")]
    [InlineData("SOA", "ns hm 1 1h30 2 3 4", 3, "a number without a unit follows the units")]
    [InlineData("SOA", "ns hm 1 1x 2 3 4", 3, "'x' is not a time unit")]
    [InlineData("SOA", "ns hm 1 2 3 4", 6, "expected a minimum (negative caching) TTL, but the record ends here")]
    [InlineData("SOA", "ns hm 1 2 3 4 100000w", 6, "does not fit in 32 bits")]
    // Character-strings.
    [InlineData("TXT", "abc\\", 0, "a backslash ends the text")]
    [InlineData("TXT", "\"\\12x\"", 0, "exactly three decimal digits")]
    [InlineData("TXT", "\\256", 0, "above 255")]
    [InlineData("TXT", "", 0, "expected a character-string, but the record ends here")]
    [InlineData("HINFO", "\"PC\"", 1, "expected an operating system (character-string), but the record ends here")]
    [InlineData("NAPTR", "1 2 \"S\" \"x\" \"\"", 5, "expected a replacement domain name, but the record ends here")]
    [InlineData("CAA", "0 is-sue \"x\"", 1, "expected a property tag (letters and digits, such as issue), got 'is-sue'")]
    [InlineData("CAA", "256 issue \"x\"", 0, "expected flags (0-255)")]
    [InlineData("CAA", "0 issue", 2, "expected a property value, but the record ends here")]
    [InlineData("URI", "10 1 \"\"", 2, "the URI target is empty")]
    // DNSSEC.
    [InlineData("DS", "1 13 2 xyz0", 3, "'x' is not a hex digit")]
    [InlineData("DS", "1 13 2 abc", 3, "odd number of hex digits")]
    [InlineData("DS", "1 13 2", 3, "expected a digest, but the record ends here")]
    [InlineData("DS", "1 NOSUCHALG 2 ab", 1, "expected an algorithm (0-255 or a mnemonic such as ECDSAP256SHA256), got 'NOSUCHALG'")]
    [InlineData("DNSKEY", "257 3 13 ab$c", 3, "'$' is not a base64 character")]
    [InlineData("DNSKEY", "257 3 13 abc", 3, "its length or padding is wrong")]
    [InlineData("DNSKEY", "257 3 13", 3, "expected a public key, but the record ends here")]
    [InlineData("RRSIG", "FOO 13 2 60 1 1 1 . AA==", 0, "expected the type covered, got 'FOO'")]
    [InlineData("RRSIG", "A 13 2 60 20241301000000 1 1 . AA==", 4, "expected a signature expiration (YYYYMMDDHHmmSS or seconds since 1970)")]
    [InlineData("RRSIG", "A 13 2 60 1 2024010100000 1 . AA==", 5, "expected a signature inception")]
    [InlineData("RRSIG", "A 13 2 60 1 20240230000000 1 . AA==", 5, "expected a signature inception")]
    [InlineData("NSEC", "next A FOO", 2, "expected a record type (a mnemonic or TYPEnnn), got 'FOO'")]
    [InlineData("NSEC3", "1 0 0 xyz 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR", 3, "expected a salt (hex digits, or - for none)")]
    [InlineData("NSEC3", "1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJ=", 4, "padding is not used")]
    [InlineData("NSEC3", "1 0 0 - 2W", 4, "'W' is not a base32hex digit")]
    [InlineData("NSEC3", "1 0 0 - 2T7", 4, "length or trailing bits")]
    [InlineData("NSEC3", "1 0 0 - 21", 4, "length or trailing bits")]
    [InlineData("NSEC3PARAM", "1 0 0 abc", 3, "expected a salt")]
    [InlineData("ZONEMD", "1 1 1 00112233445566778899aa", 3, "a digest is 11 octets long; at least 12 expected")]
    [InlineData("CSYNC", "1 3 A BOGUS", 3, "expected a record type")]
    [InlineData("EUI48", "00-00-5e-00-53", 0, "expected an EUI-48 address (xx-xx-xx-xx-xx-xx), got '00-00-5e-00-53'")]
    [InlineData("EUI48", "00:00:5e:00:53:2a", 0, "expected an EUI-48 address")]
    [InlineData("EUI64", "00-00-5e-ef-10-00-00-zz", 0, "expected an EUI-64 address")]
    // LOC (RFC 1876 §3).
    [InlineData("LOC", "91 N 0 E 0", 0, "expected the latitude degrees (0-90), got '91'")]
    [InlineData("LOC", "90 1 N 0 E 0", 2, "the latitude is beyond 90 degrees")]
    [InlineData("LOC", "52 60 N 4 E 0", 1, "expected the latitude minutes (0-59) or N or S, got '60'")]
    [InlineData("LOC", "52 22 60 N 4 E 0", 2, "expected the latitude seconds (0-59.999) or N or S, got '60'")]
    [InlineData("LOC", "52 22 1.2345 N 4 E 0", 2, "expected the latitude seconds")]
    [InlineData("LOC", "52 22 1 X 4 E 0", 3, "expected N or S, got 'X'")]
    [InlineData("LOC", "52 N 4 X 0", 3, "expected the longitude minutes (0-59) or E or W, got 'X'")]
    [InlineData("LOC", "52 N 181 E 0", 2, "expected the longitude degrees (0-180)")]
    [InlineData("LOC", "52 N 4 E", 4, "expected an altitude in metres (-100000.00 to 42849672.95), but the record ends here")]
    [InlineData("LOC", "52 N 4 E 1.234m", 4, "expected an altitude")]
    [InlineData("LOC", "52 N 4 E -100000.01m", 4, "expected an altitude")]
    [InlineData("LOC", "52 N 4 E 0 -1m", 5, "expected a size in metres (0 to 90000000.00)")]
    [InlineData("LOC", "52 N 4 E 0 1m 90000000.01m", 6, "expected a horizontal precision")]
    [InlineData("LOC", "52 N 4 E 0 1m 1m 1m 1m", 8, "unexpected '1m' after the end of the LOC data")]
    // RFC 3597 generic form.
    [InlineData("TYPE65300", "01020304", 0, "TYPE65300 has no presentation format known here; write its RDATA in the RFC 3597 form \\# <length> <hex>")]
    [InlineData("NULL", "abc", 0, "RFC 3597 form")]
    [InlineData("TYPE65300", "\\# 4 0102", 1, "\\# announces 4 octets but 2 follow")]
    [InlineData("TYPE65300", "\\# x", 1, "expected the RDATA length in octets (0-65535) after \\#, got 'x'")]
    [InlineData("TYPE65300", "\\# 70000 00", 1, "expected the RDATA length")]
    [InlineData("TYPE65300", "\\# 2 0g0a", 2, "'g' is not a hex digit")]
    [InlineData("TYPE65300", "\\#", 1, "expected the RDATA length in octets (0-65535) after \\#, but the record ends here")]
    [InlineData("A", "\\# 3 010203", 0, "the \\# octets are not well-formed A RDATA")]
    [InlineData("MX", "\\# 3 000ac0", 0, "not well-formed MX RDATA")]
    public void Reports_the_token_and_what_was_expected(string type, string text, int tokenIndex, string message)
    {
        var e = Fail(type, text);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.Equal(tokenIndex, e.TokenIndex);
    }

    /// <summary>RFC 9460 Appendix D.3 failure cases, and more of §2 and §7-8.</summary>
    [Theory]
    [InlineData("1 foo.example.com. key123=abc key123=def", 3, "the SvcParam key123 appears more than once")]
    [InlineData("1 foo.example.com. mandatory", 2, "mandatory needs a value")]
    [InlineData("1 foo.example.com. alpn", 2, "alpn needs a value")]
    [InlineData("1 foo.example.com. port", 2, "port needs a value")]
    [InlineData("1 foo.example.com. ipv4hint", 2, "ipv4hint needs a value")]
    [InlineData("1 foo.example.com. ipv6hint", 2, "ipv6hint needs a value")]
    [InlineData("1 foo.example.com. no-default-alpn=abc", 2, "no-default-alpn takes no value")]
    [InlineData("1 foo.example.com. mandatory=key123", 2, "mandatory lists key123, which the record does not have")]
    [InlineData("1 foo.example.com. mandatory=mandatory", 2, "mandatory must not list itself")]
    [InlineData("1 foo.example.com. mandatory=key123,key123 key123=abc", 2, "mandatory lists key123 twice")]
    [InlineData("1 . foo=bar", 2, "unknown SvcParam key 'foo'")]
    [InlineData("1 . ALPN=h2", 2, "unknown SvcParam key 'ALPN'")]
    [InlineData("1 . key65535=x", 2, "unknown SvcParam key 'key65535'")]
    [InlineData("1 . port=abc", 2, "expected a port number (0-65535) for port, got 'abc'")]
    [InlineData("1 . port=65536", 2, "expected a port number")]
    [InlineData("1 . ipv4hint=1.2.3", 2, "expected IPv4 addresses separated by commas for ipv4hint, got '1.2.3'")]
    [InlineData("1 . ipv4hint=1.2.3.4,", 2, "got ''")]
    [InlineData("1 . ipv6hint=1.2.3.4", 2, "expected IPv6 addresses")]
    [InlineData("1 . ech=!!", 2, "expected base64 for ech")]
    [InlineData("1 . alpn=h2 dohpath=/dns-query", 3, "dohpath must be a relative URI template")]
    [InlineData("1 . alpn=h2 dohpath=dns{?dns}", 3, "dohpath must be a relative URI template")]
    [InlineData("1 . no-default-alpn", 2, "no-default-alpn needs an alpn parameter beside it")]
    [InlineData("1 . alpn=", 2, "alpn needs a value")]
    [InlineData("1 . alpn=a,,b", 2, "alpn has an empty protocol id")]
    [InlineData("1 . alpn=a\\\\", 2, "alpn ends with a lone backslash")]
    [InlineData("1 . key1=\"\\001\"", 2, "the value of key1 is not a well-formed alpn value")]
    [InlineData("1 . key3=\"\\001\"", 2, "not a well-formed port value")]
    [InlineData("1 . \"alpn=h2\"", 2, "expected a SvcParam (key=value), got the quoted string")]
    [InlineData("1 . key7=\"\\1\"", 2, "the value of key7: a \\DDD escape needs exactly three decimal digits")]
    [InlineData("1", 1, "expected a target name, but the record ends here")]
    public void Svcb_rejects_what_rfc_9460_forbids(string text, int tokenIndex, string message)
    {
        var e = Fail("SVCB", text);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.Equal(tokenIndex, e.TokenIndex);
    }

    [Fact]
    public void A_character_string_over_255_octets_is_refused()
    {
        var e = Fail("TXT", "ok \"" + new string('x', 256) + "\"");
        Assert.Equal(1, e.TokenIndex);
        Assert.Contains("is 256 octets long; a character-string holds at most 255", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rdata_over_65535_octets_is_refused()
    {
        string text = string.Join(' ', Enumerable.Repeat("\"" + new string('x', 255) + "\"", 258));
        var e = Fail("TXT", text);
        Assert.Contains("at most 65535 fit", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_tokens_are_shortened_in_messages()
    {
        var e = Fail("A", new string('9', 100));
        Assert.Contains("'" + new string('9', 48) + "...'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unbalanced_text_is_refused_by_the_splitter()
    {
        Assert.Throws<PresentationException>(() => RdataPresentation.Parse(RecordType.TXT, "\"open", Origin));
        Assert.Throws<PresentationException>(() => RdataPresentation.Parse(RecordType.TXT, "( a", Origin));
        Assert.Throws<PresentationException>(() => RdataPresentation.Parse(RecordType.TXT, "a )", Origin));
        var e = Assert.Throws<PresentationException>(() => RdataPresentation.Parse(RecordType.TXT, "a\nb", Origin));
        Assert.Contains("more than one entry", e.Message, StringComparison.Ordinal);
    }
}
