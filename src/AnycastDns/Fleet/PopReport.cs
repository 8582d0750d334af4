using System.Net;
using AnycastDns.Protocol;
using AnycastDns.Server.Probing;

namespace AnycastDns.Fleet;

/// <summary>One zone as a PoP reports it over CHAOS <c>zones.server</c>: origin, SOA serial, ZONEMD SHA-384 digest.</summary>
internal sealed record ZoneReport(string Origin, string Serial, string Digest);

/// <summary>What one PoP said about itself, or why it said nothing.</summary>
internal sealed record PopReport(IPEndPoint Address, string? Identity, IReadOnlyList<ZoneReport>? Zones, string? Failure)
{
    public bool Answered => Failure is null;

    /// <summary>Asks the PoP <c>CH TXT id.server</c> (UDP) and <c>CH TXT zones.server</c> (TCP, as the list can be long).</summary>
    public static async Task<PopReport> ProbeAsync(IPEndPoint address, TimeSpan timeout, CancellationToken cancel)
    {
        try
        {
            var id = await AskAsync(address, "id.server.", tcp: false, timeout, cancel).ConfigureAwait(false);
            string identity = id.Answers.Count > 0 && id.Answers[0].Type == RecordType.TXT
                ? string.Concat(DnsProbe.TxtStrings(id.Answers[0].Data))
                : $"({id.ResponseCode})";
            var list = await AskAsync(address, "zones.server.", tcp: true, timeout, cancel).ConfigureAwait(false);
            if (list.ResponseCode != ResponseCode.NoError)
            {
                return new PopReport(address, identity, null, $"zones.server answered {list.ResponseCode}: not an AnycastDns server?");
            }
            var zones = new List<ZoneReport>();
            foreach (var rr in list.Answers)
            {
                var strings = DnsProbe.TxtStrings(rr.Data);
                if (rr.Type != RecordType.TXT || strings.Count != 3)
                {
                    return new PopReport(address, identity, null, "zones.server: expected TXT records of origin, serial and digest");
                }
                zones.Add(new ZoneReport(strings[0].ToLowerInvariant(), strings[1], strings[2]));
            }
            return new PopReport(address, identity, zones, null);
        }
        catch (Exception e) when (e is TimeoutException or System.Net.Sockets.SocketException or DnsFormatException)
        {
            return new PopReport(address, null, null, e.Message);
        }
    }

    private static Task<DnsMessage> AskAsync(IPEndPoint address, string name, bool tcp, TimeSpan timeout, CancellationToken cancel)
    {
        var query = DnsMessage.CreateQuery(DnsName.Parse(name), RecordType.TXT, RecordClass.CH, (ushort)Random.Shared.Next(1, ushort.MaxValue));
        return DnsProbe.QueryAsync(address, query, tcp, timeout, cancel);
    }
}
