using System.Diagnostics;
using System.Text;
using AnycastDns.Protocol;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// Hot reload against the real process: zone files rewritten under a running server while clients query it
/// continuously over UDP and TCP. Every answer must come wholly from one version, none may be lost, a broken edit
/// keeps the previous version, and the switch follows the write within 2 s.
/// </summary>
public sealed class ReloadTests : IDisposable
{
    private static readonly TimeSpan SwitchBound = TimeSpan.FromSeconds(2);
    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-reload-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>
    /// Version <paramref name="v"/> of reload.test: the answer to <c>a.reload.test TXT</c> is a chain of three RRsets
    /// (a → b{v} → c{v} TXT "v{v}"), so an answer mixing two versions would show as a broken or mixed chain.
    /// </summary>
    private static string Zone(int v, string extra = "") => $"""
        $TTL 60
        @        SOA  ns.reload.test. h.reload.test. {v} 3600 600 86400 60
                 NS   ns
        ns       A    192.0.2.1
        a        CNAME b{v}
        b{v}     CNAME c{v}
        c{v}     TXT  "v{v}"
        {extra}
        """;

    private string ZonePath => Path.Combine(_folder, "reload.test.zone");

    private static readonly byte[] Question = DnsMessage.CreateQuery(DnsName.Parse("a.reload.test."), RecordType.TXT, id: 1).Encode();

    /// <summary>The version an answer comes from, or throws when it is not one whole version.</summary>
    private static int VersionOf(DnsMessage m)
    {
        Assert.Equal(ResponseCode.NoError, m.ResponseCode);
        Assert.Equal(3, m.Answers.Count);
        var txt = Assert.Single(m.Answers, a => a.Type == RecordType.TXT);
        int v = txt.Data[2] - '0';
        Assert.Equal($"b{v}.reload.test.", m.Answers[0].Data.Length > 0 ? DnsName.FromWire(m.Answers[0].Data).ToString() : "");
        Assert.Equal($"c{v}.reload.test.", txt.Name.ToString());
        return v;
    }

    [Fact]
    public async Task A_rewrite_under_load_switches_whole_within_2_s_and_loses_no_query()
    {
        File.WriteAllText(ZonePath, Zone(1));
        await using var server = await AnycastDnsServer.StartAsync(_folder);
        long written = 0;
        int udpAnswers = 0, tcpAnswers = 0;
        long firstNewUdp = 0, firstNewTcp = 0;
        var clock = Stopwatch.StartNew();

        async Task Loop(bool tcp)
        {
            // Bounded: at most 20 s, and 1 s after the new version was seen.
            while (clock.Elapsed < TimeSpan.FromSeconds(20))
            {
                byte[] reply = tcp
                    ? await DnsWire.QueryTcpAsync(server.EndPoint, Question, 2000)
                    : await DnsWire.QueryUdpAsync(server.EndPoint, Question, 2000);
                int v = VersionOf(DnsMessage.Parse(reply));
                long now = clock.ElapsedTicks;
                if (tcp) tcpAnswers++; else udpAnswers++;
                if (v == 2)
                {
                    if (tcp && firstNewTcp == 0) firstNewTcp = now;
                    if (!tcp && firstNewUdp == 0) firstNewUdp = now;
                }
                else
                {
                    Assert.Equal(1, v);
                    // Once the new version is served, the old one never comes back.
                    Assert.Equal(0, tcp ? firstNewTcp : firstNewUdp);
                }
                if ((tcp ? firstNewTcp : firstNewUdp) != 0 && clock.ElapsedTicks - (tcp ? firstNewTcp : firstNewUdp) > Stopwatch.Frequency)
                {
                    return;
                }
            }
        }

        var loops = Task.WhenAll(Loop(tcp: false), Loop(tcp: true));
        await Task.Delay(500);
        // Written in place, as an editor or a checkout does; the quiet time before reloading covers the partial write.
        File.WriteAllText(ZonePath, Zone(2));
        written = clock.ElapsedTicks;
        await loops;

        Assert.True(firstNewUdp > 0 && firstNewTcp > 0, $"new version never seen (udp {udpAnswers}, tcp {tcpAnswers} answers):\n{server.Log}");
        Assert.True(TimeSpan.FromTicks((firstNewUdp - written) * TimeSpan.TicksPerSecond / Stopwatch.Frequency) <= SwitchBound, "UDP switched later than 2 s after the write");
        Assert.True(TimeSpan.FromTicks((firstNewTcp - written) * TimeSpan.TicksPerSecond / Stopwatch.Frequency) <= SwitchBound, "TCP switched later than 2 s after the write");
        Assert.True(udpAnswers > 10 && tcpAnswers > 10, $"too few queries to mean anything: udp {udpAnswers}, tcp {tcpAnswers}");
    }

    [Fact]
    public async Task A_broken_edit_keeps_the_old_zone_and_the_fix_is_picked_up()
    {
        File.WriteAllText(ZonePath, Zone(1));
        await using var server = await AnycastDnsServer.StartAsync(_folder);

        File.WriteAllText(ZonePath, Zone(2, extra: "broken   MX   not-a-number mail\n"));
        Assert.True(await server.WaitForLogAsync("still serving reload.test. serial 1", TimeSpan.FromSeconds(10)), server.Log);
        Assert.Contains("reload.test.zone:8:", server.Log, StringComparison.Ordinal);
        Assert.Equal(1, VersionOf(DnsMessage.Parse(await DnsWire.QueryUdpAsync(server.EndPoint, Question, 2000))));

        File.WriteAllText(ZonePath, Zone(3));
        Assert.True(await server.WaitForLogAsync("serial 1 -> 3", TimeSpan.FromSeconds(10)), server.Log);
        Assert.Equal(3, VersionOf(DnsMessage.Parse(await DnsWire.QueryTcpAsync(server.EndPoint, Question, 2000))));
    }

    [Fact]
    public async Task A_new_file_starts_being_served_and_a_removed_one_stops()
    {
        File.WriteAllText(ZonePath, Zone(1));
        await using var server = await AnycastDnsServer.StartAsync(_folder);
        var other = Path.Combine(_folder, "other.test.zone");
        var soa = DnsMessage.CreateQuery(DnsName.Parse("other.test."), RecordType.SOA, id: 2).Encode();
        Assert.Equal(ResponseCode.Refused, DnsMessage.Parse(await DnsWire.QueryUdpAsync(server.EndPoint, soa, 2000)).ResponseCode);

        File.WriteAllText(other, "$TTL 60\n@ SOA ns.other.test. h 7 1 1 1 1\n@ NS ns.elsewhere.\n");
        Assert.True(await server.WaitForLogAsync("zone other.test. serial 7", TimeSpan.FromSeconds(10)), server.Log);
        Assert.Equal(ResponseCode.NoError, DnsMessage.Parse(await DnsWire.QueryUdpAsync(server.EndPoint, soa, 2000)).ResponseCode);

        File.Delete(other);
        Assert.True(await server.WaitForLogAsync("zone other.test. removed", TimeSpan.FromSeconds(10)), server.Log);
        Assert.Equal(ResponseCode.Refused, DnsMessage.Parse(await DnsWire.QueryUdpAsync(server.EndPoint, soa, 2000)).ResponseCode);
        Assert.Equal(1, VersionOf(DnsMessage.Parse(await DnsWire.QueryUdpAsync(server.EndPoint, Question, 2000))));
    }

    /// <summary>
    /// Started under nohup, the process inherits SIGHUP ignored, and the .NET runtime would never deliver it to the
    /// reload's registration: the server puts the default disposition back before registering, so SIGHUP still reloads.
    /// </summary>
    [Fact]
    public async Task Sighup_reloads_when_started_under_nohup()
    {
        File.WriteAllText(ZonePath, Zone(1));
        await using var server = await AnycastDnsServer.StartAsync(_folder, ["--no-watch"], launcher: "nohup");
        File.WriteAllText(ZonePath, Zone(2));
        server.Signal(AnycastDnsServer.SigHup);
        Assert.True(await server.WaitForLogAsync("serial 1 -> 2", TimeSpan.FromSeconds(10)), server.Log);
        Assert.Equal(2, VersionOf(DnsMessage.Parse(await DnsWire.QueryUdpAsync(server.EndPoint, Question, 2000))));
    }

    [Fact]
    public async Task Sighup_reloads_when_watching_is_off_and_an_unchanged_serial_is_warned()
    {
        File.WriteAllText(ZonePath, Zone(1));
        await using var server = await AnycastDnsServer.StartAsync(_folder, ["--no-watch"]);
        // Same serial, different content: served, with a warning, since secondaries would not notice (RFC 1982).
        File.WriteAllText(ZonePath, Zone(1, extra: "new TXT \"added without a serial bump\"\n"));
        await Task.Delay(1500);
        Assert.DoesNotContain("reloading zones", server.Log, StringComparison.Ordinal);

        server.Signal(AnycastDnsServer.SigHup);
        Assert.True(await server.WaitForLogAsync("did not increase", TimeSpan.FromSeconds(10)), server.Log);
        var added = DnsMessage.CreateQuery(DnsName.Parse("new.reload.test."), RecordType.TXT, id: 3).Encode();
        var reply = DnsMessage.Parse(await DnsWire.QueryUdpAsync(server.EndPoint, added, 2000));
        Assert.Equal("added without a serial bump", Encoding.ASCII.GetString(Assert.Single(reply.Answers).Data.AsSpan(1)));
        Assert.False(server.HasExited);
    }

    /// <summary>
    /// A Kubernetes ConfigMap volume: each file is a link through <c>..data</c>, a link to a timestamped folder that
    /// the kubelet replaces (a new folder, then the link renamed over the old) on every update. The zone file's own
    /// link never changes, so a reload that looked at the link rather than the file it names saw nothing new.
    /// </summary>
    /// <summary>
    /// The watch names the files it saw change, and only those are read again (with the links and $INCLUDEs it cannot
    /// see): one zone edited among 100,000 costs its own load. Shown with a file the watch cannot see change, a hard link
    /// written through its other name: the next change the watch names does not read it; SIGHUP, which looks at every
    /// file, does.
    /// </summary>
    [Fact]
    public async Task The_watch_rereads_only_the_files_it_names()
    {
        File.WriteAllText(ZonePath, Zone(1));
        string Other(uint serial) => $"$TTL 60\n@ SOA ns.other.test. h {serial} 1 1 1 1\n@ NS ns.elsewhere.\n";
        var elsewhere = Directory.CreateTempSubdirectory("anycastdns-elsewhere-").FullName;
        try
        {
            var other = Path.Combine(_folder, "other.test.zone");
            File.WriteAllText(other, Other(1));
            Assert.Equal(0, Link(other, Path.Combine(elsewhere, "other")));
            await using var server = await AnycastDnsServer.StartAsync(_folder);

            File.WriteAllText(Path.Combine(elsewhere, "other"), Other(2)); // in place: the same file, no event in the folder
            File.WriteAllText(ZonePath, Zone(2));
            Assert.True(await server.WaitForLogAsync("serial 1 -> 2", TimeSpan.FromSeconds(10)), server.Log);
            Assert.Contains("reloading zones: the zones folder changed (reload.test.zone)", server.Log, StringComparison.Ordinal);
            Assert.Equal(2, VersionOf(DnsMessage.Parse(await DnsWire.QueryUdpAsync(server.EndPoint, Question, 2000))));
            var soa = DnsMessage.CreateQuery(DnsName.Parse("other.test."), RecordType.SOA, id: 4).Encode();
            Assert.Equal(1u, SoaSerial(DnsMessage.Parse(await DnsWire.QueryUdpAsync(server.EndPoint, soa, 2000))));
            Assert.DoesNotContain("other.test. serial", server.Log[server.Log.IndexOf("reloading zones", StringComparison.Ordinal)..], StringComparison.Ordinal);

            server.Signal(AnycastDnsServer.SigHup);
            Assert.True(await server.WaitForLogAsync("zone other.test. serial 1 -> 2", TimeSpan.FromSeconds(10)), server.Log);
            Assert.Equal(2u, SoaSerial(DnsMessage.Parse(await DnsWire.QueryUdpAsync(server.EndPoint, soa, 2000))));
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    private static uint SoaSerial(DnsMessage reply) =>
        System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(Assert.Single(reply.Answers).Data.AsSpan()[^20..]);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_zone_file_that_is_a_link_as_in_a_configmap_volume_is_reloaded_by_sighup_and_by_the_watch(bool sighup)
    {
        string Version(int v)
        {
            string folder = Path.Combine(_folder, $"..2026_12_06_00_00_0{v}");
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "reload.test.zone"), Zone(v));
            return folder;
        }
        void PointDataAt(string folder)
        {
            string next = Path.Combine(_folder, "..data_tmp");
            File.CreateSymbolicLink(next, Path.GetFileName(folder));
            // rename(2) itself: atomic, as the kubelet's (File.Move would follow the link to check that it exists).
            Assert.Equal(0, Rename(next, Path.Combine(_folder, "..data")));
        }
        PointDataAt(Version(1));
        File.CreateSymbolicLink(ZonePath, Path.Combine("..data", "reload.test.zone"));
        await using var server = await AnycastDnsServer.StartAsync(_folder, sighup ? ["--no-watch"] : []);
        Assert.Equal(1, VersionOf(DnsMessage.Parse(await DnsWire.QueryUdpAsync(server.EndPoint, Question, 2000))));

        // The watch sees a folder made and ..data renamed, no zone file's name: the links are looked at all the same.
        PointDataAt(Version(2));
        if (sighup)
        {
            server.Signal(AnycastDnsServer.SigHup);
        }
        Assert.True(await server.WaitForLogAsync("serial 1 -> 2", TimeSpan.FromSeconds(10)), server.Log);
        Assert.Equal(2, VersionOf(DnsMessage.Parse(await DnsWire.QueryUdpAsync(server.EndPoint, Question, 2000))));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string existing,
        [System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string created);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int Rename([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string from,
        [System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string to);
}
