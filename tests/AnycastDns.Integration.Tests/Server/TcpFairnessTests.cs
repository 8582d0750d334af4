using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AnycastDns.Integration.Tests.Telemetry;
using AnycastDns.Protocol;
using AnycastDns.TestSupport;
using Xunit.Abstractions;
using static AnycastDns.Integration.Tests.Server.KnownAnswers;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// TCP that one client cannot starve (RFC 7766 §6.2.2), against the real <c>anycastdns serve</c> process: the share of
/// connections one client may hold, the longest idle connection making room when the table is full (and never one
/// being answered), a flood of reconnecting attackers that leaves another client its answers, and the memory a full
/// table of idle connections costs. On loopback every address of 127.0.0.0/8 is ours: client sockets bound to
/// 127.0.0.2, 127.0.1.7, ... are distinct clients to the server. The server's own self-check probes come from
/// 127.0.0.1 and ::1, which these tests leave alone unless they say otherwise.
/// </summary>
[Collection(TcpFairnessTests.Name)]
public sealed class TcpFairnessTests(ITestOutputHelper output)
{
    /// <summary>Alone: the flood and the memory figures are measured on a machine not also running the other tests' servers.</summary>
    public const string Name = "TCP fairness";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>The bound on a close that should come at once (the idle timeouts here are a minute or more).</summary>
    private static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A send of queries that has not completed for this long means the server stopped reading the connection, which
    /// it does only while its write of answers is blocked. Long enough that a server merely starved of CPU by the
    /// other tests (and still waiting for a query, so open to eviction) is not taken for one being answered.
    /// </summary>
    internal static readonly TimeSpan Stall = TimeSpan.FromSeconds(2);

    private static IPAddress Loopback(int b, int c, int d) => new([127, (byte)b, (byte)c, (byte)d]);

    [Fact]
    public async Task A_client_past_its_share_is_closed_at_once_and_counted_while_other_clients_are_served()
    {
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        // A table of 30: the default share is a tenth, 3.
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones,
            ["--tcp-max-connections", "30", "--tcp-idle-timeout", "60", "--http", $"127.0.0.1:{http}"]);
        var a = Loopback(0, 0, 2);
        var b = Loopback(0, 0, 3);
        var ofA = new List<TcpDnsConnection>();
        var others = new List<TcpDnsConnection>();
        try
        {
            for (ushort id = 1; id <= 3; id++)
            {
                ofA.Add(await ConnectAnsweredAsync(server.EndPoint, a, id));
            }

            await AssertClosedAtOnceAsync(server.EndPoint, a, 4);
            await AssertClosedAtOnceAsync(server.EndPoint, a, 5);

            // Another IPv4 client has its own share; so has IPv6 loopback (its own /64; two of its three, since the
            // self-check's probe over ::1 may hold the third for a moment).
            for (ushort id = 6; id <= 8; id++)
            {
                others.Add(await ConnectAnsweredAsync(server.EndPoint, b, id));
            }
            for (ushort id = 9; id <= 10; id++)
            {
                others.Add(await ConnectAnsweredAsync(server.EndPointV6, null, id));
            }
            // The refusals took nothing from the client's own connections.
            ushort next = 11;
            foreach (var connection in ofA.Concat(others))
            {
                AssertWww(await connection.QueryAsync(WwwQuery(next), Timeout), next);
                next++;
            }
            var samples = await ScrapeAsync(http);
            Assert.Equal(2, samples.Value("anycastdns_tcp_connections_closed_total", ("network_type", "ipv4"), ("reason", "per_client_limit")));

            // Closing one gives the client its place back, once the server has read the close.
            ofA[0].Dispose();
            ofA.RemoveAt(0);
            TcpDnsConnection? again = null;
            var clock = Stopwatch.StartNew();
            for (int attempt = 0; attempt < 50 && again is null && clock.Elapsed < Timeout; attempt++)
            {
                var candidate = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout, a);
                if (await TryQueryAsync(candidate, 30))
                {
                    again = candidate;
                    break;
                }
                candidate.Dispose();
                await Task.Delay(100);
            }
            Assert.True(again is not null, $"{a} got no connection within {Timeout.TotalSeconds} s of closing one of its 3");
            ofA.Add(again);
            await AssertClosedAtOnceAsync(server.EndPoint, a, 31);
        }
        finally
        {
            foreach (var connection in ofA.Concat(others))
            {
                connection.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_full_table_makes_room_by_closing_the_longest_idle_connection_and_never_one_being_answered()
    {
        // A table of 3, one each. Only 127.0.0.1 is served, and the guard below holds 127.0.0.1's one place for the
        // whole test, so the self-check's probes are turned away by the share and make no room of their own. No query
        // limit: the floods below pass the default 10,000 per connection.
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones,
            ["--tcp-max-connections", "3", "--tcp-max-connections-per-client", "1", "--tcp-idle-timeout", "60", "--tcp-max-queries", "0"], ["127.0.0.1"]);
        byte[] chunk = Chunk(WwwQuery(0x7777), 500);
        var all = new List<TcpDnsConnection>();
        try
        {
            // The guard floods without reading until the server's write to it blocks: it is being answered.
            var guard = await ConnectAnsweredAsync(server.EndPoint, IPAddress.Loopback, 1, bufferBytes: 4096);
            all.Add(guard);
            var (guardChunks, guardSend) = await guard.SendUntilStalledAsync(chunk, Stall, 4000);

            var first = await ConnectAnsweredAsync(server.EndPoint, Loopback(0, 0, 2), 2, bufferBytes: 4096);
            all.Add(first);
            var second = await ConnectAnsweredAsync(server.EndPoint, Loopback(0, 0, 3), 3);
            all.Add(second);
            await Task.Delay(50);
            // The first accepted asks again: now the second has waited longest since its last query.
            AssertWww(await first.QueryAsync(WwwQuery(4), Timeout), 4);
            await Task.Delay(50);

            // Full: the newcomer gets in at its first try, in the place of the one that waited longest.
            var newcomer = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout, Loopback(0, 0, 4), bufferBytes: 4096);
            all.Add(newcomer);
            AssertWww(await newcomer.QueryAsync(WwwQuery(5), Timeout), 5);
            Assert.True(await second.ReceiveAsync(AtOnce) is null, "the connection idle longest was not closed to make room");
            AssertWww(await first.QueryAsync(WwwQuery(6), Timeout), 6);

            // Every connection in the table being answered: a newcomer is turned away, none of them is cut off.
            var (firstChunks, firstSend) = await first.SendUntilStalledAsync(chunk, Stall, 4000);
            var (newcomerChunks, newcomerSend) = await newcomer.SendUntilStalledAsync(chunk, Stall, 4000);
            await AssertClosedAtOnceAsync(server.EndPoint, Loopback(0, 0, 5), 7);

            // The newcomer reads everything it was owed, and is idle again: the next one takes its place.
            AssertDrained(await newcomer.DrainAsync(TimeSpan.FromSeconds(1), newcomerChunks * 500 + 10), newcomerChunks * 500, "newcomer");
            await newcomerSend;
            var last = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout, Loopback(0, 0, 6));
            all.Add(last);
            AssertWww(await last.QueryAsync(WwwQuery(8), Timeout), 8);
            Assert.True(await newcomer.ReceiveAsync(AtOnce) is null, "the only idle connection was not closed to make room");

            // The two kept busy all along got every answer and still serve.
            AssertDrained(await guard.DrainAsync(TimeSpan.FromSeconds(1), guardChunks * 500 + 10), guardChunks * 500, "guard");
            await guardSend;
            AssertDrained(await first.DrainAsync(TimeSpan.FromSeconds(1), firstChunks * 500 + 10), firstChunks * 500, "first");
            await firstSend;
            AssertWww(await guard.QueryAsync(WwwQuery(9), Timeout), 9);
            AssertWww(await first.QueryAsync(WwwQuery(10), Timeout), 10);
            output.WriteLine($"stalled after {guardChunks}, {firstChunks} and {newcomerChunks} chunks of 500 queries");
        }
        finally
        {
            foreach (var connection in all)
            {
                connection.Dispose();
            }
        }
    }

    /// <summary>
    /// Attackers open more connections than the table holds and reconnect 50 ms after each close, idle or sending
    /// half a frame, for as long as the test runs; meanwhile another client asks over a new TCP connection each time,
    /// and over UDP. Once with one attacker address allowed the whole table (eviction alone must keep room), once with
    /// fifteen addresses at the default share of ten each (150 connections for 100 places: they evict each other
    /// non-stop). The server on main refuses every newcomer while the table is full: the client got 0 % there.
    /// </summary>
    [Theory]
    [InlineData(1, 150, "100")]
    [InlineData(15, 10, null)]
    public async Task Attackers_holding_the_table_and_reconnecting_leave_another_client_its_TCP_and_UDP_answers(int addresses, int perAddress, string? perClient)
    {
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        var arguments = new List<string> { "--tcp-max-connections", "100", "--tcp-idle-timeout", "60", "--http", $"127.0.0.1:{http}" };
        if (perClient is not null)
        {
            arguments.AddRange(["--tcp-max-connections-per-client", perClient]);
        }
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, arguments);
        using var attack = new CancellationTokenSource();
        var attackers = new List<Task>();
        for (int address = 1; address <= addresses; address++)
        {
            for (int slot = 0; slot < perAddress; slot++)
            {
                attackers.Add(AttackAsync(server.EndPoint, Loopback(0, 1, address), halfFrame: slot % 2 == 1, attack.Token));
            }
        }
        try
        {
            // The table fills.
            double open = 0;
            var fill = Stopwatch.StartNew();
            while (open < 100 && fill.Elapsed < TimeSpan.FromSeconds(15))
            {
                await Task.Delay(200);
                open = (await ScrapeAsync(http)).Value("anycastdns_tcp_connections_open");
            }
            Assert.True(open >= 100, $"the attackers filled {open} of 100 places in 15 s");

            var victim = Loopback(0, 0, 2);
            int tcpAsked = 0, tcpAnswered = 0, udpAsked = 0, udpAnswered = 0;
            var clock = Stopwatch.StartNew();
            for (ushort id = 1; id <= 400 && clock.Elapsed < TimeSpan.FromSeconds(8); id++)
            {
                tcpAsked++;
                try
                {
                    using var connection = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout, victim);
                    tcpAnswered += await TryQueryAsync(connection, id) ? 1 : 0;
                }
                catch (Exception e) when (e is SocketException or TimeoutException or IOException or OperationCanceledException)
                {
                }
                udpAsked++;
                try
                {
                    var response = DnsMessage.Parse(await DnsWire.QueryUdpAsync(server.EndPoint, WwwQuery(id).Encode(), 2000));
                    AssertWww(response, id);
                    udpAnswered++;
                }
                catch (TimeoutException)
                {
                }
                await Task.Delay(10);
            }
            var samples = await ScrapeAsync(http);
            double evicted = samples.Where(s => s.Name == "anycastdns_tcp_connections_closed_total" && s.Has(("reason", "evicted"))).Sum(s => s.Value);
            double perClientRefused = samples.Where(s => s.Name == "anycastdns_tcp_connections_closed_total" && s.Has(("reason", "per_client_limit"))).Sum(s => s.Value);
            double openAtEnd = samples.Value("anycastdns_tcp_connections_open");
            output.WriteLine($"{addresses} attacker address(es) x {perAddress}: TCP {tcpAnswered}/{tcpAsked}, UDP {udpAnswered}/{udpAsked}; "
                + $"evicted {evicted}, turned away by the share {perClientRefused}, open at the end {openAtEnd}");

            Assert.True(tcpAsked >= 100, $"only {tcpAsked} TCP queries asked in 8 s");
            Assert.True(tcpAnswered >= 0.99 * tcpAsked, $"TCP: {tcpAnswered} of {tcpAsked} new connections answered while attackers held the table");
            Assert.Equal(udpAsked, udpAnswered);
            Assert.True(openAtEnd >= 90, $"the attackers held only {openAtEnd} of 100 places at the end: the flood did not last");
            Assert.True(evicted > 0, "no connection was evicted: the client cannot have got in by the rule under test");
        }
        finally
        {
            await attack.CancelAsync();
            await Task.WhenAll(attackers);
        }
        Assert.False(server.HasExited, server.Log);
    }

    /// <summary>
    /// Measured twice: with the connections idle after one ordinary query, and again after each has sent a query of
    /// the largest size (65,535 octets, padded) and fallen idle again — buffers must go back to small once used. The
    /// server on main rents two 256 KiB arrays per connection; Linux makes their pages resident only once touched,
    /// so it shows its cost in the second measurement (+70 MiB there), not the first.
    /// </summary>
    [Fact]
    public async Task A_thousand_idle_connections_cost_the_server_under_50_MiB_also_after_each_sent_a_query_of_the_largest_size()
    {
        // The default limits (1,000 in the table, 100 per client); an idle timeout that outlasts the measurement.
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, ["--tcp-idle-timeout", "300"]);
        int unpadded = WwwQuery(1, new EdnsRecord()).Encode().Length;
        byte[] Largest(ushort id) => TcpDnsConnection.Frame(WwwQuery(id, new EdnsRecord
        {
            Options = { new EdnsOption(EdnsOptionCode.Padding, new byte[ushort.MaxValue - unpadded - 4]) },
        }).Encode());
        // Warm: both transports and a largest query have been answered, so the code is compiled and the pools hold
        // what one client uses.
        for (ushort id = 1; id <= 20; id++)
        {
            using var connection = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout);
            AssertWww(await connection.QueryAsync(WwwQuery(id), Timeout), id);
            await connection.SendRawAsync(Largest(id), Timeout);
            AssertWww(await connection.ReceiveMessageAsync(Timeout), id);
            AssertWww(DnsMessage.Parse(await DnsWire.QueryUdpAsync(server.EndPoint, WwwQuery(id).Encode(), 5000)), id);
        }
        await Task.Delay(1000);
        long before = ResidentBytes(server.ProcessId);

        var connections = new List<TcpDnsConnection>(1000);
        try
        {
            // Ten clients of 100 connections, each asked once, then left idle.
            for (int client = 1; client <= 10; client++)
            {
                for (int i = 0; i < 100; i++)
                {
                    connections.Add(await ConnectAnsweredAsync(server.EndPoint, Loopback(0, 2, client), (ushort)(100 * client + i)));
                }
            }
            await Task.Delay(2000);
            long idle = ResidentBytes(server.ProcessId);

            // Each sends the largest query there is, gets its answer, and is idle again. Still open: a connection
            // closed since (the self-check's probes may each have made room by closing one) is let be.
            int alive = 0;
            foreach (var connection in connections)
            {
                if (await connection.TrySendRawAsync(Largest(7), Timeout) && await connection.ReceiveAsync(Timeout) is { } response)
                {
                    AssertWww(DnsMessage.Parse(response), 7);
                    alive++;
                }
            }
            await Task.Delay(2000);
            long used = ResidentBytes(server.ProcessId);

            const double MiB = 1024 * 1024;
            output.WriteLine($"resident: {before / MiB:0.0} MiB before; with 1,000 idle connections {idle / MiB:0.0} MiB (+{(idle - before) / MiB:0.0}); "
                + $"after each sent a 65,535-octet query {used / MiB:0.0} MiB (+{(used - before) / MiB:0.0}); {alive} answered it");
            Assert.True(alive >= 990, $"only {alive} of 1,000 connections still open");
            Assert.True(idle - before < 50 * MiB, $"1,000 idle connections cost {(idle - before) / MiB:0.0} MiB ({before / MiB:0.0} -> {idle / MiB:0.0} MiB resident)");
            Assert.True(used - before < 50 * MiB, $"1,000 idle connections that each sent a 65,535-octet query cost {(used - before) / MiB:0.0} MiB ({before / MiB:0.0} -> {used / MiB:0.0} MiB resident)");
        }
        finally
        {
            foreach (var connection in connections)
            {
                connection.Dispose();
            }
        }
    }

    /// <summary>One attacker's connection, reopened 50 ms after each close until <paramref name="stop"/>.</summary>
    private static async Task AttackAsync(IPEndPoint server, IPAddress from, bool halfFrame, CancellationToken stop)
    {
        var deadline = Stopwatch.StartNew();
        while (!stop.IsCancellationRequested && deadline.Elapsed < TimeSpan.FromMinutes(1))
        {
            try
            {
                using var connection = await TcpDnsConnection.ConnectAsync(server, Timeout, from);
                if (halfFrame)
                {
                    // A length prefix announcing 60 octets, and 3 of them: never a complete query.
                    await connection.TrySendRawAsync([0, 60, 1, 2, 3], Timeout);
                }
                // Hold it until the server closes it (or the attack ends: the wait runs out or is cut short).
                using var stopped = stop.Register(connection.Dispose);
                await connection.ReceiveAsync(TimeSpan.FromSeconds(30));
            }
            catch (Exception e) when (e is SocketException or TimeoutException or IOException or OperationCanceledException or ObjectDisposedException)
            {
            }
            try
            {
                await Task.Delay(50, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>A connection from <paramref name="from"/> that got its query answered; one turned away (the self-check's probe may take a place for a moment) is tried again, 5 times at most.</summary>
    private static async Task<TcpDnsConnection> ConnectAnsweredAsync(IPEndPoint server, IPAddress? from, ushort id, int bufferBytes = 0)
    {
        for (int attempt = 1; ; attempt++)
        {
            var connection = await TcpDnsConnection.ConnectAsync(server, Timeout, from, bufferBytes);
            if (await TryQueryAsync(connection, id))
            {
                return connection;
            }
            connection.Dispose();
            Assert.True(attempt < 5, $"{from} -> {server}: closed unanswered {attempt} times");
            await Task.Delay(200);
        }
    }

    /// <summary>True when <see cref="WwwQuery"/> got its answer; false when the server closed the connection instead.</summary>
    private static async Task<bool> TryQueryAsync(TcpDnsConnection connection, ushort id)
    {
        if (!await connection.TrySendRawAsync(TcpDnsConnection.Frame(WwwQuery(id).Encode()), Timeout)
            || await connection.ReceiveAsync(Timeout) is not { } response)
        {
            return false;
        }
        AssertWww(DnsMessage.Parse(response), id);
        return true;
    }

    /// <summary>A new connection from <paramref name="from"/> is closed by the server, unanswered, well before any idle timeout.</summary>
    private static async Task AssertClosedAtOnceAsync(IPEndPoint server, IPAddress from, ushort id)
    {
        using var extra = await TcpDnsConnection.ConnectAsync(server, Timeout, from);
        // Closed at accept, the connection may already be reset when the query goes out.
        await extra.TrySendRawAsync(TcpDnsConnection.Frame(WwwQuery(id).Encode()), Timeout);
        byte[]? response;
        try
        {
            response = await extra.ReceiveAsync(AtOnce);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"a connection from {from} that should have been turned away was still open after {AtOnce.TotalSeconds} s");
            return;
        }
        Assert.True(response is null, $"a connection from {from} that should have been turned away was answered");
    }

    /// <summary>
    /// A connection kept busy got every answer it was owed. Once it has them all it is idle, and may be closed to make
    /// room (in AnycastStateTests, for the self-check's probe); before, it must not be.
    /// </summary>
    internal static void AssertDrained((int Messages, bool Closed) drained, int owed, string connection)
    {
        Assert.True(drained.Messages == owed, $"{connection}: {drained.Messages} answers of the {owed} owed"
            + (drained.Closed ? ", then closed by the server: it was cut off while being answered" : ""));
    }

    /// <summary><paramref name="count"/> copies of <paramref name="query"/>, framed, in one buffer.</summary>
    internal static byte[] Chunk(DnsMessage query, int count) => TcpDnsConnection.Frame([.. Enumerable.Repeat(query.Encode(), count)]);

    private static async Task<IReadOnlyList<PrometheusSample>> ScrapeAsync(int http)
    {
        using var client = new HttpClient { Timeout = Timeout };
        return await PrometheusText.ParseAsync(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/metrics")));
    }

    /// <summary>VmRSS of the process, from /proc.</summary>
    private static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return 1024 * long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException($"no VmRSS in /proc/{pid}/status");
    }
}

[CollectionDefinition(TcpFairnessTests.Name, DisableParallelization = true)]
public sealed class TcpFairnessCollection;
