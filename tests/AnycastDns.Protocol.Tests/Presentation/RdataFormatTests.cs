using AnycastDns.Protocol;
using AnycastDns.Protocol.Presentation;

namespace AnycastDns.Protocol.Tests.Presentation;

/// <summary>Wire to text: malformed RDATA and types without a text format fall back to RFC 3597 §5 form.</summary>
public class RdataFormatTests
{
    [Theory]
    [InlineData("A", "010203")]                                   // short
    [InlineData("A", "0102030405")]                               // long
    [InlineData("AAAA", "00")]
    [InlineData("MX", "000a")]                                    // no exchange
    [InlineData("MX", "000ac00c")]                                // a compression pointer has no place in stored RDATA
    [InlineData("NS", "036e7331")]                                // name without its root label
    [InlineData("TXT", "")]                                       // TXT holds at least one string
    [InlineData("TXT", "05616263")]                               // string longer than the data
    [InlineData("HINFO", "025043")]                               // one string where two belong
    [InlineData("SOA", "000000000000010000000200000003000000040000")]
    [InlineData("CAA", "00002d")]                                 // empty tag
    [InlineData("CAA", "00022d2d")]                               // tag of non-alphanumerics
    [InlineData("DS", "30390d02")]                                // no digest
    [InlineData("DNSKEY", "0101030d")]                            // no key
    [InlineData("NSEC", "00" + "0102ff")]                         // bitmap length past the end
    [InlineData("NSEC", "00" + "01010000010100")]                 // windows out of order
    [InlineData("NSEC", "00" + "000021" + "00")]                  // bitmap length 33
    [InlineData("NSEC3", "01000000" + "00")]                      // no next hashed owner
    [InlineData("NSEC3PARAM", "0100000002aa")]                    // salt shorter than its length
    [InlineData("SVCB", "000100" + "0003000200350001000302683200")] // keys out of order
    [InlineData("SVCB", "000100" + "000300020035000300020035")]   // key twice
    [InlineData("SVCB", "000100" + "00030001ff")]                 // port of one octet
    [InlineData("SVCB", "000100" + "0001000100")]                 // alpn with an empty id
    [InlineData("SVCB", "000100" + "0000000400000001")]           // mandatory lists mandatory
    [InlineData("SVCB", "000100" + "ffff0000")]                   // key65535 is reserved
    [InlineData("ZONEMD", "0000000101010011")]                    // digest shorter than 12
    [InlineData("URI", "000a0001")]                               // empty target
    [InlineData("LOC", "01161313" + "8b3cf018810cbce0009895b8")]  // version 1 is not defined
    [InlineData("LOC", "00a61313" + "8b3cf018810cbce0009895b8")]  // mantissa 10
    [InlineData("LOC", "00161313" + "ffffffff810cbce0009895b8")]  // latitude beyond 90 degrees
    [InlineData("EUI48", "0000")]
    public void Malformed_rdata_prints_in_generic_form(string type, string hex)
    {
        Assert.True(RecordTypeNames.TryParseType(type, out var t));
        var rdata = Convert.FromHexString(hex);
        string expected = rdata.Length == 0 ? "\\# 0" : "\\# " + rdata.Length + " " + hex.ToUpperInvariant();
        Assert.Equal(expected, RdataPresentation.Format(t, rdata));
        Assert.False(RdataPresentation.IsWellFormed(t, rdata));
    }

    [Fact]
    public void Types_without_a_text_format_print_in_generic_form()
    {
        Assert.Equal("\\# 2 ABCD", RdataPresentation.Format((RecordType)65280, [0xab, 0xcd]));
        Assert.Equal("\\# 0", RdataPresentation.Format(RecordType.NULL, []));
        Assert.True(RdataPresentation.IsWellFormed(RecordType.NULL, [1, 2, 3]));
        Assert.False(RdataPresentation.HasTextFormat(RecordType.WKS));
        Assert.True(RdataPresentation.HasTextFormat(RecordType.HTTPS));
    }

    [Theory]
    [InlineData("00000000000000000000000000000001", "::1")]
    [InlineData("00000000000000000000000000000002", "::2")]
    [InlineData("00000000000000000000ffff00000000", "::ffff:0.0.0.0")]
    [InlineData("20010db8000000010000000000000001", "2001:db8:0:1::1")]
    [InlineData("20010db8000000000001000000000000", "2001:db8:0:0:1::")]   // the longest run of zeros wins
    [InlineData("20010db8000100000000000100000000", "2001:db8:1::1:0:0")]
    [InlineData("00010002000300040005000600070008", "1:2:3:4:5:6:7:8")]
    [InlineData("20010db8000000000000000000000000", "2001:db8::")]
    public void Ipv6_addresses_print_as_rfc_5952_and_inet_ntop_say(string hex, string text)
    {
        Assert.Equal(text, RdataPresentation.Format(RecordType.AAAA, Convert.FromHexString(hex)));
        Assert.Equal(hex, Convert.ToHexStringLower(RdataPresentation.Parse(RecordType.AAAA, text, DnsName.Root)));
    }

    [Fact]
    public void Txt_escapes_quote_backslash_and_non_printable_octets()
    {
        byte[] rdata = [6, (byte)'"', (byte)'\\', 0x00, 0x7f, (byte)' ', (byte)';'];
        Assert.Equal("\"\\\"\\\\\\000\\127 ;\"", RdataPresentation.Format(RecordType.TXT, rdata));
    }

    [Fact]
    public void Names_in_rdata_print_with_escapes()
    {
        byte[] rdata = [0, 10, 3, (byte)'a', (byte)'.', (byte)' ', 0];
        Assert.Equal("10 a\\.\\032.", RdataPresentation.Format(RecordType.MX, rdata));
    }
}

/// <summary>
/// Mutated and random RDATA for every type: formatting never throws, and whatever prints in a type's own format
/// parses back to the very same octets; what is malformed prints as \# and is refused when read back.
/// </summary>
public class RdataFuzzTests
{
    private static readonly RecordType[] Types =
    [
        RecordType.A, RecordType.AAAA, RecordType.NS, RecordType.CNAME, RecordType.SOA, RecordType.PTR, RecordType.HINFO,
        RecordType.MINFO, RecordType.MX, RecordType.TXT, RecordType.RP, RecordType.AFSDB, RecordType.RT, RecordType.KEY,
        RecordType.SIG, RecordType.LOC, RecordType.SRV, RecordType.NAPTR, RecordType.KX, RecordType.DNAME, RecordType.DS,
        RecordType.SSHFP, RecordType.RRSIG, RecordType.NSEC, RecordType.DNSKEY, RecordType.DHCID, RecordType.NSEC3,
        RecordType.NSEC3PARAM, RecordType.TLSA, RecordType.SMIMEA, RecordType.CDS, RecordType.CDNSKEY,
        RecordType.OPENPGPKEY, RecordType.CSYNC, RecordType.ZONEMD, RecordType.SVCB, RecordType.HTTPS, RecordType.SPF,
        RecordType.L32, RecordType.LP, RecordType.EUI48, RecordType.EUI64, RecordType.URI, RecordType.CAA,
    ];

    [Fact]
    public void Format_then_parse_is_the_identity_or_a_clean_refusal()
    {
        var random = new Random(3);
        var samples = new List<(RecordType Type, byte[] Rdata)>();
        foreach (var row in RdataRoundTripTests.Cases)
        {
            Assert.True(RecordTypeNames.TryParseType((string)row[0], out var type));
            samples.Add((type, Convert.FromHexString((string)row[2])));
        }
        int typed = 0, generic = 0;
        for (int round = 0; round < 400000; round++)
        {
            RecordType type;
            byte[] rdata;
            if (round % 4 == 0)
            {
                type = Types[random.Next(Types.Length)];
                rdata = new byte[random.Next(0, 48)];
                random.NextBytes(rdata);
            }
            else
            {
                var (sampleType, sample) = samples[random.Next(samples.Count)];
                type = sampleType;
                rdata = Mutate(random, sample);
            }
            string text = RdataPresentation.Format(type, rdata);
            if (RdataPresentation.IsWellFormed(type, rdata))
            {
                typed++;
                byte[] back;
                try
                {
                    back = RdataPresentation.Parse(type, text, DnsName.Root);
                }
                catch (PresentationException e)
                {
                    Assert.Fail($"{type} {Convert.ToHexString(rdata)} printed as '{text}' does not parse back: {e.Message}");
                    throw;
                }
                Assert.True(back.AsSpan().SequenceEqual(rdata), $"{type} {Convert.ToHexString(rdata)} -> '{text}' -> {Convert.ToHexString(back)}");
            }
            else if (RdataPresentation.HasTextFormat(type))
            {
                generic++;
                Assert.StartsWith("\\# ", text, StringComparison.Ordinal);
                Assert.Throws<PresentationException>(() => RdataPresentation.Parse(type, text, DnsName.Root));
            }
        }
        // Both paths must have been exercised for the test to mean anything.
        Assert.True(typed > 2000 && generic > 2000, $"typed {typed}, generic {generic}");
    }

    private static byte[] Mutate(Random random, byte[] sample)
    {
        var bytes = new List<byte>(sample);
        int edits = random.Next(1, 4);
        for (int i = 0; i < edits; i++)
        {
            switch (random.Next(4))
            {
                case 0 when bytes.Count > 0:
                    bytes[random.Next(bytes.Count)] = (byte)random.Next(256);
                    break;
                case 1 when bytes.Count > 0:
                    bytes.RemoveRange(random.Next(bytes.Count), 1);
                    break;
                case 2:
                    bytes.Insert(random.Next(bytes.Count + 1), (byte)random.Next(256));
                    break;
                default:
                    int keep = random.Next(bytes.Count + 1);
                    bytes.RemoveRange(keep, bytes.Count - keep);
                    break;
            }
        }
        return bytes.ToArray();
    }
}
