using System.Text;
using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Benchmarks;

/// <summary>
/// A generated zone with one name for each answer case the engine benchmarks ask about, plus <c>hostN</c> filler
/// names so that lookups run against a table of realistic size rather than a handful of entries.
/// </summary>
internal static class BenchZone
{
    public const string Origin = "bench.test.";

    /// <summary>Zone text: the case names first, then <paramref name="hosts"/> names cycling through A, AAAA, MX, TXT and CNAME.</summary>
    public static string Text(int hosts)
    {
        var text = new StringBuilder(hosts * 48 + 1024);
        text.Append("""
            $TTL 3600
            @         IN SOA ns1 hostmaster 2024010101 7200 900 1209600 300
                      IN NS  ns1
                      IN NS  ns2
                      IN MX  10 mail
            ns1       IN A   192.0.2.1
            ns2       IN A   192.0.2.2
            mail      IN A   192.0.2.25
                      IN AAAA 2001:db8::25
            www       IN A   192.0.2.80
            *.wild    IN A   192.0.2.99
            chain1    IN CNAME chain2
            chain2    IN CNAME chain3
            chain3    IN CNAME www
            sub       IN NS  ns.sub
            ns.sub    IN A   192.0.2.53

            """);
        for (int i = 0; i < hosts; i++)
        {
            string line = (i % 5) switch
            {
                0 => $"host{i} IN A 10.{(i >> 16) & 0xFF}.{(i >> 8) & 0xFF}.{i & 0xFF}",
                1 => $"host{i} IN AAAA 2001:db8::{i:x}",
                2 => $"host{i} IN MX 10 host{i - 2}",
                3 => $"host{i} IN TXT \"v=spf1 ip4:10.0.0.0/8 -all\" \"host {i}\"",
                _ => $"host{i} IN CNAME host{i - 4}",
            };
            text.Append(line).Append('\n');
        }
        return text.ToString();
    }

    public static Zone Build(int hosts)
    {
        var origin = DnsName.Parse(Origin);
        var parsed = ZoneFileReader.ReadText(Text(hosts), "bench.test.zone", origin);
        var diagnostics = new List<ZoneDiagnostic>(parsed.Diagnostics);
        var zone = parsed.HasErrors ? null : ZoneBuilder.Build(origin, parsed.Records, diagnostics, "bench.test.zone");
        return zone ?? throw new InvalidOperationException("generated zone does not load: " + string.Join("; ", diagnostics));
    }

    public static Responder Responder(int hosts) =>
        new(new ZoneSet([Build(hosts)]), new ResponderOptions { PopId = "bench-pop-1", VersionString = "AnycastDns bench" });

    public static byte[] Query(string name, RecordType type, RecordClass cls = RecordClass.IN, EdnsRecord? edns = null) =>
        DnsMessage.CreateQuery(DnsName.Parse(name), type, cls, 0x4242, edns).Encode();

    /// <summary>An EDNS(0) OPT with an empty NSID option, as <c>dig +nsid</c> sends (RFC 5001 §2.1).</summary>
    public static EdnsRecord NsidRequest()
    {
        var edns = new EdnsRecord { UdpPayloadSize = 1232 };
        edns.Options.Add(new EdnsOption(EdnsOptionCode.Nsid, []));
        return edns;
    }
}
