using System.Globalization;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Secondary;

/// <summary>
/// A primary that sends what no sane primary sends, played by dnspython on loopback: it serves serial 1 properly, then,
/// once the test says so, announces serial 2 and sends a broken transfer (a stream cut before the closing SOA, a record
/// outside the zone, an IXFR deleting a record serial 1 does not have). Each is one clear log line, and serial 1 keeps
/// serving, whole.
/// </summary>
public sealed class BrokenPrimaryTests : IAsyncLifetime
{
    private const string Origin = "broken.test.";
    /// <summary>argv: port, origin, mode, trigger file. Serial 2 (and the broken answer) once the trigger file exists.</summary>
    private const string PrimaryScript = """
        import os, socket, struct, sys
        import dns.flags, dns.message, dns.rcode, dns.rdatatype, dns.rrset
        port, origin, mode, trigger = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
        def soa(serial):
            return dns.rrset.from_text(origin, 300, 'IN', 'SOA', f'ns1.{origin} h.{origin} {serial} 1 1 3600 300')
        def rr(name, rtype, text):
            return dns.rrset.from_text(name, 300, 'IN', rtype, text)
        base = [rr(origin, 'NS', 'ns1.' + origin), rr('ns1.' + origin, 'A', '192.0.2.53'), rr('www.' + origin, 'A', '192.0.2.1')]
        def send(conn, query, records, rcode=0):
            r = dns.message.make_response(query)
            r.flags |= dns.flags.AA
            r.set_rcode(rcode)
            for record in records:
                r.answer.append(record)
            wire = r.to_wire()
            conn.sendall(struct.pack('!H', len(wire)) + wire)
        def read(conn, n):
            data = b''
            while len(data) < n:
                chunk = conn.recv(n - len(data))
                if not chunk:
                    return None
                data += chunk
            return data
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(('127.0.0.1', port))
        listener.listen(16)
        print('ready', flush=True)
        for _ in range(10000):
            conn, _ = listener.accept()
            conn.settimeout(5)
            try:
                prefix = read(conn, 2)
                if prefix is None:
                    continue
                query = dns.message.from_wire(read(conn, struct.unpack('!H', prefix)[0]))
                qtype = query.question[0].rdtype
                serial = 2 if os.path.exists(trigger) else 1
                if qtype == dns.rdatatype.SOA:
                    send(conn, query, [soa(serial)])
                elif qtype == dns.rdatatype.IXFR and serial == 2 and mode == 'ixfr-delete':
                    send(conn, query, [soa(2), soa(1), rr('missing.' + origin, 'A', '192.0.2.99'), soa(2), rr('new.' + origin, 'A', '192.0.2.2'), soa(2)])
                elif qtype == dns.rdatatype.IXFR:
                    send(conn, query, [], dns.rcode.NOTIMP)
                elif serial == 1:
                    send(conn, query, [soa(1)] + base + [soa(1)])
                elif mode == 'truncated':
                    send(conn, query, [soa(2)] + base)
                elif mode == 'out-of-zone':
                    send(conn, query, [soa(2)] + base + [rr('evil.example.', 'A', '192.0.2.66'), soa(2)])
            except (OSError, dns.exception.DNSException):
                pass
            finally:
                conn.close()
        """;

    private string _folder = "";

    public Task InitializeAsync()
    {
        _folder = Directory.CreateTempSubdirectory("anycastdns-broken-primary-").FullName;
        Directory.CreateDirectory(Path.Combine(_folder, "zones"));
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("truncated", "before the closing SOA (truncated transfer)")]
    [InlineData("out-of-zone", "evil.example. A is outside the zone (out-of-zone record)")]
    [InlineData("ixfr-delete", "the IXFR deletes missing.broken.test. A 192.0.2.99, which serial 1 does not have")]
    public async Task A_broken_transfer_is_one_line_and_the_previous_version_keeps_serving(string mode, string line)
    {
        int port = LoopbackPort.FindFreeForUdpAndTcp();
        string trigger = Path.Combine(_folder, "serial2");
        await using var primary = PythonProcess.Start(PrimaryScript, [port.ToString(CultureInfo.InvariantCulture), Origin, mode, trigger], _folder);
        Assert.True(await primary.WaitForAsync("ready", TimeSpan.FromSeconds(10)), "the scripted primary did not start:\n" + primary.Log);
        {
            await using var ours = await AnycastDnsServer.StartAsync(Path.Combine(_folder, "zones"),
                ["--secondary-zone", $"{Origin} 127.0.0.1:{port}", "--secondary-state", Path.Combine(_folder, "state"), "--no-watch"], ["127.0.0.1"]);
            Assert.True(await ours.WaitForLogAsync($"zone {Origin} serial 1", TimeSpan.FromSeconds(15)), ours.Log + primary.Log);

            File.WriteAllText(trigger, "");
            // SOA REFRESH is 1 s: the next check sees serial 2 and fetches the broken version.
            Assert.True(await ours.WaitForLogAsync(line, TimeSpan.FromSeconds(10)), ours.Log + primary.Log);
            Assert.Contains("refresh failed", ours.Log, StringComparison.Ordinal);
            var soa = await Kdig.QueryAsync(ours.EndPoint, [Origin, "SOA", "+short"]);
            Assert.Contains(" 1 1 1 3600 300", soa.StandardOutput, StringComparison.Ordinal);
            Assert.Equal("192.0.2.1", (await Kdig.QueryAsync(ours.EndPoint, ["www." + Origin, "A", "+short"])).StandardOutput.Trim());
            // Nothing of the broken version: neither its records nor a serial 2 anywhere, the kept file included.
            Assert.Equal("", (await Kdig.QueryAsync(ours.EndPoint, ["new." + Origin, "A", "+short"])).StandardOutput.Trim());
            Assert.DoesNotContain($"serial 1 -> 2", ours.Log, StringComparison.Ordinal);
            Assert.Contains(" 1 1 1 3600 300", File.ReadAllText(Path.Combine(_folder, "state", Origin + "zone")), StringComparison.Ordinal);
            Assert.DoesNotContain("Exception", ours.Log, StringComparison.Ordinal);
        }
    }
}
