using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using AnycastDns.Integration.Tests.Transfers;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Telemetry;

/// <summary>
/// Transfer and NOTIFY spans over OTLP: the real server, with the standard OTEL_EXPORTER_OTLP_* variables, exports one
/// <c>zone.transfer</c> span (kind Server) for a TSIG-signed AXFR that kdig receives, with the counts kdig reports and
/// the key's name but never its secret, none for a refused AXFR; and one <c>zone.notify</c> span (kind Client) per
/// target: acknowledged by a target that answers as dnspython makes a reply, failed with an error status by one that
/// never answers.
/// </summary>
public sealed partial class TransferSpanTests : IDisposable
{
    private const string DebianPython = "/usr/bin/python3";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-spans-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task A_signed_axfr_and_two_notifies_are_exported_as_spans_with_their_attributes()
    {
        // example.test alone, so that the targets get one NOTIFY each.
        string zones = Directory.CreateDirectory(Path.Combine(_folder, "zones")).FullName;
        File.Copy(Path.Combine(RepositoryPaths.TestZones, "example.test.zone"), Path.Combine(zones, "example.test.zone"));
        string keys = Path.Combine(_folder, "keys.conf");
        File.WriteAllText(keys, TransferFixture.KeysFileText(TransferFixture.Key));
        using var receiver = new OtlpReceiver(LoopbackPort.FindFreeForUdpAndTcp());
        var environment = new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint.ToString(),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        };
        using var acknowledging = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        using var silent = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var acknowledger = AcknowledgeOneAsync(acknowledging);
        string ackTarget = $"127.0.0.1:{((IPEndPoint)acknowledging.Client.LocalEndPoint!).Port}";
        string silentTarget = $"127.0.0.1:{((IPEndPoint)silent.Client.LocalEndPoint!).Port}";
        await using var server = await AnycastDnsServer.StartAsync(zones,
            ["--allow-transfer", "key:" + TransferFixture.Key.Name, "--tsig-keys", keys, "--no-watch",
             "--notify", ackTarget, "--notify", silentTarget, "--notify-interval", "2", "--notify-attempts", "2"],
            ["127.0.0.1"], environment: environment);

        var refused = await Kdig.QueryAsync(server.EndPoint, ["example.test", "AXFR"]);
        Assert.Contains("REFUSED", refused.Output, StringComparison.Ordinal);
        var axfr = await Kdig.QueryAsync(server.EndPoint, ["-y", $"hmac-sha256:{TransferFixture.Key.Name}:{TransferFixture.Key.Secret}", "example.test", "AXFR"]);
        Assert.True(axfr.ExitCode == 0, axfr.Output);
        // kdig: ";; Received 1234 B (2 messages, 25 records)"; the octets on the wire add a 2-octet length per message.
        var received = Received().Match(axfr.Output);
        Assert.True(received.Success, axfr.Output);
        Assert.True(await acknowledger.WaitAsync(Timeout) > 0, "the acknowledging target got no NOTIFY");

        var deadline = DateTime.UtcNow + Timeout;
        List<OtlpSpan> transfers = [], notifies = [];
        while (DateTime.UtcNow < deadline)
        {
            var spans = receiver.Spans;
            transfers = [.. spans.Where(s => s.Name == "zone.transfer")];
            notifies = [.. spans.Where(s => s.Name == "zone.notify" && s.Attributes.GetValueOrDefault("anycastdns.zone") == "example.test.")];
            if (transfers.Count > 0 && notifies.Count >= 2)
            {
                break;
            }
            await Task.Delay(250);
        }
        var transfer = Assert.Single(transfers);
        Assert.Equal(2, transfer.Kind);
        Assert.Equal(0, transfer.StatusCode);
        var a = transfer.Attributes;
        Assert.Equal("example.test.", a["anycastdns.zone"]);
        Assert.Equal("2024010101", a["anycastdns.zone.serial"]);
        Assert.Equal("axfr", a["anycastdns.transfer.type"]);
        Assert.Equal("axfr", a["anycastdns.transfer.kind"]);
        Assert.Equal("127.0.0.1", a["anycastdns.transfer.client"]);
        Assert.Equal(TransferFixture.Key.Name + ".", a["anycastdns.transfer.tsig_key"]);
        Assert.Equal("completed", a["anycastdns.transfer.outcome"]);
        long messages = long.Parse(received.Groups["messages"].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(received.Groups["records"].Value, a["anycastdns.transfer.records"]);
        Assert.Equal(messages.ToString(System.Globalization.CultureInfo.InvariantCulture), a["anycastdns.transfer.messages"]);
        Assert.Equal((long.Parse(received.Groups["octets"].Value, System.Globalization.CultureInfo.InvariantCulture) + 2 * messages).ToString(System.Globalization.CultureInfo.InvariantCulture),
            a["anycastdns.transfer.octets"]);
        Assert.DoesNotContain(receiver.Spans, s => s.Attributes.Values.Any(v => v.Contains(TransferFixture.Key.Secret, StringComparison.Ordinal)));

        Assert.True(notifies.Count == 2, $"{notifies.Count} zone.notify spans for example.test.\n{server.Log}");
        var acknowledged = Assert.Single(notifies, s => s.Attributes["anycastdns.notify.target"] == ackTarget);
        Assert.Equal(3, acknowledged.Kind);
        Assert.Equal(0, acknowledged.StatusCode);
        Assert.Equal("2024010101", acknowledged.Attributes["anycastdns.zone.serial"]);
        Assert.Equal("acknowledged", acknowledged.Attributes["anycastdns.notify.outcome"]);
        Assert.Equal("1", acknowledged.Attributes["anycastdns.notify.attempts"]);
        var failed = Assert.Single(notifies, s => s.Attributes["anycastdns.notify.target"] == silentTarget);
        Assert.Equal(3, failed.Kind);
        Assert.Equal(2, failed.StatusCode);
        Assert.Equal("no answer", failed.StatusMessage);
        Assert.Equal("failed", failed.Attributes["anycastdns.notify.outcome"]);
        Assert.Equal("2", failed.Attributes["anycastdns.notify.attempts"]);
    }

    /// <summary>
    /// A NOTIFY target that acknowledges (RFC 1996 §4.7) the first NOTIFY of example.test with the reply dnspython's
    /// make_response builds, and only that one; returns how many it answered.
    /// </summary>
    private static async Task<int> AcknowledgeOneAsync(UdpClient socket)
    {
        using var stop = new CancellationTokenSource(Timeout);
        while (!stop.IsCancellationRequested)
        {
            var notify = await socket.ReceiveAsync(stop.Token);
            var reply = await ExternalTool.RunAsync(DebianPython, ["-c", """
                import sys, dns.message
                m = dns.message.from_wire(bytes.fromhex(sys.argv[1]))
                print(m.question[0].name.to_text() + " " + dns.message.make_response(m).to_wire().hex())
                """, Convert.ToHexString(notify.Buffer)], Timeout);
            Assert.True(reply.ExitCode == 0, reply.Output);
            var parts = reply.StandardOutput.Trim().Split(' ');
            if (parts[0] == "example.test.")
            {
                await socket.SendAsync(Convert.FromHexString(parts[1]), notify.RemoteEndPoint, stop.Token);
                return 1;
            }
        }
        return 0;
    }

    [GeneratedRegex(@"Received (?<octets>\d+) B \((?<messages>\d+) messages?, (?<records>\d+) records?\)")]
    private static partial Regex Received();
}
