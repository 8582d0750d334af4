using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AnycastDns.Integration.Tests.Server;
using AnycastDns.Integration.Tests.Telemetry;
using AnycastDns.Protocol;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Transfers;

/// <summary>
/// AXFR from the real server with clients nobody here wrote: kdig, dig with a TSIG key, and dnspython, which reads the
/// transfer into a zone and compares it with the zone file it reads itself. Then what must be refused, and what a
/// broken request gets.
/// </summary>
[Collection(TransferFixture.Name)]
public sealed class AxfrTests(TransferFixture fixture)
{
    private const string DebianPython = "/usr/bin/python3";
    private const string DigPath = "/usr/bin/dig";
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// argv: host, port, zones folder, key name, secret ("" for unsigned), then origins. For each: the transfer read
    /// by dns.query.xfr into a zone (which checks the SOA first and last and, with a key, every message's TSIG), and
    /// the zone file read by dns.zone.from_file; prints "origin equal N" or "origin differ" with the differences.
    /// </summary>
    private const string CompareScript = """
        import sys, os
        import dns.name, dns.query, dns.tsig, dns.zone, dns.rdataclass
        host, port, folder, keyname, secret = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
        kwargs = {}
        if secret:
            name = dns.name.from_text(keyname)
            kwargs = dict(keyring={name: dns.tsig.Key(name, secret, dns.tsig.HMAC_SHA256)}, keyname=name)
        def records(zone):
            return sorted(f"{n.derelativize(zone.origin)} {rds.ttl} {rd.to_text(origin=zone.origin, relativize=False)}"
                          for n, node in zone.nodes.items() for rds in node.rdatasets for rd in rds)
        for origin in sys.argv[6:]:
            path = os.path.join(folder, origin + "zone")
            transferred = dns.zone.from_xfr(dns.query.xfr(host, origin, port=port, lifetime=30, **kwargs))
            from_file = dns.zone.from_file(path, origin, check_origin=False)
            a, b = records(transferred), records(from_file)
            if a == b:
                print(origin, "equal", len(a))
            else:
                print(origin, "differ", "missing:", sorted(set(b) - set(a))[:5], "extra:", sorted(set(a) - set(b))[:5])
        """;

    /// <summary>argv: host, port, zone, key name, secret, algorithm: "ok N" with the records transferred, or "error Type RCODE".</summary>
    private const string XfrScript = """
        import sys
        import dns.name, dns.query, dns.rcode, dns.tsig, dns.zone
        host, port, zone, keyname, secret, algorithm = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
        name = dns.name.from_text(keyname)
        keyring = {name: dns.tsig.Key(name, secret, dns.name.from_text(algorithm))}
        try:
            z = dns.zone.from_xfr(dns.query.xfr(host, zone, port=port, lifetime=30, keyring=keyring, keyname=name))
            print("ok", sum(len(rds) for node in z.nodes.values() for rds in node.rdatasets))
        except Exception as e:
            rcode = getattr(e, "rcode", None)
            print("error", type(e).__name__, dns.rcode.to_text(rcode) if rcode is not None else "")
        """;

    [Fact]
    public async Task Dnspython_reads_every_zone_by_AXFR_exactly_as_the_zone_file_unsigned_and_with_TSIG()
    {
        foreach (var (server, secret) in new[] { (fixture.Open, ""), (fixture.Keyed, TransferFixture.Key.Secret) })
        {
            var result = await ExternalTool.RunAsync(DebianPython,
                ["-c", CompareScript, "127.0.0.1", server.Port.ToString(CultureInfo.InvariantCulture), fixture.ZonesFolder, TransferFixture.Key.Name, secret, .. fixture.Origins], RunTimeout);
            Assert.True(result.ExitCode == 0, result.Output);
            var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(fixture.Origins.Count, lines.Length);
            Assert.All(lines, line => Assert.Contains(" equal ", line, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Kdig_transfers_every_zone_with_the_SOA_first_and_last()
    {
        foreach (string origin in fixture.Origins)
        {
            var axfr = await Kdig.QueryAsync(fixture.Open.EndPoint, [origin, "AXFR", "+tcp"]);
            Assert.True(axfr.ExitCode == 0, axfr.Output);
            var lines = axfr.StandardOutput.Split('\n').Where(l => l.Length > 0 && !l.StartsWith(';')).ToList();
            Assert.Contains("\tSOA\t", lines[0], StringComparison.Ordinal);
            Assert.Equal(lines[0], lines[^1]);
            Assert.Equal(2, lines.Count(l => l.Contains("\tSOA\t", StringComparison.Ordinal) && l.StartsWith(origin, StringComparison.OrdinalIgnoreCase)));
            Assert.DoesNotContain("WARNING", axfr.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Dig_with_the_key_transfers_and_a_wrong_or_unknown_key_or_no_key_is_refused()
    {
        string port = fixture.Keyed.Port.ToString(CultureInfo.InvariantCulture);
        var good = await Dig(port, "-y", $"hmac-sha256:{TransferFixture.Key.Name}:{TransferFixture.Key.Secret}", "example.test", "AXFR");
        Assert.True(good.ExitCode == 0, good.Output);
        Assert.Matches(@";; XFR size: \d+ records \(messages \d+", good.StandardOutput);
        Assert.DoesNotContain("failed", good.Output, StringComparison.OrdinalIgnoreCase);

        // RFC 8945 §5.2.2: a MAC that does not verify is NOTAUTH with BADSIG, unsigned.
        var wrong = await Dig(port, "-y", $"hmac-sha256:{TransferFixture.Key.Name}:{TransferFixture.WrongSecret}", "example.test", "AXFR");
        Assert.Contains("BADSIG", wrong.Output, StringComparison.Ordinal);
        Assert.Contains("Transfer failed", wrong.Output, StringComparison.Ordinal);
        // §5.2.1: a key the server does not have, or has with another algorithm: BADKEY.
        var unknown = await Dig(port, "-y", $"hmac-sha256:nobody-key:{TransferFixture.Key.Secret}", "example.test", "AXFR");
        Assert.Contains("BADKEY", unknown.Output, StringComparison.Ordinal);
        var otherAlgorithm = await Dig(port, "-y", $"hmac-sha512:{TransferFixture.Key.Name}:{TransferFixture.Key.Secret}", "example.test", "AXFR");
        Assert.Contains("BADKEY", otherAlgorithm.Output, StringComparison.Ordinal);
        // A key the server has but Transfers:Allow does not name: REFUSED (dnspython's view of it).
        var notAllowed = await ExternalTool.RunAsync(DebianPython,
            ["-c", XfrScript, "127.0.0.1", port, "example.test.", TransferFixture.OtherKey.Name, TransferFixture.OtherKey.Secret, "hmac-sha512"], RunTimeout);
        Assert.Equal("error TransferError REFUSED", notAllowed.StandardOutput.Trim());
        var allowed = await ExternalTool.RunAsync(DebianPython,
            ["-c", XfrScript, "127.0.0.1", port, "example.test.", TransferFixture.Key.Name, TransferFixture.Key.Secret, "hmac-sha256"], RunTimeout);
        Assert.StartsWith("ok ", allowed.StandardOutput, StringComparison.Ordinal);

        // No key from an address Transfers:Allow does not list: REFUSED with EDE 18 Prohibited, as before transfers existed.
        using var connection = await TcpDnsConnection.ConnectAsync(fixture.Keyed.EndPoint, Timeout);
        var unsigned = await connection.QueryAsync(DnsMessage.CreateQuery(DnsName.Parse("example.test."), RecordType.AXFR, RecordClass.IN, 0x6006, new EdnsRecord()), Timeout);
        Assert.Equal(ResponseCode.Refused, unsigned.ResponseCode);
        Assert.Empty(unsigned.Answers);
        Assert.Equal([0, (byte)ExtendedErrorCode.Prohibited], unsigned.Edns!.Options.Single(o => o.Code == EdnsOptionCode.ExtendedError).Data);
    }

    [Fact]
    public async Task A_signed_ordinary_query_gets_a_signed_answer()
    {
        // Over TCP, as secondaries ask for the SOA before a transfer (over UDP: SignedUdpTests).
        string port = fixture.Keyed.Port.ToString(CultureInfo.InvariantCulture);
        var soa = await Dig(port, "-y", $"hmac-sha256:{TransferFixture.Key.Name}:{TransferFixture.Key.Secret}", "+tcp", "example.test", "SOA");
        Assert.Contains("status: NOERROR", soa.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("TSIG PSEUDOSECTION", soa.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Couldn't verify", soa.Output, StringComparison.Ordinal);
        var wrong = await Dig(port, "-y", $"hmac-sha256:{TransferFixture.Key.Name}:{TransferFixture.WrongSecret}", "+tcp", "example.test", "SOA");
        Assert.Contains("status: NOTAUTH", wrong.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("BADSIG", wrong.Output, StringComparison.Ordinal);
    }

    /// <summary>argv: host, port, key name, secret, skew in seconds: a signed SOA query whose Time Signed is that far
    /// off, sent over TCP; prints what dnspython makes of the answer, then the answer in hex.</summary>
    private const string SkewScript = """
        import sys, time, socket, struct
        import dns.message, dns.name, dns.tsig
        host, port, keyname, secret, skew = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
        name = dns.name.from_text(keyname)
        keyring = {name: dns.tsig.Key(name, secret, dns.tsig.HMAC_SHA256)}
        q = dns.message.make_query("example.test.", "SOA")
        q.use_tsig(keyring, keyname=name)
        real = time.time
        time.time = lambda: real() + skew
        wire = q.to_wire()
        time.time = real
        with socket.create_connection((host, port), timeout=10) as s:
            s.sendall(struct.pack("!H", len(wire)) + wire)
            def read(n):
                data = b""
                while len(data) < n:
                    chunk = s.recv(n - len(data))
                    if not chunk:
                        raise EOFError()
                    data += chunk
                return data
            answer = read(struct.unpack("!H", read(2))[0])
        try:
            dns.message.from_wire(answer, keyring=keyring, request_mac=q.mac)
            print("verified", answer.hex())
        except Exception as e:
            print(type(e).__name__, answer.hex())
        """;

    [Fact]
    public async Task A_request_signed_too_far_from_now_is_BADTIME_signed_with_the_server_time()
    {
        string port = fixture.Keyed.Port.ToString(CultureInfo.InvariantCulture);
        foreach (int skew in new[] { -1000, 1000, 0 })
        {
            var result = await ExternalTool.RunAsync(DebianPython,
                ["-c", SkewScript, "127.0.0.1", port, TransferFixture.Key.Name, TransferFixture.Key.Secret, skew.ToString(CultureInfo.InvariantCulture)], RunTimeout);
            Assert.True(result.ExitCode == 0, result.Output);
            var fields = result.StandardOutput.Trim().Split(' ');
            var answer = DnsMessage.Parse(Convert.FromHexString(fields[1]));
            var tsig = answer.Additional.Single(r => r.Type == RecordType.TSIG).Data;
            // Algorithm name (13 octets), Time Signed, Fudge, MAC Size, MAC, Original ID, Error, Other Len, Other Data.
            int macSize = BinaryPrimitives.ReadUInt16BigEndian(tsig.AsSpan(13 + 8));
            int errorAt = 13 + 10 + macSize + 2;
            ushort error = BinaryPrimitives.ReadUInt16BigEndian(tsig.AsSpan(errorAt));
            int otherLength = BinaryPrimitives.ReadUInt16BigEndian(tsig.AsSpan(errorAt + 2));
            Assert.Equal(32, macSize);
            if (skew == 0)
            {
                Assert.Equal("verified", fields[0]);
                Assert.Equal(ResponseCode.NoError, answer.ResponseCode);
                Assert.Equal(0, error);
                continue;
            }
            // RFC 8945 §5.2.3: NOTAUTH, BADTIME, signed, the server's time in Other Data.
            Assert.Equal("PeerBadTime", fields[0]);
            Assert.Equal(ResponseCode.NotAuth, answer.ResponseCode);
            Assert.Equal(18, error);
            Assert.Equal(6, otherLength);
            ulong serverTime = ((ulong)BinaryPrimitives.ReadUInt16BigEndian(tsig.AsSpan(errorAt + 4)) << 32) | BinaryPrimitives.ReadUInt32BigEndian(tsig.AsSpan(errorAt + 6));
            Assert.InRange((long)serverTime, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 30, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        }
    }

    [Fact]
    public async Task AXFR_over_UDP_is_refused()
    {
        using var udp = new UdpClient(AddressFamily.InterNetwork);
        var query = DnsMessage.CreateQuery(DnsName.Parse("example.test."), RecordType.AXFR, RecordClass.IN, 0x5151).Encode();
        await udp.SendAsync(query, fixture.Open.EndPoint);
        using var deadline = new CancellationTokenSource(Timeout);
        var received = await udp.ReceiveAsync(deadline.Token);
        var answer = DnsMessage.Parse(received.Buffer);
        // RFC 5936 §4.2: AXFR over UDP is not defined; the request is refused, with no record.
        Assert.Equal(ResponseCode.Refused, answer.ResponseCode);
        Assert.Empty(answer.Answers);
    }

    [Fact]
    public async Task Malformed_TSIG_records_and_a_truncated_request_get_answers_and_the_connection_goes_on()
    {
        using var connection = await TcpDnsConnection.ConnectAsync(fixture.Keyed.EndPoint, Timeout);
        var axfr = DnsMessage.CreateQuery(DnsName.Parse("example.test."), RecordType.AXFR, RecordClass.IN, 0x7001).Encode();
        byte[] keyName = DnsName.Parse(TransferFixture.Key.Name + ".").Wire.ToArray();

        // CLASS IN instead of ANY (RFC 8945 §4.2), an RDATA that ends early, a TSIG before an OPT (§5.1).
        byte[] classIn = WithAdditional(axfr, Record(keyName, 250, 1, 0, [11, .. "hmac-sha256"u8, 0, 0, 0, 0, 0, 0, 1, 1, 44, 0, 0, 0x70, 1, 0, 0, 0, 0]));
        byte[] shortRdata = WithAdditional(axfr, Record(keyName, 250, 255, 0, [11, .. "hmac-sha256"u8, 0, 0, 0]));
        byte[] notLast = WithAdditional(axfr, Record(keyName, 250, 255, 0, [11, .. "hmac-sha256"u8, 0, 0, 0, 0, 0, 0, 1, 1, 44, 0, 0, 0x70, 1, 0, 0, 0, 0]), Record([0], 41, 1232, 0, []));
        foreach (var request in new[] { classIn, shortRdata, notLast })
        {
            await connection.SendRawAsync(TcpDnsConnection.Frame(request), Timeout);
            var answer = await connection.ReceiveMessageAsync(Timeout);
            Assert.Equal(ResponseCode.FormErr, answer.ResponseCode);
            Assert.Equal(0x7001, answer.Id);
            Assert.Empty(answer.Answers);
        }

        // A request cut inside its question: FORMERR from the query checks, not a transfer.
        byte[] truncated = axfr[..(Header.Length + 5)];
        await connection.SendRawAsync(TcpDnsConnection.Frame(truncated), Timeout);
        var formErr = await connection.ReceiveMessageAsync(Timeout);
        Assert.Equal(ResponseCode.FormErr, formErr.ResponseCode);

        // The connection still answers.
        var soa = await connection.QueryAsync(DnsMessage.CreateQuery(DnsName.Parse("example.test."), RecordType.SOA), Timeout);
        Assert.Equal(ResponseCode.NoError, soa.ResponseCode);
        Assert.Single(soa.Answers);
        Assert.DoesNotContain("answering failed", fixture.Keyed.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_secret_appears_in_the_log_or_on_the_status_endpoint()
    {
        using var client = new HttpClient { Timeout = Timeout };
        foreach (var (server, http) in new[] { (fixture.Open, fixture.OpenHttp), (fixture.Keyed, fixture.KeyedHttp) })
        {
            string state = await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/state"));
            string metrics = await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/metrics"));
            foreach (var secret in new[] { TransferFixture.Key.Secret, TransferFixture.OtherKey.Secret })
            {
                Assert.DoesNotContain(secret, server.Log, StringComparison.Ordinal);
                Assert.DoesNotContain(secret, state, StringComparison.Ordinal);
                Assert.DoesNotContain(secret, metrics, StringComparison.Ordinal);
            }
            // /state names the keys and their algorithms, and who may transfer.
            using var json = System.Text.Json.JsonDocument.Parse(state);
            var transfers = json.RootElement.GetProperty("transfers");
            Assert.Equal([$"{TransferFixture.Key.Name}.", $"{TransferFixture.OtherKey.Name}."], transfers.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("name").GetString()));
            Assert.Equal("hmac-sha512", transfers.GetProperty("keys")[1].GetProperty("algorithm").GetString());
            Assert.Equal(server == fixture.Open ? "127.0.0.1/32" : $"key:{TransferFixture.Key.Name}.", transfers.GetProperty("allow")[0].GetString());
            Assert.Contains($"TSIG keys from {fixture.KeysFile}: {TransferFixture.Key.Name}. (hmac-sha256), {TransferFixture.OtherKey.Name}. (hmac-sha512)", server.Log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Over_the_concurrency_limit_a_transfer_is_refused_until_one_ends()
    {
        // A zone of about 10 MB, so that a client that does not read holds its transfer open: the kernel buffers on
        // loopback take a few MB at most.
        string folder = Directory.CreateTempSubdirectory("anycastdns-transfers-limit-").FullName;
        try
        {
            var text = new StringBuilder("$ORIGIN huge.test.\n$TTL 300\n@ SOA ns host 1 7200 3600 1209600 300\n@ NS ns\nns A 192.0.2.1\n");
            for (int i = 0; i < 120_000; i++)
            {
                text.Append(CultureInfo.InvariantCulture, $"name-{i} A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\nname-{i} TXT \"filler text of record {i}, to make the zone large\"\n");
            }
            File.WriteAllText(Path.Combine(folder, "huge.test.zone"), text.ToString());
            File.Copy(Path.Combine(RepositoryPaths.TestZones, "other.test.zone"), Path.Combine(folder, "other.test.zone"));
            int http = LoopbackPort.FindFreeForUdpAndTcp();
            await using var server = await AnycastDnsServer.StartAsync(folder,
                ["--allow-transfer", "127.0.0.0/8", "--max-transfers", "1", "--tcp-idle-timeout", "30", "--http", $"127.0.0.1:{http}", "--no-watch"], ["127.0.0.1"]);

            var stalled = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout, bufferBytes: 4096);
            try
            {
                await stalled.SendAsync(DnsMessage.CreateQuery(DnsName.Parse("huge.test."), RecordType.AXFR), Timeout);
                Assert.True(await WaitForMetricAsync(http, "anycastdns_transfers_running", v => v == 1), "the first transfer never ran");
                await Task.Delay(500);
                Assert.Equal(1, (await ScrapeAsync(http)).Value("anycastdns_transfers_running"));

                using var second = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout);
                var refused = await second.QueryAsync(DnsMessage.CreateQuery(DnsName.Parse("other.test."), RecordType.AXFR), Timeout);
                Assert.Equal(ResponseCode.Refused, refused.ResponseCode);
                Assert.Empty(refused.Answers);
            }
            finally
            {
                stalled.Dispose();
            }
            // The stalled client gone, its transfer ends and frees the place.
            Assert.True(await WaitForMetricAsync(http, "anycastdns_transfers_running", v => v == 0), "the stalled transfer never ended");
            var accepted = await Kdig.QueryAsync(server.EndPoint, ["other.test", "AXFR", "+tcp"]);
            Assert.True(accepted.ExitCode == 0, accepted.Output);
            Assert.Matches(@"Received \d+ B \(1 messages, \d+ records\)", accepted.StandardOutput);

            // The exporter caches a scrape for 300 ms: wait for the one that has the last transfer.
            var samples = await ScrapeAsync(http);
            for (int i = 0; i < 50 && samples.Value("anycastdns_transfers_total", ("type", "axfr"), ("outcome", "completed")) == 0; i++)
            {
                await Task.Delay(100);
                samples = await ScrapeAsync(http);
            }
            Assert.Equal(1, samples.Value("anycastdns_transfers_total", ("type", "axfr"), ("outcome", "over_limit")));
            Assert.Equal(1, samples.Value("anycastdns_transfers_total", ("type", "axfr"), ("outcome", "aborted")));
            Assert.Equal(1, samples.Value("anycastdns_transfers_total", ("type", "axfr"), ("outcome", "completed")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_bad_keys_file_or_allow_entry_stops_the_start_with_one_line()
    {
        string folder = Directory.CreateTempSubdirectory("anycastdns-transfers-bad-").FullName;
        try
        {
            string keys = Path.Combine(folder, "keys.conf");
            File.WriteAllText(keys, $"key \"k\" {{\n\talgorithm hmac-md5;\n\tsecret \"{TransferFixture.Key.Secret}\";\n}};\n");
            await AssertStartFailsAsync($"Transfers:KeysFile: {keys}:2: key 'k': unknown algorithm 'hmac-md5' (expected hmac-sha256, hmac-sha384, hmac-sha512 or hmac-sha1)",
                "--tsig-keys", keys);
            File.WriteAllText(keys, "key \"k\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0!!\";\n};\n");
            await AssertStartFailsAsync($"Transfers:KeysFile: {keys}:3: key 'k': the secret is not base64", "--tsig-keys", keys);
            File.WriteAllText(keys, TransferFixture.KeysFileText(TransferFixture.Key));
            await AssertStartFailsAsync($"Transfers:Allow: key:nobody. is not a key of {keys}", "--tsig-keys", keys, "--allow-transfer", "key:nobody");
            await AssertStartFailsAsync("Transfers:Allow: key:nobody. names a TSIG key, but there is no Transfers:KeysFile", "--allow-transfer", "key:nobody");
            await AssertStartFailsAsync("Transfers:Allow: 'ns1.example' is neither an address prefix nor key:<name>", "--allow-transfer", "ns1.example");
            await AssertStartFailsAsync("Transfers:MaxConcurrent: '0' is not a whole number from 1 to 10000", "--max-transfers", "0");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task AssertStartFailsAsync(string expected, params string[] arguments)
    {
        var result = await ExternalTool.RunAsync("dotnet", ["exec", AnycastDnsServer.DllPath, "serve", "--zones", RepositoryPaths.TestZones, "--listen", "127.0.0.1:0", .. arguments], RunTimeout);
        Assert.NotEqual(0, result.ExitCode);
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{result.StandardError}");
        Assert.StartsWith("anycastdns: " + expected, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(TransferFixture.Key.Secret, result.Output, StringComparison.Ordinal);
    }

    private static Task<ToolResult> Dig(string port, params string[] arguments) =>
        ExternalTool.RunAsync(DigPath, ["@127.0.0.1", "-p", port, "+time=3", "+tries=1", .. arguments], RunTimeout);

    /// <summary>A resource record: owner, TYPE, CLASS, TTL, RDLENGTH, RDATA.</summary>
    private static byte[] Record(byte[] owner, ushort type, ushort cls, uint ttl, byte[] rdata)
    {
        var record = new byte[owner.Length + 10 + rdata.Length];
        owner.CopyTo(record, 0);
        BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(owner.Length), type);
        BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(owner.Length + 2), cls);
        BinaryPrimitives.WriteUInt32BigEndian(record.AsSpan(owner.Length + 4), ttl);
        BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(owner.Length + 8), (ushort)rdata.Length);
        rdata.CopyTo(record, owner.Length + 10);
        return record;
    }

    /// <summary>The query with these records appended to its additional section.</summary>
    private static byte[] WithAdditional(byte[] query, params byte[][] records)
    {
        byte[] message = [.. query, .. records.SelectMany(r => r)];
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(10), (ushort)(BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(10)) + records.Length));
        return message;
    }

    private static async Task<IReadOnlyList<PrometheusSample>> ScrapeAsync(int http)
    {
        using var client = new HttpClient { Timeout = Timeout };
        return await PrometheusText.ParseAsync(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/metrics")));
    }

    private static async Task<bool> WaitForMetricAsync(int http, string name, Func<double, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (condition((await ScrapeAsync(http)).Value(name)))
            {
                return true;
            }
            await Task.Delay(100);
        }
        return false;
    }
}
