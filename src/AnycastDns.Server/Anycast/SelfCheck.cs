using System.Net;
using System.Net.NetworkInformation;
using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.Server.Probing;
using AnycastDns.Zones;

namespace AnycastDns.Server.Anycast;

/// <summary>
/// The server asks itself, from outside, over every listen address and both transports: CH TXT id.server must name
/// this PoP, and the SOA of each zone must come back authoritative with the serial loaded. RFC 4786 §4.3: a node
/// must answer correctly before it attracts traffic.
/// </summary>
/// <remarks>
/// Past <see cref="WireZonesAtMost"/> zones, the first check asks every zone's SOA of the answer engine itself (the
/// <see cref="Responder"/> the listeners use, without the sockets) and a sample of that many zones, spread over the
/// list, over every address and transport: asked one by one over the wire, 100,000 zones kept a starting PoP
/// withdrawn for more than 30 s, though the sockets and the answer path are the same for every zone.
/// </remarks>
/// <param name="tcpRefused">Connections the server has turned away at its TCP limit so far (null: not known).</param>
/// <param name="responder">The server's answer engine (null: every zone is asked over the wire).</param>
internal sealed class SelfCheck(ServerOptions options, Func<long>? tcpRefused = null, Func<Responder?>? responder = null)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    /// <summary>The most zones asked over each address and transport; past it, the rest are asked in-process.</summary>
    public const int WireZonesAtMost = 1_000;

    /// <summary>Runs the check; null when everything answered correctly, else the first problem, in one line.</summary>
    /// <param name="maxZones">How many zones to ask for (all at start; a few on the periodic checks).</param>
    public async Task<string?> RunAsync(IReadOnlyList<ListenAddress> addresses, ZoneSet zones, int maxZones, CancellationToken cancel)
    {
        // Every zone: in-process when there are too many to ask over the wire, a sample of them over it.
        int every = 1;
        if (maxZones > WireZonesAtMost && zones.Zones.Count > WireZonesAtMost && responder?.Invoke() is { } engine)
        {
            if (AskInProcess(engine, zones) is { } wrong)
            {
                return wrong;
            }
            every = (zones.Zones.Count + WireZonesAtMost - 1) / WireZonesAtMost;
        }
        var local = LocalAddresses();
        foreach (var address in addresses)
        {
            // An address the host does not have (bound with IP_FREEBIND) would be asked somewhere else entirely; and
            // announcing it would draw traffic to nothing.
            if (!IPAddress.IsLoopback(address.EndPoint.Address) && !local.Contains(address.EndPoint.Address))
            {
                return $"{address.EndPoint.Address} is not configured on any interface of this host";
            }
            foreach (bool tcp in new[] { false, true })
            {
                string transport = tcp ? "tcp" : "udp";
                long refusedBefore = tcpRefused?.Invoke() ?? 0;
                try
                {
                    var id = await DnsProbe.QueryAsync(address.EndPoint, Query("id.server.", RecordType.TXT, RecordClass.CH), tcp, Timeout, cancel).ConfigureAwait(false);
                    if (id.Answers.Count != 1 || string.Concat(DnsProbe.TxtStrings(id.Answers[0].Data)) != options.PopId)
                    {
                        return $"{address}/{transport}: id.server did not name {options.PopId} ({id.ResponseCode})";
                    }
                    int asked = 0;
                    for (int z = 0; z < zones.Zones.Count; z += every)
                    {
                        var zone = zones.Zones[z];
                        if (asked++ >= maxZones)
                        {
                            break;
                        }
                        var soa = await DnsProbe.QueryAsync(address.EndPoint, Query(zone.Origin.ToString(), RecordType.SOA, RecordClass.IN), tcp, Timeout, cancel).ConfigureAwait(false);
                        if (!IsSoaWithSerial(soa, zone.Serial))
                        {
                            return $"{address}/{transport}: SOA of {zone.Origin} did not come back authoritative with serial {zone.Serial} ({soa.ResponseCode})";
                        }
                    }
                }
                catch (System.Net.Sockets.SocketException) when (tcp && tcpRefused?.Invoke() > refusedBefore)
                {
                    // Every TCP slot is taken (load, or a connection flood) and ours was turned away like any client's.
                    // That is the server shedding load as configured (RFC 7766 §6.2.2), not failing: withdrawing the
                    // PoP for it would push the same load onto the next one.
                    continue;
                }
                catch (Exception e) when (e is TimeoutException or System.Net.Sockets.SocketException or DnsFormatException)
                {
                    return $"{address}/{transport}: {e.Message}";
                }
            }
        }
        return null;
    }

    /// <summary>Every zone's SOA asked of the answer engine: null when each came back authoritative with its serial.</summary>
    private static string? AskInProcess(Responder engine, ZoneSet zones)
    {
        var response = new byte[ushort.MaxValue];
        foreach (var zone in zones.Zones)
        {
            var query = DnsMessage.CreateQuery(zone.Origin, RecordType.SOA, RecordClass.IN, 1).Encode();
            int length = engine.Respond(query, response, Authority.Transport.Tcp); // never truncated
            var soa = length > 0 ? DnsMessage.Parse(response.AsSpan(0, length).ToArray()) : null;
            if (soa is null || !IsSoaWithSerial(soa, zone.Serial))
            {
                return $"in-process: SOA of {zone.Origin} did not come back authoritative with serial {zone.Serial} ({soa?.ResponseCode.ToString() ?? "no answer"})";
            }
        }
        return null;
    }

    /// <summary>An authoritative NOERROR answer of one SOA record with <paramref name="serial"/> (the fifth field from the end).</summary>
    private static bool IsSoaWithSerial(DnsMessage soa, uint serial) =>
        soa.ResponseCode == ResponseCode.NoError && soa.AuthoritativeAnswer && soa.Answers.Count == 1
        && System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(soa.Answers[0].Data.AsSpan(soa.Answers[0].Data.Length - 20)) == serial;

    private static DnsMessage Query(string name, RecordType type, RecordClass cls) =>
        DnsMessage.CreateQuery(DnsName.Parse(name), type, cls, (ushort)Random.Shared.Next(1, ushort.MaxValue));

    private static HashSet<IPAddress> LocalAddresses()
    {
        var set = new HashSet<IPAddress>();
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                var ip = unicast.Address;
                set.Add(ip.IsIPv6LinkLocal ? new IPAddress(ip.GetAddressBytes()) : ip);
            }
        }
        return set;
    }
}
