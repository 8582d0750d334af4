using AnycastDns.Protocol;

namespace AnycastDns.Protocol.Tests;

public class DnsNameTests
{
    [Theory]
    [InlineData("example.com.", "example.com.")]
    [InlineData(".", ".")]
    [InlineData("a\\.b.example.", "a\\.b.example.")]
    [InlineData("\\065bc.", "Abc.")]
    [InlineData("sp\\032ace.", "sp\\032ace.")]
    [InlineData("q\\\"uote.", "q\\\"uote.")]
    public void Parse_then_ToString_round_trips_presentation_format(string text, string expected)
    {
        Assert.Equal(expected, DnsName.Parse(text).ToString());
    }

    [Fact]
    public void Relative_names_are_completed_with_the_origin()
    {
        var origin = DnsName.Parse("example.com.");
        Assert.Equal("www.example.com.", DnsName.Parse("www", origin).ToString());
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("a..b.", "empty label")]
    [InlineData("a\\", "dangling")]
    [InlineData("a\\25.", "three digits")]
    [InlineData("a\\256.", "above 255")]
    [InlineData("relative", "without an origin")]
    public void Bad_names_are_rejected_with_a_reason(string text, string reason)
    {
        Assert.False(DnsName.TryParse(text, null, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Labels_longer_than_63_and_names_longer_than_255_are_rejected()
    {
        Assert.False(DnsName.TryParse(new string('a', 64) + ".", null, out _, out var error));
        Assert.Contains("63", error, StringComparison.Ordinal);
        Assert.True(DnsName.TryParse(new string('a', 63) + ".", null, out _, out _));

        // 4 labels of 63 = 4*64 + 1 = 257 octets.
        var tooLong = string.Join('.', Enumerable.Repeat(new string('b', 63), 4)) + ".";
        Assert.False(DnsName.TryParse(tooLong, null, out _, out error));
        Assert.Contains("255", error, StringComparison.Ordinal);
        // 3 labels of 63 + one of 61 = 3*64 + 62 + 1 = 255 octets: the largest legal name.
        var longest = string.Join('.', Enumerable.Repeat(new string('b', 63), 3)) + "." + new string('c', 61) + ".";
        Assert.Equal(255, DnsName.Parse(longest).Length);
    }

    [Fact]
    public void Equality_and_hash_ignore_ascii_case_but_keep_original_case()
    {
        var a = DnsName.Parse("WwW.Example.COM.");
        var b = DnsName.Parse("www.example.com.");
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.Equal("WwW.Example.COM.", a.ToString());
        Assert.Equal(WireName.Hash(b.Wire), a.GetHashCode());
    }

    [Fact]
    public void Canonical_order_follows_rfc4034_section_6_1()
    {
        // The example list of RFC 4034 §6.1, in order.
        string[] ordered =
        [
            "example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.", "z.example.",
            "\\001.z.example.", "*.z.example.", "\\200.z.example.",
        ];
        var names = ordered.Select(n => DnsName.Parse(n)).ToList();
        var shuffled = names.OrderBy(n => n.GetHashCode()).ToList();
        shuffled.Sort();
        Assert.Equal(ordered, shuffled.Select(n => n.ToString()).ToArray());
    }

    [Fact]
    public void Subdomain_parent_and_wildcard()
    {
        var name = DnsName.Parse("a.b.example.");
        Assert.True(name.IsSubdomainOf(DnsName.Parse("EXAMPLE.")));
        Assert.True(name.IsSubdomainOf(name));
        Assert.False(name.IsSubdomainOf(DnsName.Parse("b.example.com.")));
        Assert.False(DnsName.Parse("xexample.").IsSubdomainOf(DnsName.Parse("example.")));
        Assert.Equal("b.example.", name.Parent().ToString());
        Assert.Equal(3, name.LabelCount);
        Assert.True(DnsName.Parse("*.example.").IsWildcard);
        Assert.False(DnsName.Parse("\\*x.example.").IsWildcard);
        Assert.Equal("*.b.example.", name.Parent().ToWildcard().ToString());
    }

    [Fact]
    public void Dictionary_can_be_probed_with_a_wire_span_in_any_case()
    {
        var d = new Dictionary<DnsName, int>(DnsNameComparer.Instance) { [DnsName.Parse("www.example.com.")] = 7 };
        var lookup = d.GetAlternateLookup<ReadOnlySpan<byte>>();
        Assert.True(lookup.TryGetValue(DnsName.Parse("WWW.EXAMPLE.com.").Wire, out int v));
        Assert.Equal(7, v);
        Assert.False(lookup.TryGetValue(DnsName.Parse("ww.example.com.").Wire, out _));
    }

    [Fact]
    public void Eight_octets_at_once_fold_case_exactly_as_one_octet_at_a_time()
    {
        // Every octet value in every lane, next to neighbours that would expose a carry between lanes.
        for (int value = 0; value < 256; value++)
        {
            for (int lane = 0; lane < 8; lane++)
            {
                foreach (byte neighbour in new byte[] { 0x00, 0x40, 0x41, 0x5A, 0x5B, 0x7F, 0x80, 0xC1, 0xDA, 0xFF })
                {
                    var octets = new byte[8];
                    Array.Fill(octets, neighbour);
                    octets[lane] = (byte)value;
                    var expected = octets.Select(WireName.ToLower).ToArray();
                    var folded = BitConverter.GetBytes(WireName.ToLower(BitConverter.ToUInt64(octets)));
                    Assert.Equal(expected, folded);
                }
            }
        }
    }

    [Fact]
    public void Hash_and_equality_ignore_case_at_every_length_and_tell_apart_other_octets()
    {
        var random = new Random(4343);
        for (int length = 1; length <= 40; length++)
        {
            for (int trial = 0; trial < 50; trial++)
            {
                var a = new byte[length];
                random.NextBytes(a);
                var b = a.Select(o => random.Next(2) == 0 ? WireName.ToLower(o) : (o is >= (byte)'a' and <= (byte)'z' ? (byte)(o - 0x20) : o)).ToArray();
                Assert.True(WireName.EqualsIgnoreCase(a, b));
                Assert.Equal(WireName.Hash(a), WireName.Hash(b));

                // One octet changed to something that is not its other case: not equal.
                int at = random.Next(length);
                var c = (byte[])a.Clone();
                c[at] = (byte)(WireName.ToLower(c[at]) ^ 0x01);
                bool sameLetter = WireName.ToLower(c[at]) == WireName.ToLower(a[at]);
                Assert.Equal(sameLetter, WireName.EqualsIgnoreCase(a, c));
            }
        }
    }

    // Names of up to 24 octets are stored inside the DnsName, longer ones in an array: both must behave alike.
    [Theory]
    [InlineData("h12.bench.test.", "H12.Bench.Test.")]
    [InlineData("a-rather-longer-label.below.the.example.com.", "A-RATHER-longer-label.Below.THE.example.com.")]
    [InlineData("exactly-24-octets.test.", "EXACTLY-24-octets.test.")]
    public void Short_and_long_names_compare_hash_and_split_alike(string text, string otherCase)
    {
        var name = DnsName.Parse(text);
        var upper = DnsName.Parse(otherCase);
        Assert.Equal(name, upper);
        Assert.Equal(name.GetHashCode(), upper.GetHashCode());
        Assert.Equal(0, name.CompareTo(upper));
        Assert.Equal(text, name.ToString());
        Assert.Equal(otherCase, upper.ToString());
        Assert.Equal(text.Length + 1, name.Length);
        Assert.Equal(text.Count(c => c == '.'), name.LabelCount);
        Assert.Equal(text[..text.IndexOf('.')], System.Text.Encoding.ASCII.GetString(name.Label(0)));
        Assert.Equal("test", System.Text.Encoding.ASCII.GetString(DnsName.Parse(text + "test.").Label(name.LabelCount)));
        var parent = name.Parent();
        Assert.Equal(text[(text.IndexOf('.') + 1)..], parent.ToString());
        Assert.True(name.IsSubdomainOf(parent));
        Assert.True(name.IsSubdomainOf(DnsName.Root));
        Assert.False(parent.IsSubdomainOf(name));
        Assert.True(parent.CompareTo(name) < 0);
        Assert.Equal(name, parent.Prepend(name.Label(0)));
        Assert.Equal(text, DnsName.FromWire(name.Wire).ToString());
        Assert.Equal(text.ToLowerInvariant(), upper.ToLowerCase().ToString());
        Assert.True(name.ToWildcard().IsWildcard);
        Assert.Throws<ArgumentOutOfRangeException>(() => name.Label(name.LabelCount).Length);
    }
}
