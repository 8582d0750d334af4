using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Authority.Tests;

/// <summary>Builds zones from text and asks the responder questions, returning parsed responses.</summary>
internal sealed class Engine
{
    private readonly byte[] _buffer = new byte[Responder.MaxResponseSize];

    public Engine(ResponderOptions? options = null, params (string Origin, string Text)[] zones)
    {
        var built = new List<Zone>();
        foreach (var (origin, text) in zones)
        {
            built.Add(BuildZone(origin, text));
        }
        Responder = new Responder(new ZoneSet(built), options ?? new ResponderOptions { PopId = "pop-test", VersionString = "AnycastDns test" });
    }

    public Engine(Responder responder) => Responder = responder;

    public Responder Responder { get; }

    public static Zone BuildZone(string origin, string text)
    {
        var name = DnsName.Parse(origin);
        var parsed = ZoneFileReader.ReadText(text, origin + "zone", name);
        Assert.False(parsed.HasErrors, string.Join("\n", parsed.Diagnostics));
        var diagnostics = new List<ZoneDiagnostic>();
        var zone = ZoneBuilder.Build(name, parsed.Records, diagnostics, origin + "zone");
        Assert.True(zone is not null, string.Join("\n", diagnostics));
        return zone!;
    }

    public DnsMessage Ask(string name, RecordType type, RecordClass cls = RecordClass.IN, EdnsRecord? edns = null, Transport transport = Transport.Udp)
    {
        var query = DnsMessage.CreateQuery(DnsName.Parse(name), type, cls, 0x1234, edns).Encode();
        return Send(query, transport) ?? throw new InvalidOperationException("dropped");
    }

    public DnsMessage? Send(byte[] query, Transport transport = Transport.Udp)
    {
        int length = Responder.Respond(query, _buffer, transport);
        return length == 0 ? null : DnsMessage.Parse(_buffer.AsSpan(0, length));
    }

    public int RawLength(byte[] query, Transport transport = Transport.Udp) => Responder.Respond(query, _buffer, transport);
}

internal static class Records
{
    public static string[] Texts(this IEnumerable<ResourceRecord> records) =>
        records.Select(r => $"{r.Name} {r.Ttl} {RecordTypeNames.ToText(r.Type)} {Render(r)}").ToArray();

    private static string Render(ResourceRecord r) => r.Type switch
    {
        RecordType.A => string.Join('.', r.Data),
        RecordType.NS or RecordType.CNAME or RecordType.DNAME or RecordType.PTR => WireName.ToText(r.Data),
        RecordType.MX => $"{(r.Data[0] << 8) | r.Data[1]} {WireName.ToText(r.Data.AsSpan(2))}",
        RecordType.SOA => WireName.ToText(r.Data) + " ...",
        _ => Convert.ToHexString(r.Data),
    };
}
