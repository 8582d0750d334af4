using AnycastDns.Protocol;
using AnycastDns.Protocol.Presentation;

namespace AnycastDns.Protocol.Tests.Presentation;

/// <summary>
/// Text to wire to text for every type. The expected wire octets were produced once by dnspython 2.3
/// (<c>dns.rdata.from_text(...).to_wire()</c>; MINFO, which it lacks, by hand) and the expected text was checked
/// against kdig and dig output for the same wire data (dig differs only in splitting long hex and base64 with blanks).
/// The SVCB rows under "RFC 9460 App. D" are the RFC's own test vectors.
/// </summary>
public class RdataRoundTripTests
{
    private static readonly DnsName Origin = DnsName.Parse("example.test.");

    public static TheoryData<string, string, string, string> Cases => new()
    {
        // type, input text, wire octets (hex), canonical output text
        { "A", "192.0.2.1", "c0000201", "192.0.2.1" },
        { "AAAA", "2001:db8::1", "20010db8000000000000000000000001", "2001:db8::1" },
        { "AAAA", "::ffff:192.0.2.1", "00000000000000000000ffffc0000201", "::ffff:192.0.2.1" },
        { "AAAA", "::", "00000000000000000000000000000000", "::" },
        { "AAAA", "2001:db8:0:0:1:0:0:1", "20010db8000000000001000000000001", "2001:db8::1:0:0:1" },
        { "AAAA", "2001:DB8::A:0", "20010db80000000000000000000a0000", "2001:db8::a:0" },
        { "AAAA", "::1.2.3.4", "00000000000000000000000001020304", "::1.2.3.4" },
        { "AAAA", "fe80:0:0:0:1:2:3:4", "fe800000000000000001000200030004", "fe80::1:2:3:4" },
        { "AAAA", "2001:db8:122:344::192.0.2.33", "20010db80122034400000000c0000221", "2001:db8:122:344::c000:221" },
        { "NS", "ns1", "036e7331076578616d706c65047465737400", "ns1.example.test." },
        { "CNAME", "www.example.com.", "03777777076578616d706c6503636f6d00", "www.example.com." },
        { "DNAME", "other.test.", "056f74686572047465737400", "other.test." },
        { "PTR", "host.example.test.", "04686f7374076578616d706c65047465737400", "host.example.test." },
        { "SOA", "ns1 hostmaster ( 2024010101 2h 1h 2w 5m )", "036e7331076578616d706c650474657374000a686f73746d6173746572076578616d706c6504746573740078a3f17500001c2000000e10001275000000012c", "ns1.example.test. hostmaster.example.test. 2024010101 7200 3600 1209600 300" },
        { "SOA", "ns1.example.test. host\\.master.example.test. 1 2 3 4 5", "036e7331076578616d706c650474657374000b686f73742e6d6173746572076578616d706c650474657374000000000100000002000000030000000400000005", "ns1.example.test. host\\.master.example.test. 1 2 3 4 5" },
        { "MX", "10 mail", "000a046d61696c076578616d706c65047465737400", "10 mail.example.test." },
        { "MX", "0 .", "000000", "0 ." },
        { "KX", "10 kx.example.test.", "000a026b78076578616d706c65047465737400", "10 kx.example.test." },
        { "RT", "10 relay.example.test.", "000a0572656c6179076578616d706c65047465737400", "10 relay.example.test." },
        { "AFSDB", "1 afs.example.test.", "000103616673076578616d706c65047465737400", "1 afs.example.test." },
        { "LP", "10 l64.example.test.", "000a036c3634076578616d706c65047465737400", "10 l64.example.test." },
        { "L32", "10 10.1.2.3", "000a0a010203", "10 10.1.2.3" },
        { "TXT", "\"v=spf1 mx -all\"", "0e763d73706631206d78202d616c6c", "\"v=spf1 mx -all\"" },
        { "TXT", "hello world", "0568656c6c6f05776f726c64", "\"hello\" \"world\"" },
        { "TXT", "\"a\\\"b\\\\c;d\" \"\\001x\\255\" \"\"", "076122625c633b64030178ff00", "\"a\\\"b\\\\c;d\" \"\\001x\\255\" \"\"" },
        { "TXT", "\"caf\\195\\169 (2)\"", "09636166c3a920283229", "\"caf\\195\\169 (2)\"" },
        { "SPF", "\"v=spf1 -all\"", "0b763d73706631202d616c6c", "\"v=spf1 -all\"" },
        { "AVC", "\"app-name:WOLFGANG|app-class:OAM\"", "1f6170702d6e616d653a574f4c4647414e477c6170702d636c6173733a4f414d", "\"app-name:WOLFGANG|app-class:OAM\"" },
        { "HINFO", "\"PC\" \"Linux x\"", "025043074c696e75782078", "\"PC\" \"Linux x\"" },
        { "HINFO", "PC Linux", "025043054c696e7578", "\"PC\" \"Linux\"" },
        { "MINFO", "rmail.example.test. emails.example.test.", "05726d61696c076578616d706c6504746573740006656d61696c73076578616d706c65047465737400", "rmail.example.test. emails.example.test." },
        { "RP", "mbox.example.test. txt.example.test.", "046d626f78076578616d706c6504746573740003747874076578616d706c65047465737400", "mbox.example.test. txt.example.test." },
        { "RP", ". .", "0000", ". ." },
        { "SRV", "10 60 5060 sip.example.test.", "000a003c13c403736970076578616d706c65047465737400", "10 60 5060 sip.example.test." },
        { "NAPTR", "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.test.", "0064000a0153075349502b44325500045f736970045f756470076578616d706c65047465737400", "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.test." },
        { "NAPTR", "102 10 \"u\" \"E2U+sip\" \"!^.*$!sip:info@example.test!\" .", "0066000a0175074532552b7369701c215e2e2a24217369703a696e666f406578616d706c652e746573742100", "102 10 \"u\" \"E2U+sip\" \"!^.*$!sip:info@example.test!\" ." },
        { "CAA", "0 issue \"ca.example.net\"", "0005697373756563612e6578616d706c652e6e6574", "0 issue \"ca.example.net\"" },
        { "CAA", "128 tbs \"critical\"", "8003746273637269746963616c", "128 tbs \"critical\"" },
        { "CAA", "0 iodef \"mailto:security@example.test\"", "0005696f6465666d61696c746f3a7365637572697479406578616d706c652e74657374", "0 iodef \"mailto:security@example.test\"" },
        { "CAA", "0 issue \";\"", "000569737375653b", "0 issue \";\"" },
        { "DS", "12345 13 2 0123456789abcdef0123456789ABCDEF 0123456789ABCDEF0123456789ABCDEF", "30390d020123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF" },
        { "DS", "60485 RSASHA1 1 2BB183AF5F22588179A53B0A98631FAD1A292118", "ec4505012bb183af5f22588179a53b0a98631fad1a292118", "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118" },
        { "CDS", "0 0 0 00", "0000000000", "0 0 0 00" },
        { "DNSKEY", "257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3 +/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kv ArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF 0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+e oZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfd RUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwN R1AkUTV74bU=", "0101030803010001acffb409bcc939f831f7a1e5ec88f7a59255ec53040be432027390a4ce896d6f9086f3c5e177fbfe118163aaec7af1462c47945944c4e2c026be5e98bbcded25978272e1e3e079c5094d573f0e83c92f02b32d3513b1550b826929c80dd0f92cac966d17769fd5867b647c3f38029abdc48152eb8f207159ecc5d232c7c1537c79f4b7ac28ff11682f21681bf6d6aba555032bf6f9f036beb2aaa5b3778d6eebfba6bf9ea191be4ab0caea759e2f773a1f9029c73ecb8d5735b9321db085f1b8e2d8038fe2941992548cee0d67dd4547e11dd63af9c9fc1c5466fb684cf009d7197c2cf79e792ab501e6a8a1ca519af2cb9b5f6367e94c0d47502451357be1b5", "257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=" },
        { "DNSKEY", "256 3 ECDSAP256SHA256 oJMRESz5E4gYzS/q6XDrvU1qMPYIjCWzJaOau8XNEZeqCYKD5ar0IRd8KqXXFJkqmVfRvMGPmM1x8fGAa2XhSA==", "0100030da09311112cf9138818cd2feae970ebbd4d6a30f6088c25b325a39abbc5cd1197aa098283e5aaf421177c2aa5d714992a9957d1bcc18f98cd71f1f1806b65e148", "256 3 13 oJMRESz5E4gYzS/q6XDrvU1qMPYIjCWzJaOau8XNEZeqCYKD5ar0IRd8KqXXFJkqmVfRvMGPmM1x8fGAa2XhSA==" },
        { "CDNSKEY", "0 3 0 AA==", "0000030000", "0 3 0 AA==" },
        { "RRSIG", "A 13 3 3600 20240101000000 20231201000000 12345 example.test. oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6oB9wfuh3DTJXUAg==", "00010d0300000e1065920080656922003039076578616d706c65047465737400a090755ba58d1affa576f4375831b4310920e481218d18a9f164eb3d81afd3b875d3c75428631e0cf2a28d50875f70c329d7dbfafea807dc1fba1dc34c95d402", "A 13 3 3600 20240101000000 20231201000000 12345 example.test. oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6oB9wfuh3DTJXUAg==" },
        { "RRSIG", "NSEC RSASHA256 2 86400 1704067200 1701388800 54321 example.test. AAECAw==", "002f0802000151806592008065692200d431076578616d706c6504746573740000010203", "NSEC 8 2 86400 20240101000000 20231201000000 54321 example.test. AAECAw==" },
        { "NSEC", "next A NS SOA RRSIG NSEC DNSKEY TYPE65000", "046e657874076578616d706c65047465737400000762000000000380fd1e000000000000000000000000000000000000000000000000000000000080", "next.example.test. A NS SOA RRSIG NSEC DNSKEY TYPE65000" },
        { "NSEC", "host.example.test.", "04686f7374076578616d706c65047465737400", "host.example.test." },
        { "NSEC3", "1 1 10 AABB 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG", "0101000a02aabb14174eb2409fe28bcb4887a1836f957f0a8425e27b0006400000000002", "1 1 10 AABB 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG" },
        { "NSEC3", "1 0 0 - 2t7b4g4vsa5smi47k61mv5bv1a22bojr", "010000000014174eb2409fe28bcb4887a1836f957f0a8425e27b", "1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR" },
        { "NSEC3PARAM", "1 0 10 aabbccdd", "0100000a04aabbccdd", "1 0 10 AABBCCDD" },
        { "NSEC3PARAM", "1 0 0 -", "0100000000", "1 0 0 -" },
        { "TLSA", "3 1 1 0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6", "0301010c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6", "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6" },
        { "SMIMEA", "3 1 1 aabb", "030101aabb", "3 1 1 AABB" },
        { "SSHFP", "4 2 4D5E0D6EB1D4C0D4C78F9E6A6EA0B7D3F3F5E4D6A2B2C7C2A3B1E6F1D4C2B3A1", "04024d5e0d6eb1d4c0d4c78f9e6a6ea0b7d3f3f5e4d6a2b2c7c2a3b1e6f1d4c2b3a1", "4 2 4D5E0D6EB1D4C0D4C78F9E6A6EA0B7D3F3F5E4D6A2B2C7C2A3B1E6F1D4C2B3A1" },
        { "SVCB", "1 dns.example.test. alpn=dot port=853 ipv4hint=192.0.2.53", "000103646e73076578616d706c650474657374000001000403646f7400030002035500040004c0000235", "1 dns.example.test. alpn=\"dot\" port=853 ipv4hint=192.0.2.53" },
        { "SVCB", "0 www.example.test.", "000003777777076578616d706c65047465737400", "0 www.example.test." },
        { "HTTPS", "1 . alpn=h2,h3 ipv4hint=192.0.2.80 ipv6hint=2001:db8::80", "0001000001000602683202683300040004c00002500006001020010db8000000000000000000000080", "1 . alpn=\"h2,h3\" ipv4hint=192.0.2.80 ipv6hint=2001:db8::80" },
        { "HTTPS", "1 . alpn=\"h2,h3\" no-default-alpn", "0001000001000602683202683300020000", "1 . alpn=\"h2,h3\" no-default-alpn" },
        { "SVCB", "1 foo.example.com. mandatory=alpn,port alpn=\"a\\\\,b,c\" port=853 key65000=\"x y\" ech=AEX+DQBB", "000103666f6f076578616d706c6503636f6d0000000004000100030001000603612c620163000300020355000500060045fe0d0041fde80003782079", "1 foo.example.com. mandatory=alpn,port alpn=\"a\\\\,b,c\" port=853 ech=AEX+DQBB key65000=\"x y\"" },
        { "SVCB", "1 .", "000100", "1 ." },
        { "SVCB", "16 foo.example.com. port=53", "001003666f6f076578616d706c6503636f6d00000300020035", "16 foo.example.com. port=53" },
        { "SVCB", "1 foo.example.com. key667=hello", "000103666f6f076578616d706c6503636f6d00029b000568656c6c6f", "1 foo.example.com. key667=\"hello\"" },
        { "SVCB", "1 foo.example.com. key667=\"hello\\210qoo\"", "000103666f6f076578616d706c6503636f6d00029b000968656c6c6fd2716f6f", "1 foo.example.com. key667=\"hello\\210qoo\"" },
        { "SVCB", "1 foo.example.com. ipv6hint=\"2001:db8::1,2001:db8::53:1\"", "000103666f6f076578616d706c6503636f6d000006002020010db800000000000000000000000120010db8000000000000000000530001", "1 foo.example.com. ipv6hint=2001:db8::1,2001:db8::53:1" },
        { "SVCB", "1 example.com. ipv6hint=\"2001:db8:122:344::192.0.2.33\"", "0001076578616d706c6503636f6d000006001020010db80122034400000000c0000221", "1 example.com. ipv6hint=2001:db8:122:344::c000:221" },
        { "SVCB", "16 foo.example.org. (alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1)", "001003666f6f076578616d706c65036f7267000000000400010004000100090268320568332d313900040004c0000201", "16 foo.example.org. mandatory=alpn,ipv4hint alpn=\"h2,h3-19\" ipv4hint=192.0.2.1" },
        { "SVCB", "16 foo.example.org. alpn=\"f\\\\\\\\oo\\\\,bar,h2\"", "001003666f6f076578616d706c65036f7267000001000c08665c6f6f2c626172026832", "16 foo.example.org. alpn=\"f\\\\\\\\oo\\\\,bar,h2\"" },
        { "SVCB", "16 foo.example.org. alpn=f\\\\\\092oo\\092,bar,h2", "001003666f6f076578616d706c65036f7267000001000c08665c6f6f2c626172026832", "16 foo.example.org. alpn=\"f\\\\\\\\oo\\\\,bar,h2\"" },
        { "SVCB", "1 . key1=\"\\002h2\"", "00010000010003026832", "1 . alpn=\"h2\"" },
        { "ZONEMD", "2018031900 1 1 c68090d90a7aed716bc459f9340e3d7c1370d4d24b7e2fc3a1ddc0b9a87153b9a9713b3c9ae5cc27777f98b8e730044c", "7848b91c0101c68090d90a7aed716bc459f9340e3d7c1370d4d24b7e2fc3a1ddc0b9a87153b9a9713b3c9ae5cc27777f98b8e730044c", "2018031900 1 1 C68090D90A7AED716BC459F9340E3D7C1370D4D24B7E2FC3A1DDC0B9A87153B9A9713B3C9AE5CC27777F98B8E730044C" },
        { "URI", "10 1 \"https://www.example.test/\"", "000a000168747470733a2f2f7777772e6578616d706c652e746573742f", "10 1 \"https://www.example.test/\"" },
        { "LOC", "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m", "000016138b3cf018810cbce0009895b8", "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m" },
        { "LOC", "42 21 54 N 71 06 18 W -24m 30m", "0033161389172dd070be15f000988d20", "42 21 54.000 N 71 6 18.000 W -24.00m 30m 10000m 10m" },
        { "LOC", "60 N 24 E 10", "001216138cdfe60085265c0000989a68", "60 0 0.000 N 24 0 0.000 E 10.00m 1m 10000m 10m" },
        { "LOC", "37 23 30.900 N 121 59 19.000 W 7.00m 100m 100m 2m", "001414228805ffd465d2f7280098993c", "37 23 30.900 N 121 59 19.000 W 7.00m 100m 100m 2m" },
        { "LOC", "0 0 0 S 180 0 0 W 42849672.95m 90000000m 0.05m 0.5m", "009950518000000059604e00ffffffff", "0 0 0.000 N 180 0 0.000 W 42849672.95m 90000000m 0.05m 0.50m" },
        { "CSYNC", "66 3 A NS AAAA", "000000420003000460000008", "66 3 A NS AAAA" },
        { "EUI48", "00-00-5e-00-53-2a", "00005e00532a", "00-00-5e-00-53-2a" },
        { "EUI64", "00-00-5e-ef-10-00-00-2a", "00005eef1000002a", "00-00-5e-ef-10-00-00-2a" },
        { "OPENPGPKEY", "mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq", "99020d0458adda3b011000eb6e5e6f8d5c587801348342036020691e2aefd528e5ab1c79823b4f85bd9886fc833178ea", "mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq" },
        { "DHCID", "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=", "000201636fc0b8271c82825bb1ac5c41cf5351aa69b4febd94e8f17cdb95000da48c40", "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=" },
        { "TYPE65300", "\\# 4 01020304", "01020304", "\\# 4 01020304" },
        { "TYPE65300", "\\# 0", "", "\\# 0" },
        { "NULL", "\\# 3 abcdef", "abcdef", "\\# 3 ABCDEF" },
        { "A", "\\# 4 C0000201", "c0000201", "192.0.2.1" },
    };

    private static RecordType TypeOf(string mnemonic)
    {
        Assert.True(RecordTypeNames.TryParseType(mnemonic, out var type));
        return type;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Text_parses_to_the_oracle_wire_octets(string type, string text, string hex, string canonical)
    {
        _ = canonical;
        var wire = RdataPresentation.Parse(TypeOf(type), text, Origin);
        Assert.Equal(hex, Convert.ToHexStringLower(wire));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Wire_formats_to_the_canonical_text(string type, string text, string hex, string canonical)
    {
        _ = text;
        Assert.Equal(canonical, RdataPresentation.Format(TypeOf(type), Convert.FromHexString(hex)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Canonical_text_parses_back_to_the_same_wire(string type, string text, string hex, string canonical)
    {
        _ = text;
        // Absolute names in the canonical text: any origin gives the same octets.
        var wire = RdataPresentation.Parse(TypeOf(type), canonical, DnsName.Parse("elsewhere.invalid."));
        Assert.Equal(hex, Convert.ToHexStringLower(wire));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generic_form_of_every_case_parses_to_the_same_wire(string type, string text, string hex, string canonical)
    {
        _ = text;
        _ = canonical;
        var octets = Convert.FromHexString(hex);
        string generic = RdataPresentation.FormatGeneric(octets);
        Assert.Equal(octets, RdataPresentation.Parse(TypeOf(type), generic, Origin));
        Assert.True(RdataPresentation.IsWellFormed(TypeOf(type), octets));
    }

    /// <summary>Types that share a layout with one above; their wire form is that layout's, checked against the sibling.</summary>
    [Theory]
    [InlineData("MB", "NS", "mail.example.test.")]
    [InlineData("MG", "NS", "mail.example.test.")]
    [InlineData("MR", "NS", "mail.example.test.")]
    [InlineData("MD", "NS", "mail.example.test.")]
    [InlineData("MF", "NS", "mail.example.test.")]
    [InlineData("TA", "DS", "12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF")]
    [InlineData("DLV", "DS", "12345 13 2 0123456789ABCDEF")]
    [InlineData("KEY", "DNSKEY", "256 3 13 AAECAw==")]
    [InlineData("SIG", "RRSIG", "A 13 3 3600 20240101000000 20231201000000 12345 example.test. AAECAw==")]
    [InlineData("SPF", "TXT", "\"v=spf1\" \"-all\"")]
    public void Sibling_types_share_the_layout(string type, string sibling, string text)
    {
        var wire = RdataPresentation.Parse(TypeOf(type), text, Origin);
        Assert.Equal(RdataPresentation.Parse(TypeOf(sibling), text, Origin), wire);
        Assert.Equal(text, RdataPresentation.Format(TypeOf(type), wire));
    }

    [Fact]
    public void Relative_names_and_the_at_sign_use_the_origin()
    {
        var wire = RdataPresentation.Parse(RecordType.SOA, "@ hostmaster 1 2 3 4 5", Origin);
        Assert.StartsWith("example.test. hostmaster.example.test. 1", RdataPresentation.Format(RecordType.SOA, wire));
    }

    [Fact]
    public void Rdata_may_span_lines_in_parentheses_with_comments()
    {
        var wire = RdataPresentation.Parse(RecordType.SOA, "ns1 hostmaster (\n 1 ; serial\n 2 3 4 5 )", Origin);
        Assert.Equal("ns1.example.test. hostmaster.example.test. 1 2 3 4 5", RdataPresentation.Format(RecordType.SOA, wire));
    }

    [Fact]
    public void Txt_keeps_a_255_octet_string_and_counts_escapes_as_one_octet()
    {
        string text = "\"" + new string('a', 254) + "\\255\"";
        var wire = RdataPresentation.Parse(RecordType.TXT, text, Origin);
        Assert.Equal(256, wire.Length);
        Assert.Equal(255, wire[0]);
        Assert.Equal(255, wire[255]);
    }

    [Fact]
    public void Characters_above_255_in_memory_text_become_utf8()
    {
        var wire = RdataPresentation.Parse(RecordType.TXT, "\"\u20ac\"", Origin);
        Assert.Equal("03e282ac", Convert.ToHexStringLower(wire));
        Assert.Equal("\"\\226\\130\\172\"", RdataPresentation.Format(RecordType.TXT, wire));
    }

    [Fact]
    public void Rrsig_time_in_seconds_and_as_a_date_agree()
    {
        var a = RdataPresentation.Parse(RecordType.RRSIG, "A 13 2 60 1704067200 0 1 . AA==", Origin);
        var b = RdataPresentation.Parse(RecordType.RRSIG, "A 13 2 60 20240101000000 19700101000000 1 . AA==", Origin);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Rrsig_dates_past_2106_wrap_modulo_two_to_the_32()
    {
        // RFC 4034 §3.1.5: serial-number arithmetic on 32 bits; 2106-02-07 06:28:16 UTC is 2^32 seconds.
        var wire = RdataPresentation.Parse(RecordType.RRSIG, "A 13 2 60 21060207062816 21060207062817 1 . AA==", Origin);
        Assert.Equal("00000000", Convert.ToHexStringLower(wire.AsSpan(8, 4)));
        Assert.Equal("00000001", Convert.ToHexStringLower(wire.AsSpan(12, 4)));
    }

    [Fact]
    public void Type_bitmap_merges_duplicates_and_sorts_types()
    {
        var a = RdataPresentation.Parse(RecordType.NSEC, "x. RRSIG A A TYPE65000 NS TYPE1", Origin);
        var b = RdataPresentation.Parse(RecordType.NSEC, "x. A NS RRSIG TYPE65000", Origin);
        Assert.Equal(b, a);
        Assert.Equal("x. A NS RRSIG TYPE65000", RdataPresentation.Format(RecordType.NSEC, a));
    }

    [Fact]
    public void Svcb_keys_are_sorted_on_the_wire_whatever_the_text_order()
    {
        var a = RdataPresentation.Parse(RecordType.SVCB, "1 . port=53 alpn=h2 mandatory=port", Origin);
        Assert.Equal("1 . mandatory=port alpn=\"h2\" port=53", RdataPresentation.Format(RecordType.SVCB, a));
    }

    [Fact]
    public void Svcb_dohpath_of_rfc_9461()
    {
        // RFC 9461 §5 example: alpn=h2 dohpath=/dns-query{?dns}; the value is the template's UTF-8 octets.
        var wire = RdataPresentation.Parse(RecordType.SVCB, "1 doh.example.net. alpn=h2 dohpath=/dns-query{?dns}", Origin);
        Assert.Equal(
            "0001" + "03646f68076578616d706c65036e657400" + "000100030268 32".Replace(" ", "", StringComparison.Ordinal)
            + "0007" + "0010" + Convert.ToHexStringLower("/dns-query{?dns}"u8),
            Convert.ToHexStringLower(wire));
        Assert.Equal("1 doh.example.net. alpn=\"h2\" dohpath=\"/dns-query{?dns}\"", RdataPresentation.Format(RecordType.SVCB, wire));
    }

    [Theory]
    [InlineData("1 . alpn=h2 dohpath=/q{?dns,x}")]
    [InlineData("1 . alpn=h2 dohpath=/q{&dns}")]
    [InlineData("1 . alpn=h2 dohpath=\"/q{?x,dns:3}\"")]
    public void Svcb_dohpath_accepts_templates_with_a_dns_variable(string text) =>
        Assert.NotEmpty(RdataPresentation.Parse(RecordType.SVCB, text, Origin));

    [Fact]
    public void Loc_precision_truncates_as_rfc_1876_does()
    {
        // 15 m is stored as 1e3 cm (mantissa 1, exponent 3) and prints as 10m, like dig.
        var wire = RdataPresentation.Parse(RecordType.LOC, "1 N 1 E 0 15m", Origin);
        Assert.Equal(0x13, wire[1]);
        Assert.EndsWith("0.00m 10m 10000m 10m", RdataPresentation.Format(RecordType.LOC, wire), StringComparison.Ordinal);
    }
}
