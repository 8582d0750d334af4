using System.Net;
using System.Net.Sockets;
using AnycastDns.Protocol;
using AnycastDns.Protocol.Presentation;
using CsCheck;

namespace AnycastDns.Protocol.Tests.Presentation;

/// <summary>
/// AAAA text is parsed in place (RFC 4291 §2.2), not through <see cref="IPAddress"/>: the two must agree on every text,
/// except that a dotted tail must be a strict dotted quad (no "1.2.3", no leading zeros) and nothing but hex digits,
/// colons and dots is an address here (no zone index, brackets or prefix).
/// </summary>
public class AddressTextTests
{
    private static readonly DnsName Origin = DnsName.Parse("example.test.");

    /// <summary>What the runtime's parser makes of the text under this server's rules, or null.</summary>
    private static byte[]? Reference(string text)
    {
        if (text.Length < 2 || text.AsSpan().ContainsAnyExcept("0123456789abcdefABCDEF:.") || !text.Contains(':'))
        {
            return null;
        }
        if (!IPAddress.TryParse(text, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }
        int lastColon = text.LastIndexOf(':');
        var tail = text[(lastColon + 1)..];
        if (tail.Contains('.') && !IsStrictDottedQuad(tail))
        {
            return null;
        }
        return address.GetAddressBytes();
    }

    private static bool IsStrictDottedQuad(string text)
    {
        var parts = text.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && (p.Length == 1 || p[0] != '0') && int.Parse(p) <= 255);
    }

    private static byte[]? Ours(string text)
    {
        try
        {
            return RdataPresentation.Parse(RecordType.AAAA, text, Origin);
        }
        catch (PresentationException)
        {
            return null;
        }
    }

    private static void Agree(string text)
    {
        var expected = Reference(text);
        var actual = Ours(text);
        Assert.True(expected is null == actual is null, $"'{text}': the runtime says {(expected is null ? "invalid" : "valid")}, ours {(actual is null ? "invalid" : "valid")}");
        if (expected is not null)
        {
            Assert.Equal(expected, actual);
        }
    }

    [Theory]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("1::")]
    [InlineData("1::2")]
    [InlineData("2001:db8::0:a")]
    [InlineData("2001:DB8:0:0:0:0:0:1")]
    [InlineData("1:2:3:4:5:6:7:8")]
    [InlineData("1:2:3:4:5:6:7::")]
    [InlineData("::2:3:4:5:6:7:8")]
    [InlineData("::ffff:192.0.2.1")]
    [InlineData("::192.0.2.1")]
    [InlineData("1:2:3:4:5:6:1.2.3.4")]
    [InlineData("0001:0002::000f")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("1:2:3:4:5:6:7")]
    [InlineData("1::2::3")]
    [InlineData(":::")]
    [InlineData(":1::")]
    [InlineData("1:")]
    [InlineData(":1")]
    [InlineData("12345::")]
    [InlineData("::1.2.3")]
    [InlineData("::01.2.3.4")]
    [InlineData("::1.2.3.4:1")]
    [InlineData("1:2:3:4:5:6:7:1.2.3.4")]
    [InlineData("::ffff:c0.0.2.1")]
    [InlineData("1.2.3.4")]
    [InlineData("1:2:3:4:5:6:7:8::")]
    [InlineData("::1:2:3:4:5:6:7:8")]
    public void Agrees_with_the_runtime_on_edge_cases(string text) => Agree(text);

    [Fact]
    public void Agrees_with_the_runtime_on_every_address_it_prints_and_on_random_text()
    {
        // Addresses as the runtime and RFC 5952 print them, with zero runs of every length and dotted tails.
        var words = Gen.OneOf(Gen.Const((ushort)0), Gen.UShort, Gen.UShort[0, 15]).Array[8];
        words.Sample(w =>
        {
            var bytes = new byte[16];
            for (int i = 0; i < 8; i++)
            {
                bytes[2 * i] = (byte)(w[i] >> 8);
                bytes[2 * i + 1] = (byte)w[i];
            }
            var printed = new IPAddress(bytes).ToString();
            Agree(printed);
            Assert.Equal(bytes, Ours(printed));
            Agree(string.Join(':', w.Select(x => x.ToString("x"))));
            Agree(string.Join(':', w.Select(x => x.ToString("X4"))));
        }, iter: 20_000);
        // Text from the address alphabet: almost all of it invalid, in every way an address can be.
        Gen.String[Gen.OneOf(Gen.Char["0123456789abcdef"], Gen.Const(':'), Gen.Const('.')), 1, 40].Sample(Agree, iter: 100_000);
        // Mutations of valid addresses: one character dropped, doubled or replaced.
        Gen.Select(words, Gen.Int[0, 100], Gen.Char["0f:.9"], Gen.Int[0, 2]).Sample((w, at, c, how) =>
        {
            var bytes = new byte[16];
            for (int i = 0; i < 8; i++)
            {
                bytes[2 * i] = (byte)(w[i] >> 8);
                bytes[2 * i + 1] = (byte)w[i];
            }
            var text = new IPAddress(bytes).ToString();
            int p = at % text.Length;
            Agree(how switch
            {
                0 => text.Remove(p, 1),
                1 => text.Insert(p, text[p].ToString()),
                _ => text.Remove(p, 1).Insert(p, c.ToString()),
            });
        }, iter: 50_000);
    }
}
