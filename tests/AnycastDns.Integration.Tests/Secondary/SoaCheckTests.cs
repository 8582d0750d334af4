using System.Globalization;
using System.Text.RegularExpressions;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Secondary;

/// <summary>
/// The SOA check of a refresh (RFC 1034 §4.3.5) goes over UDP, as NSD's xfrd asks, and over TCP only when the UDP
/// answer is truncated (RFC 7766 §5) or none comes; a datagram that does not answer the query is passed over. The
/// primary is played by dnspython on loopback, UDP and TCP, and says which transport each query came by.
/// </summary>
public sealed partial class SoaCheckTests : IDisposable
{
    private const string Origin = "soa-check.test.";

    /// <summary>argv: port, origin, mode (udp, truncated, silent, wrong-id). Serial 1 throughout, REFRESH 1 s.</summary>
    private const string PrimaryScript = """
        import socket, socketserver, struct, sys, threading
        import dns.flags, dns.message, dns.rdatatype, dns.rrset
        port, origin, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        soa = dns.rrset.from_text(origin, 300, 'IN', 'SOA', f'ns1.{origin} h.{origin} 1 1 1 3600 300')
        zone = [soa, dns.rrset.from_text(origin, 300, 'IN', 'NS', 'ns1.' + origin),
                dns.rrset.from_text('ns1.' + origin, 300, 'IN', 'A', '192.0.2.53'), soa]
        def answer(query, records):
            r = dns.message.make_response(query)
            r.flags |= dns.flags.AA
            for record in records:
                r.answer.append(record)
            return r
        def udp():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(('127.0.0.1', port))
            for _ in range(10000):
                data, client = s.recvfrom(65535)
                query = dns.message.from_wire(data)
                print('udp', dns.rdatatype.to_text(query.question[0].rdtype), flush=True)
                if mode == 'silent':
                    continue
                r = answer(query, [soa])
                if mode == 'truncated':
                    r = answer(query, [])
                    r.flags |= dns.flags.TC
                if mode == 'wrong-id':
                    other = answer(query, [dns.rrset.from_text(origin, 300, 'IN', 'SOA', f'ns1.{origin} h.{origin} 99 1 1 3600 300')])
                    other.id = (query.id + 1) % 65536
                    s.sendto(other.to_wire(), client)
                s.sendto(r.to_wire(), client)
        class Tcp(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.settimeout(5)
                prefix = self.request.recv(2, socket.MSG_WAITALL)
                if len(prefix) < 2:
                    return
                query = dns.message.from_wire(self.request.recv(struct.unpack('!H', prefix)[0], socket.MSG_WAITALL))
                qtype = query.question[0].rdtype
                print('tcp', dns.rdatatype.to_text(qtype), flush=True)
                wire = answer(query, [soa] if qtype == dns.rdatatype.SOA else zone).to_wire()
                self.request.sendall(struct.pack('!H', len(wire)) + wire)
        threading.Thread(target=udp, daemon=True).start()
        socketserver.TCPServer.allow_reuse_address = True
        with socketserver.TCPServer(('127.0.0.1', port), Tcp) as server:
            print('ready', flush=True)
            server.serve_forever()
        """;

    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-soa-check-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("udp", false)]
    [InlineData("wrong-id", false)]
    [InlineData("truncated", true)]
    [InlineData("silent", true)]
    public async Task The_soa_check_goes_over_udp_and_over_tcp_only_when_udp_does_not_answer(string mode, bool overTcp)
    {
        int port = LoopbackPort.FindFreeForUdpAndTcp();
        await using var primary = PythonProcess.Start(PrimaryScript, [port.ToString(CultureInfo.InvariantCulture), Origin, mode], _folder);
        Assert.True(await primary.WaitForAsync("ready", TimeSpan.FromSeconds(10)), "the scripted primary did not start:\n" + primary.Log);
        await using var ours = await AnycastDnsServer.StartAsync(Directory.CreateDirectory(Path.Combine(_folder, "zones")).FullName,
            ["--secondary-zone", $"{Origin} 127.0.0.1:{port}", "--secondary-state", Path.Combine(_folder, "state"), "--no-watch"], ["127.0.0.1"]);
        Assert.True(await ours.WaitForLogAsync($"zone {Origin} serial 1", TimeSpan.FromSeconds(15)), ours.Log + primary.Log);

        // REFRESH is 1 s: a few checks follow the first transfer (a silent primary makes each wait 1.75 s for UDP).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20) && (overTcp ? Count(primary.Log, "tcp SOA") < 2 : Count(primary.Log, "udp SOA") < 3))
        {
            await Task.Delay(100);
        }
        await Task.Delay(500);
        string log = primary.Log;
        Assert.True(Count(log, "udp SOA") >= 2, log);
        Assert.Equal(1, Count(log, "tcp AXFR"));
        if (overTcp)
        {
            Assert.True(Count(log, "tcp SOA") >= 2, log);
        }
        else
        {
            Assert.Equal(0, Count(log, "tcp SOA"));
        }
        Assert.DoesNotContain("refresh failed", ours.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("serial 99", ours.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", ours.Log, StringComparison.Ordinal);
    }

    private static int Count(string log, string line) => LineRegex().Matches(log).Count(m => m.Value.Trim() == line);

    [GeneratedRegex("^.*$", RegexOptions.Multiline)]
    private static partial Regex LineRegex();
}
