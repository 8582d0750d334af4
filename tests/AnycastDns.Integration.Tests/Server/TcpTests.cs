using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using AnycastDns.Protocol;
using AnycastDns.TestSupport;
using static AnycastDns.Integration.Tests.Server.KnownAnswers;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// DNS over TCP (RFC 7766) against the real <c>anycastdns serve</c> process: pipelining, the idle timeout, the limits
/// on connections per client and on queries per connection, edns-tcp-keepalive (RFC 7828), and frames that cannot be messages.
/// Each test starts its own server, so that its options and connections are its own.
/// </summary>
public sealed class TcpTests
{
    /// <summary>The bound on one send, one answer, one connect.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>The bound on waiting for the server to close a connection it should close.</summary>
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(10);

    /// <summary>Questions with the answer tests/zones gives them: (name, type, rcode, answer records).</summary>
    private static readonly (string Name, RecordType Type, ResponseCode Rcode, int Answers)[] Questions =
    [
        ("www.example.test.", RecordType.A, ResponseCode.NoError, 1),
        ("mail.example.test.", RecordType.AAAA, ResponseCode.NoError, 1),
        ("example.test.", RecordType.MX, ResponseCode.NoError, 2),
        ("nothere.example.test.", RecordType.A, ResponseCode.NXDomain, 0),
        ("many.example.test.", RecordType.A, ResponseCode.NoError, 40),
        ("huge.example.test.", RecordType.A, ResponseCode.NoError, 100),
        ("MixedCase.example.test.", RecordType.TXT, ResponseCode.NoError, 1),
        ("www.example.org.", RecordType.A, ResponseCode.Refused, 0),
    ];

    [Fact]
    public async Task A_hundred_queries_in_one_write_get_a_hundred_answers_each_matching_its_id_and_question()
    {
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones);
        const int count = 100;
        var sent = new Dictionary<ushort, int>();
        var messages = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            // Distinct IDs that are not in sending order, so that a match cannot come from counting.
            ushort id = (ushort)(0x4000 + i * 37 % count);
            var (name, type, _, _) = Questions[i % Questions.Length];
            messages[i] = DnsMessage.CreateQuery(DnsName.Parse(name), type, id: id).Encode();
            sent.Add(id, i % Questions.Length);
        }
        using var connection = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout);

        await connection.SendRawAsync(TcpDnsConnection.Frame(messages), Timeout);

        // RFC 7766 §7: responses may come in any order; each is matched by its ID.
        var answered = new HashSet<ushort>();
        for (int i = 0; i < count; i++)
        {
            var response = await connection.ReceiveMessageAsync(Timeout);
            Assert.True(response.IsResponse, $"message {i} has QR clear");
            Assert.True(sent.TryGetValue(response.Id, out int which), $"message {i} has ID {response.Id}, which no query had");
            Assert.True(answered.Add(response.Id), $"ID {response.Id} answered twice");
            var (name, type, rcode, answers) = Questions[which];
            var question = Assert.Single(response.Questions);
            Assert.Equal(name, question.Name.ToString());
            Assert.Equal(type, question.Type);
            Assert.Equal(rcode, response.ResponseCode);
            Assert.Equal(answers, response.Answers.Count);
        }
        Assert.Equal(count, answered.Count);
    }

    [Fact]
    public async Task Kdig_with_keepopen_gets_every_query_of_its_command_line_answered_over_TCP()
    {
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones);

        var result = await Kdig.QueryAsync(server.EndPoint,
        [
            "+tcp", "+keepopen", "+norec",
            "www.example.test", "A",
            "mail.example.test", "AAAA",
            "example.test", "MX",
            "nothere.example.test", "A",
        ]);

        Assert.True(result.ExitCode == 0, result.Output);
        string output = result.StandardOutput;
        string from = $"From 127.0.0.1@{server.Port.ToString(CultureInfo.InvariantCulture)}(TCP)";
        Assert.True(Regex.Count(output, Regex.Escape(from)) == 4, $"expected 4 answers {from}:\n{output}");
        Assert.Equal(3, Regex.Count(output, "status: NOERROR"));
        Assert.Equal(1, Regex.Count(output, "status: NXDOMAIN"));
        Assert.Matches(@"(?m)^www\.example\.test\.\s+\d+\s+IN\s+A\s+192\.0\.2\.80$", output);
        Assert.Matches(@"(?m)^mail\.example\.test\.\s+\d+\s+IN\s+AAAA\s+2001:db8::25$", output);
        Assert.Matches(@"(?m)^example\.test\.\s+\d+\s+IN\s+MX\s+10 mail\.example\.test\.$", output);
        Assert.Matches(@"(?m)^example\.test\.\s+\d+\s+IN\s+MX\s+20 mx\.external\.test\.$", output);
    }

    [Fact]
    public async Task A_silent_client_a_half_sent_frame_and_a_trickled_frame_are_closed_after_the_idle_timeout_while_an_active_client_is_answered()
    {
        var lifeToProve = TimeSpan.FromSeconds(2);
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, ["--tcp-idle-timeout", "1"]);
        // One answer first, so that neither process is still compiling its code when the idle clocks below run.
        using (var warmUp = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout))
        {
            AssertWww(await warmUp.QueryAsync(WwwQuery(1), Timeout), 1);
        }
        using var silent = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout);
        using var halfFrame = await TcpDnsConnection.ConnectAsync(server.EndPointV6, Timeout);
        // A length prefix announcing 40 octets, and 5 of them: no complete query, so the idle time runs (RFC 7766 §6.2.3).
        await halfFrame.SendRawAsync([0, 40, 0x12, 0x34, 0x01, 0x00, 0x00], Timeout);
        using var trickle = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout);
        // A prefix announcing 200 octets, then one octet every 200 ms or so: traffic, but never a complete query.
        await trickle.SendRawAsync([0, 200], Timeout);
        var silentClosed = silent.ReceiveAsync(CloseWait);
        var halfFrameClosed = halfFrame.ReceiveAsync(CloseWait);
        var trickleClosed = trickle.ReceiveAsync(CloseWait);

        // The active client asks every 100 ms or so. Each complete query restarts its idle time, so one connection
        // carries it for as long as it asks; should this loaded machine stall it past the 1 s timeout, that close is
        // deserved and it reconnects. It goes on until the others are closed and one of its connections has lived
        // twice the timeout, which a server counting idle time from the accept or from any octet would never allow.
        var active = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout);
        try
        {
            ushort id = 1;
            int answers = 0;
            var clock = Stopwatch.StartNew();
            var connectedAt = clock.Elapsed;
            var longestLife = TimeSpan.Zero;
            for (int round = 0; round < 200 && clock.Elapsed < CloseWait; round++)
            {
                if (silentClosed.IsCompleted && halfFrameClosed.IsCompleted && trickleClosed.IsCompleted && longestLife >= lifeToProve)
                {
                    break;
                }
                id++;
                if (await active.TrySendRawAsync(TcpDnsConnection.Frame(WwwQuery(id).Encode()), Timeout) && await active.ReceiveAsync(Timeout) is { } response)
                {
                    AssertWww(DnsMessage.Parse(response), id);
                    answers++;
                    longestLife = TimeSpan.FromTicks(Math.Max(longestLife.Ticks, (clock.Elapsed - connectedAt).Ticks));
                }
                else
                {
                    active.Dispose();
                    active = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout);
                    connectedAt = clock.Elapsed;
                }
                if (round % 2 == 0 && !trickleClosed.IsCompleted)
                {
                    await trickle.TrySendRawAsync([0x55], Timeout);
                }
                await Task.Delay(100);
            }

            Assert.Null(await silentClosed);
            Assert.Null(await halfFrameClosed);
            Assert.Null(await trickleClosed);
            Assert.True(answers > 0, "the active client got no answer while the others waited");
            Assert.True(longestLife >= lifeToProve,
                $"asking every 100 ms, no connection stayed open {lifeToProve.TotalSeconds} s (longest {longestLife.TotalMilliseconds:0} ms): complete queries must restart the idle time");
        }
        finally
        {
            active.Dispose();
        }
    }

    /// <summary>
    /// A connection that got <see cref="WwwQuery"/> answered. The server's own self-check opens a TCP connection every
    /// few seconds for a moment, from the same loopback address; with a share of one it can hold that address's place
    /// just as we connect, so a connection closed unanswered is tried again, a bounded number of times.
    /// </summary>
    private static async Task<TcpDnsConnection> ConnectAnsweredAsync(System.Net.IPEndPoint endPoint, ushort id)
    {
        for (int attempt = 1; ; attempt++)
        {
            var connection = await TcpDnsConnection.ConnectAsync(endPoint, Timeout);
            if (await connection.TrySendRawAsync(TcpDnsConnection.Frame(WwwQuery(id).Encode()), Timeout)
                && await connection.ReceiveAsync(Timeout) is { } response)
            {
                AssertWww(DnsMessage.Parse(response), id);
                return connection;
            }
            connection.Dispose();
            Assert.True(attempt < 5, $"{endPoint}: closed unanswered {attempt} times under the limit");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Past_a_clients_share_a_connection_is_closed_unanswered_and_a_freed_place_is_given_to_a_new_one()
    {
        // A table of 2: each client's share is 1 (a tenth, at least one). 127.0.0.1 and ::1 are two clients. (The
        // full table's eviction of idle connections, and a client from many addresses, are in TcpFairnessTests.)
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, ["--tcp-max-connections", "2"]);
        var open = new List<TcpDnsConnection>();
        try
        {
            // One from each client, each to its own address. Answered, so the server has accepted and counted both.
            var first = await ConnectAnsweredAsync(server.EndPoint, 1);
            open.Add(first);
            var second = await ConnectAnsweredAsync(server.EndPointV6, 2);
            open.Add(second);

            await AssertRefusedAsync(server.EndPoint, 3);
            await AssertRefusedAsync(server.EndPointV6, 4);

            AssertWww(await first.QueryAsync(WwwQuery(5), Timeout), 5);
            AssertWww(await second.QueryAsync(WwwQuery(6), Timeout), 6);

            first.Dispose();
            open.Remove(first);
            // The server frees the slot once it reads the end of the stream; until then a new one may still be turned away.
            TcpDnsConnection? replacement = null;
            DnsMessage? answer = null;
            var clock = Stopwatch.StartNew();
            for (int attempt = 0; attempt < 50 && answer is null && clock.Elapsed < CloseWait; attempt++)
            {
                var candidate = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout);
                if (await candidate.TrySendRawAsync(TcpDnsConnection.Frame(WwwQuery(7).Encode()), Timeout)
                    && await candidate.ReceiveAsync(Timeout) is { } response)
                {
                    answer = DnsMessage.Parse(response);
                    replacement = candidate;
                    open.Add(candidate);
                    break;
                }
                candidate.Dispose();
                await Task.Delay(100);
            }
            Assert.True(answer is not null, $"no new connection was served within {CloseWait.TotalSeconds} s of closing one of two");
            AssertWww(answer, 7);

            // Each client holds its share again: another from ::1 is still turned away.
            await AssertRefusedAsync(server.EndPointV6, 8);
            AssertWww(await second.QueryAsync(WwwQuery(9), Timeout), 9);
            AssertWww(await replacement!.QueryAsync(WwwQuery(10), Timeout), 10);
        }
        finally
        {
            foreach (var connection in open)
            {
                connection.Dispose();
            }
        }
    }

    [Fact]
    public async Task After_the_query_limit_the_next_query_is_not_answered_and_the_connection_is_closed()
    {
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, ["--tcp-max-queries", "3"]);
        using var connection = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout);

        for (ushort id = 1; id <= 3; id++)
        {
            AssertWww(await connection.QueryAsync(WwwQuery(id), Timeout), id);
        }
        // The server may have closed already; then the send itself fails, which is as good.
        await connection.TrySendRawAsync(TcpDnsConnection.Frame(WwwQuery(4).Encode()), Timeout);

        Assert.Null(await connection.ReceiveAsync(CloseWait));
    }

    [Fact]
    public async Task After_the_query_limit_pipelined_queries_get_exactly_the_limit_of_answers_then_the_close()
    {
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, ["--tcp-max-queries", "3"]);
        using var connection = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout);

        await connection.SendRawAsync(TcpDnsConnection.Frame([.. Enumerable.Range(1, 5).Select(id => WwwQuery((ushort)id).Encode())]), Timeout);

        for (ushort id = 1; id <= 3; id++)
        {
            AssertWww(await connection.ReceiveMessageAsync(Timeout), id);
        }
        Assert.Null(await connection.ReceiveAsync(CloseWait));
    }

    [Fact]
    public async Task Edns_tcp_keepalive_is_answered_over_TCP_with_the_idle_timeout_in_100_ms_units_and_not_over_UDP()
    {
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, ["--tcp-idle-timeout", "3"]);
        // RFC 7828 §3.2.1: a client asks with the option empty.
        var edns = new EdnsRecord { Options = { new EdnsOption(EdnsOptionCode.TcpKeepalive, []) } };
        byte[] query = WwwQuery(0x7828, edns).Encode();

        var overTcp = DnsMessage.Parse(await DnsWire.QueryTcpAsync(server.EndPoint, query, (int)Timeout.TotalMilliseconds));
        var overUdp = DnsMessage.Parse(await DnsWire.QueryUdpAsync(server.EndPoint, query, (int)Timeout.TotalMilliseconds));

        AssertWww(overTcp, 0x7828);
        Assert.NotNull(overTcp.Edns);
        var keepalive = Assert.Single(overTcp.Edns.Options, o => o.Code == EdnsOptionCode.TcpKeepalive);
        // RFC 7828 §3.1: TIMEOUT, 2 octets, in units of 100 ms: 3 s is 30.
        Assert.Equal(2, keepalive.Data.Length);
        Assert.Equal(30, BinaryPrimitives.ReadUInt16BigEndian(keepalive.Data));

        // RFC 7828 §3.2.2 / §3.3.2: never over UDP.
        AssertWww(overUdp, 0x7828);
        Assert.NotNull(overUdp.Edns);
        Assert.DoesNotContain(overUdp.Edns.Options, o => o.Code == EdnsOptionCode.TcpKeepalive);
    }

    [Fact]
    public async Task A_frame_announcing_65535_octets_then_abandoned_and_frames_shorter_than_a_header_do_not_disturb_other_clients()
    {
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones);
        using var bystander = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout);
        AssertWww(await bystander.QueryAsync(WwwQuery(1), Timeout), 1);

        // 65535 announced, 5 sent, then the client is gone: the server reads the end of the stream and closes.
        using (var abandoned = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout))
        {
            await abandoned.SendRawAsync([0xFF, 0xFF, 1, 2, 3, 4, 5], Timeout);
            abandoned.ShutdownSend();
            Assert.Null(await abandoned.ReceiveAsync(CloseWait));
        }
        // No DNS message is shorter than its 12-octet header: the stream cannot be trusted, the server closes it.
        foreach (int length in new[] { 0, 1, 5, 11 })
        {
            using var tooShort = await TcpDnsConnection.ConnectAsync(server.EndPointV6, Timeout);
            var frame = new byte[2 + length];
            BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)length);
            await tooShort.SendRawAsync(frame, Timeout);
            Assert.Null(await tooShort.ReceiveAsync(CloseWait));
        }

        AssertWww(await bystander.QueryAsync(WwwQuery(2), Timeout), 2);
        using var newcomer = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout);
        AssertWww(await newcomer.QueryAsync(WwwQuery(3), Timeout), 3);
        AssertWww(DnsMessage.Parse(await DnsWire.QueryUdpAsync(server.EndPoint, WwwQuery(4).Encode(), (int)Timeout.TotalMilliseconds)), 4);
        Assert.False(server.HasExited, server.Log);
    }

    [Fact]
    public async Task A_query_of_the_largest_size_is_answered_between_two_ordinary_ones_in_the_same_write()
    {
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones);
        // Padding (RFC 7830) brings the message to 65535 octets, the most a length prefix can announce.
        int unpadded = WwwQuery(2, new EdnsRecord()).Encode().Length;
        var padded = new EdnsRecord { Options = { new EdnsOption(EdnsOptionCode.Padding, new byte[ushort.MaxValue - unpadded - 4]) } };
        byte[] largest = WwwQuery(2, padded).Encode();
        Assert.Equal(ushort.MaxValue, largest.Length);
        using var connection = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout);

        await connection.SendRawAsync(TcpDnsConnection.Frame(WwwQuery(1).Encode(), largest, WwwQuery(3).Encode()), Timeout);

        for (ushort id = 1; id <= 3; id++)
        {
            AssertWww(await connection.ReceiveMessageAsync(Timeout), id);
        }
    }

    [Fact]
    public async Task A_query_written_one_octet_at_a_time_is_answered()
    {
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones);
        using var connection = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout);

        // Prefix and message split over as many segments as there are octets: framing must not depend on reads.
        foreach (byte octet in TcpDnsConnection.Frame(WwwQuery(0x0101).Encode()))
        {
            await connection.SendRawAsync([octet], Timeout);
            await Task.Delay(2);
        }

        AssertWww(await connection.ReceiveMessageAsync(Timeout), 0x0101);
    }

    [Fact]
    public async Task Queries_sent_before_the_client_half_closes_are_all_answered_before_the_server_closes()
    {
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones);
        using var connection = await TcpDnsConnection.ConnectAsync(server.EndPointV6, Timeout);

        await connection.SendRawAsync(TcpDnsConnection.Frame(WwwQuery(1).Encode(), WwwQuery(2).Encode(), WwwQuery(3).Encode()), Timeout);
        // FIN after the queries: the client will send no more, but still reads (RFC 7766 §6.2.4: the server closes).
        connection.ShutdownSend();

        for (ushort id = 1; id <= 3; id++)
        {
            AssertWww(await connection.ReceiveMessageAsync(Timeout), id);
        }
        Assert.Null(await connection.ReceiveAsync(CloseWait));
    }

    [Fact]
    public async Task On_SIGTERM_the_server_closes_its_open_connections_and_exits_0_without_waiting_out_their_idle_time()
    {
        // An idle timeout far beyond the wait below: an exit in time cannot come from the connections timing out.
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, ["--tcp-idle-timeout", "120"]);
        using var idle = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout);
        AssertWww(await idle.QueryAsync(WwwQuery(1), Timeout), 1);
        using var halfFrame = await TcpDnsConnection.ConnectAsync(server.EndPointV6, Timeout);
        await halfFrame.SendRawAsync([0, 40, 0x12, 0x34], Timeout);
        using var silent = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout);

        int exitCode = await server.TerminateAsync(TimeSpan.FromSeconds(20));

        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{server.Log}");
        Assert.Contains("stopped answering", server.Log, StringComparison.Ordinal);
        foreach (var connection in new[] { idle, halfFrame, silent })
        {
            Assert.Null(await connection.ReceiveAsync(CloseWait));
        }
    }

    /// <summary>A new connection to <paramref name="endPoint"/> is closed by the server with no answer to its query.</summary>
    private static async Task AssertRefusedAsync(System.Net.IPEndPoint endPoint, ushort id)
    {
        using var extra = await TcpDnsConnection.ConnectAsync(endPoint, Timeout);
        // Closed at accept, the connection may already be reset when the query goes out.
        await extra.TrySendRawAsync(TcpDnsConnection.Frame(WwwQuery(id).Encode()), Timeout);
        var response = await extra.ReceiveAsync(CloseWait);
        Assert.True(response is null, $"a connection over the limit on {endPoint} was answered");
    }
}
