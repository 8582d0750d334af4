using System.Text;
using AnycastDns.Authority.Cookies;
using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Authority.Tests.Cookies;

/// <summary>CHAOS <c>cookies.server</c>: where the cookie secrets come from and their fingerprints, never a secret.</summary>
public class CookiesServerTests
{
    /// <summary>Asks <see cref="Chaos"/> directly, as the responder does for class CH, and parses what it wrote.</summary>
    private static DnsMessage Ask(Chaos chaos, string name, RecordType type = RecordType.TXT)
    {
        var buffer = new byte[512];
        var r = new Response(buffer);
        r.Writer.WriteHeader(r.Header);
        chaos.Write(ref r, DnsName.Parse(name).Wire.ToArray(), type, ZoneSet.Empty);
        r.Finish();
        return DnsMessage.Parse(buffer.AsSpan(0, r.Writer.Position));
    }

    private static string[] Strings(ResourceRecord rr)
    {
        var strings = new List<string>();
        for (int at = 0; at < rr.Data.Length; at += 1 + rr.Data[at])
        {
            strings.Add(Encoding.UTF8.GetString(rr.Data, at + 1, rr.Data[at]));
        }
        return [.. strings];
    }

    [Fact]
    public void Cookies_server_gives_the_source_and_every_fingerprint_the_creating_one_first()
    {
        byte[] secret1 = Convert.FromHexString("445536bcd2513298075a5d379663c962");
        byte[] secret2 = Convert.FromHexString("dd3bdf9344b678b185a6f5cb60fca715");
        var holder = new CookieSecretsHolder(new CookieSecrets([secret1, secret2]));
        var chaos = new Chaos("ams1", null, holder);

        var answer = Ask(chaos, "COOKIES.server.");
        Assert.Equal(ResponseCode.NoError, answer.ResponseCode);
        var rr = Assert.Single(answer.Answers);
        Assert.Equal(RecordClass.CH, rr.Class);
        Assert.Equal(0u, rr.Ttl);
        Assert.Equal(["file", "d15777da", "766b21ce"], Strings(rr));
        string wire = Convert.ToHexStringLower(rr.Data);
        Assert.DoesNotContain(Convert.ToHexStringLower(secret1), wire, StringComparison.Ordinal);

        // A swap is seen at the next query.
        holder.Current = CookieSecrets.CreateRandom();
        var after = Strings(Assert.Single(Ask(chaos, "cookies.server.").Answers));
        Assert.Equal(["random", holder.Current.Fingerprint], after);
    }

    [Fact]
    public void Without_secrets_or_for_another_type_it_is_refused()
    {
        Assert.Equal(ResponseCode.Refused, Ask(new Chaos("ams1", null), "cookies.server.").ResponseCode);
        var chaos = new Chaos("ams1", null, new CookieSecretsHolder(CookieSecrets.CreateRandom()));
        Assert.Equal(ResponseCode.Refused, Ask(chaos, "cookies.server.", RecordType.A).ResponseCode);
        Assert.Equal(ResponseCode.Refused, Ask(chaos, "x.cookies.server.").ResponseCode);
        Assert.Equal("ams1", Strings(Assert.Single(Ask(chaos, "id.server.").Answers))[0]);
    }
}
