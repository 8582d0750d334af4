using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using AnycastDns.Protocol;
using AnycastDns.TestSupport;
using static AnycastDns.Integration.Tests.Server.KnownAnswers;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// Traffic no well-behaved client sends, against the real <c>anycastdns serve</c> process: thousands of bad UDP
/// datagrams and TCP streams of garbage. The server must answer what deserves an answer (FORMERR, RFC 1035 §4.1.1),
/// drop what does not, never crash or log a failure, and go on answering real queries.
/// </summary>
public sealed class MalformedTrafficTests
{
    private const int DatagramCount = 5000;

    /// <summary>Datagrams sent before waiting for their answers; small enough that no socket buffer overflows on loopback.</summary>
    private const int BatchSize = 50;

    /// <summary>IDs of the batch-closing good queries, above every datagram's ID.</summary>
    private const ushort SentinelIdBase = 60000;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(10);

    /// <summary>A well-formed question section: www.example.test A IN.</summary>
    private static readonly byte[] Question = [.. Www.Wire, 0, 1, 0, 1];

    private enum Kind
    {
        RandomBytes,
        ShortHeader,
        RecordCountsBeyondData,
        WrongQuestionCount,
        PointerLoop,
        ForwardPointer,
        LabelTooLong,
        NameTooLong,
        BadOpt,
        ResponseBit,
    }

    private enum Expect
    {
        /// <summary>Not to be answered: shorter than a header, or a response (QR set).</summary>
        NoResponse,
        /// <summary>FORMERR, with the question echoed when it could be read.</summary>
        FormErr,
        /// <summary>Random content: no answer, or any well-formed response with the datagram's ID.</summary>
        Anything,
    }

    private sealed record Datagram(ushort Id, Kind Kind, Expect Expect, bool QuestionReadable, byte[] Bytes);

    [Fact]
    public async Task Thousands_of_malformed_datagrams_get_FORMERR_or_nothing_and_the_server_still_answers_over_UDP_and_TCP()
    {
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones);
        var datagrams = MakeDatagrams(new Random(20240501));
        using var overV4 = await ConnectUdpAsync(server.EndPoint);
        using var overV6 = await ConnectUdpAsync(server.EndPointV6);
        var answered = new HashSet<ushort>();
        var buffer = new byte[ushort.MaxValue];

        for (int batch = 0; batch * BatchSize < datagrams.Count; batch++)
        {
            var socket = batch % 2 == 0 ? overV4 : overV6;
            foreach (var datagram in datagrams.Skip(batch * BatchSize).Take(BatchSize))
            {
                await socket.SendAsync(datagram.Bytes, SocketFlags.None);
            }
            // One client socket is one flow, so one server socket and thread answer it in order: the answer to a
            // good query sent last comes after every answer to the batch.
            ushort sentinel = (ushort)(SentinelIdBase + batch);
            await socket.SendAsync(WwwQuery(sentinel).Encode(), SocketFlags.None);
            using var deadline = new CancellationTokenSource(CloseWait);
            bool sentinelAnswered = false;
            for (int received = 0; received <= BatchSize && !sentinelAnswered; received++)
            {
                int length;
                try
                {
                    length = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    Assert.Fail($"batch {batch}: no answer to the good query closing it within {CloseWait.TotalSeconds} s; server log:\n{server.Log}");
                    return;
                }
                var response = Parse(buffer.AsSpan(0, length));
                if (response.Id == sentinel)
                {
                    AssertWww(response, sentinel);
                    sentinelAnswered = true;
                    continue;
                }
                Assert.True(response.Id < datagrams.Count, $"batch {batch}: a response with ID {response.Id}, which no datagram had");
                Assert.True(answered.Add(response.Id), $"datagram {response.Id} answered twice");
                AssertFitting(datagrams[response.Id], response);
            }
            Assert.True(sentinelAnswered, $"batch {batch}: more responses than datagrams");
        }

        foreach (var datagram in datagrams)
        {
            Assert.True(datagram.Expect != Expect.FormErr || answered.Contains(datagram.Id),
                $"datagram {datagram.Id} ({datagram.Kind}) got no FORMERR: {Convert.ToHexString(datagram.Bytes)}");
        }
        Assert.Contains(datagrams, d => d.Expect == Expect.Anything && answered.Contains(d.Id));
        await AssertStillServingAsync(server);
    }

    [Fact]
    public async Task A_TCP_connection_sending_garbage_is_closed_and_a_new_connection_answers()
    {
        // A short idle timeout: a garbage stream that ends inside a frame is closed after it, not after the default 10 s.
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, ["--tcp-idle-timeout", "2"]);
        var random = new Random(7766);

        // Frames of random content with IDs of our own, then one too short to be a message (RFC 7766 §8: the length
        // prefix is the only framing there is; a frame that is no message leaves the stream unreadable).
        using (var framedGarbage = await TcpDnsConnection.ConnectAsync(server.EndPoint, Timeout))
        {
            var frames = new List<byte[]>();
            for (int id = 0; id < 30; id++)
            {
                var frame = new byte[random.Next(Header.Length, 300)];
                random.NextBytes(frame);
                BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)id);
                frames.Add(frame);
            }
            frames.Add([1, 2, 3]);
            await framedGarbage.SendRawAsync(TcpDnsConnection.Frame([.. frames]), Timeout);

            var seen = new HashSet<ushort>();
            byte[]? message;
            int messages = 0;
            while ((message = await framedGarbage.ReceiveAsync(CloseWait)) is not null)
            {
                Assert.True(++messages <= 30, "more responses than frames");
                var response = Parse(message);
                Assert.True(response.IsResponse, "QR clear in a response");
                Assert.True(response.Id < 30 && seen.Add(response.Id), $"a response with ID {response.Id}, not one of a frame, or twice");
            }
        }

        // A stream of random octets, framing included, then nothing: closed either on a frame shorter than a header
        // or by the idle timeout, and answered only with well-formed responses until then.
        using (var rawGarbage = await TcpDnsConnection.ConnectAsync(server.EndPointV6, Timeout))
        {
            var bytes = new byte[3000];
            random.NextBytes(bytes);
            await rawGarbage.SendRawAsync(bytes, Timeout);
            for (int messages = 0; await rawGarbage.ReceiveAsync(CloseWait) is { } message; messages++)
            {
                Assert.True(messages < bytes.Length / (2 + Header.Length), "more responses than the stream could hold frames");
                Assert.True(Parse(message).IsResponse, "QR clear in a response");
            }
        }

        await AssertStillServingAsync(server);
    }

    /// <summary>
    /// Issue 14: 100,000 datagrams in the fuzz targets' families (<see cref="MutatedDatagrams"/>) to the real server,
    /// a valid probe after every batch. Every reply must parse with dnspython (a parser nobody here wrote), every probe
    /// must be answered, and the server may write a handful of log lines at most, none of them a failure.
    /// </summary>
    [Fact]
    public async Task A_hundred_thousand_mutated_datagrams_get_only_well_formed_replies_the_probe_is_always_answered_and_the_log_stays_quiet()
    {
        const int count = 100_000;
        const int batchSize = 250;
        var datagrams = MutatedDatagrams.Make(count, seed: 14);
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones);
        string logBefore = server.Log;
        using var socket = await ConnectUdpAsync(server.EndPoint);
        socket.ReceiveBufferSize = 8 << 20;
        var replies = new List<byte[]>(count);
        var buffer = new byte[ushort.MaxValue];
        var started = DateTime.UtcNow;

        for (int batch = 0; batch * batchSize < count; batch++)
        {
            for (int i = batch * batchSize; i < Math.Min(count, (batch + 1) * batchSize); i++)
            {
                await socket.SendAsync(datagrams[i].Bytes, SocketFlags.None);
            }
            // One flow, answered in order by one receive thread: the probe's answer comes after the batch's.
            ushort probe = (ushort)(SentinelIdBase + batch % 5000);
            await socket.SendAsync(WwwQuery(probe).Encode(), SocketFlags.None);
            using var deadline = new CancellationTokenSource(CloseWait);
            while (true)
            {
                int length;
                try
                {
                    length = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    Assert.Fail($"batch {batch}: the probe got no answer within {CloseWait.TotalSeconds} s; server log:\n{server.Log}");
                    return;
                }
                if (length >= 2 && BinaryPrimitives.ReadUInt16BigEndian(buffer) == probe)
                {
                    AssertWww(Parse(buffer.AsSpan(0, length)), probe);
                    break;
                }
                replies.Add(buffer[..length]);
                Assert.True(replies.Count <= (batch + 1) * batchSize, $"batch {batch}: more replies than datagrams");
            }
        }
        var flood = DateTime.UtcNow - started;

        // dnspython reads every reply (Debian's python3 with python3-dnspython).
        string file = Path.GetTempFileName();
        try
        {
            await using (var output = File.Create(file))
            {
                foreach (var reply in replies)
                {
                    output.Write([(byte)(reply.Length >> 8), (byte)reply.Length]);
                    output.Write(reply);
                }
            }
            ExternalTool.RequireInstalled(DnspythonReader.Python, "python3-dnspython");
            var result = await ExternalTool.RunAsync(DnspythonReader.Python, ["-c", DnspythonReader.Script, file], TimeSpan.FromMinutes(2));
            Assert.True(result.ExitCode == 0, $"dnspython could not read every reply:\n{result.Output}");
            Assert.Contains($"{replies.Count} replies read, 0 failed", result.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }

        Assert.InRange(replies.Count, count / 4, count);
        string logDuring = server.Log[logBefore.Length..];
        int lines = logDuring.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        Assert.True(lines <= 5, $"the server wrote {lines} log lines during the flood:\n{logDuring}");
        Assert.DoesNotContain(" fail: ", logDuring, StringComparison.Ordinal);
        Assert.DoesNotContain(" crit: ", logDuring, StringComparison.Ordinal);
        Assert.True(flood < TimeSpan.FromSeconds(90), $"the flood took {flood.TotalSeconds:0} s");
        await AssertStillServingAsync(server);
    }

    /// <summary>
    /// dnspython's <c>dns.message.from_wire</c> on every message of a file of 2-octet-length-prefixed messages.
    /// dnspython 2.3 refuses a message whose opcode it has no name for (its Opcode enum); the server copies the opcode
    /// into its NOTIMP, as RFC 1035 §4.1.1 says and Knot and NSD do, so such a reply must be NOTIMP and is read with the
    /// opcode's four bits cleared: everything else in it is still read by dnspython.
    /// </summary>
    private static class DnspythonReader
    {
        public const string Python = "/usr/bin/python3";

        public const string Script = """
            import struct, sys
            import dns.message, dns.opcode
            data = open(sys.argv[1], "rb").read()
            at, read, unnamed, failed = 0, 0, 0, []
            while at < len(data):
                (length,) = struct.unpack_from(">H", data, at)
                wire = data[at + 2:at + 2 + length]
                at += 2 + length
                read += 1
                if len(wire) >= 4 and (wire[2] >> 3) & 0xF not in set(int(o) for o in dns.opcode.Opcode):
                    if wire[3] & 0xF != 4:
                        failed.append(f"reply {read - 1}: opcode {(wire[2] >> 3) & 0xF} answered with RCODE {wire[3] & 0xF}, not NOTIMP: {wire.hex()}")
                        continue
                    unnamed += 1
                    wire = wire[:2] + bytes([wire[2] & 0x87]) + wire[3:]
                try:
                    dns.message.from_wire(wire)
                except Exception as e:
                    failed.append(f"reply {read - 1}: {type(e).__name__}: {e}: {wire.hex()}")
            print(f"{read} replies read, {len(failed)} failed ({unnamed} NOTIMP to opcodes dnspython has no name for)")
            print("\n".join(failed[:20]))
            sys.exit(1 if failed else 0)
            """;
    }

    /// <summary>Good queries over UDP and TCP on both addresses are answered, the process runs, and it logged no failure.</summary>
    private static async Task AssertStillServingAsync(AnycastDnsServer server)
    {
        ushort id = 100;
        foreach (var endPoint in new[] { server.EndPoint, server.EndPointV6 })
        {
            id++;
            AssertWww(DnsMessage.Parse(await DnsWire.QueryUdpAsync(endPoint, WwwQuery(id).Encode(), (int)Timeout.TotalMilliseconds)), id);
            id++;
            AssertWww(DnsMessage.Parse(await DnsWire.QueryTcpAsync(endPoint, WwwQuery(id).Encode(), (int)Timeout.TotalMilliseconds)), id);
        }
        Assert.False(server.HasExited, $"the server exited:\n{server.Log}");
        // The console logger marks errors "fail:" and critical errors "crit:".
        Assert.DoesNotContain(" fail: ", server.Log, StringComparison.Ordinal);
        Assert.DoesNotContain(" crit: ", server.Log, StringComparison.Ordinal);
    }

    private static async Task<Socket> ConnectUdpAsync(IPEndPoint server)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(server);
        return socket;
    }

    /// <summary>Parses a response, failing the test with its octets when it is not a well-formed message.</summary>
    private static DnsMessage Parse(ReadOnlySpan<byte> response)
    {
        try
        {
            return DnsMessage.Parse(response);
        }
        catch (DnsFormatException e)
        {
            Assert.Fail($"the server sent a malformed message ({e.Message}): {Convert.ToHexString(response)}");
            throw;
        }
    }

    private static void AssertFitting(Datagram datagram, DnsMessage response)
    {
        string what = $"datagram {datagram.Id} ({datagram.Kind}, {Convert.ToHexString(datagram.Bytes)})";
        Assert.True(response.IsResponse, $"{what}: QR clear in the response");
        switch (datagram.Expect)
        {
            case Expect.NoResponse:
                Assert.Fail($"{what}: answered ({response.ResponseCode}), which it must not be");
                break;
            case Expect.FormErr:
                Assert.True(response.ResponseCode == ResponseCode.FormErr, $"{what}: {response.ResponseCode}, not FORMERR");
                Assert.Empty(response.Answers);
                if (datagram.QuestionReadable)
                {
                    var question = Assert.Single(response.Questions);
                    Assert.Equal(Www, question.Name);
                }
                else
                {
                    Assert.Empty(response.Questions);
                }
                break;
        }
    }

    private static List<Datagram> MakeDatagrams(Random random)
    {
        var datagrams = new List<Datagram>(DatagramCount);
        var kinds = Enum.GetValues<Kind>();
        for (int i = 0; i < DatagramCount; i++)
        {
            ushort id = (ushort)i;
            var kind = kinds[i % kinds.Length];
            datagrams.Add(kind switch
            {
                Kind.RandomBytes => RandomBytes(random, id),
                Kind.ShortHeader => ShortHeader(random, id),
                Kind.RecordCountsBeyondData => RecordCountsBeyondData(random, id),
                Kind.WrongQuestionCount => WrongQuestionCount(random, id),
                Kind.PointerLoop => PointerLoop(random, id),
                Kind.ForwardPointer => ForwardPointer(id),
                Kind.LabelTooLong => LabelTooLong(random, id),
                Kind.NameTooLong => NameTooLong(random, id),
                Kind.BadOpt => BadOpt(random, id),
                Kind.ResponseBit => ResponseBit(random, id),
                _ => throw new InvalidOperationException(kind.ToString()),
            });
        }
        return datagrams;
    }

    /// <summary>A header: the ID, flags 0 (a standard query), the four counts.</summary>
    private static byte[] MakeHeader(ushort id, ushort qd, ushort an = 0, ushort ns = 0, ushort ar = 0, ushort flags = 0)
    {
        var header = new byte[Header.Length];
        BinaryPrimitives.WriteUInt16BigEndian(header, id);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), flags);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), qd);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(6), an);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(8), ns);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(10), ar);
        return header;
    }

    private static Datagram RandomBytes(Random random, ushort id)
    {
        var bytes = new byte[random.Next(0, 600)];
        random.NextBytes(bytes);
        if (bytes.Length >= 2)
        {
            BinaryPrimitives.WriteUInt16BigEndian(bytes, id);
        }
        // Whatever else it holds, a datagram shorter than a header or with QR set is not a query (RFC 1035 §4.1.1).
        var expect = bytes.Length < Header.Length || (bytes[2] & 0x80) != 0 ? Expect.NoResponse : Expect.Anything;
        return new Datagram(id, Kind.RandomBytes, expect, false, bytes);
    }

    private static Datagram ShortHeader(Random random, ushort id)
    {
        var bytes = MakeHeader(id, qd: 1)[..random.Next(0, Header.Length)];
        return new Datagram(id, Kind.ShortHeader, Expect.NoResponse, false, bytes);
    }

    private static Datagram RecordCountsBeyondData(Random random, ushort id)
    {
        // A good question, then counts of records that are not there (or only part of one).
        ushort an = 0, ns = 0, ar = 0;
        switch (random.Next(3))
        {
            case 0: an = (ushort)random.Next(1, 65536); break;
            case 1: ns = (ushort)random.Next(1, 65536); break;
            default: ar = (ushort)random.Next(1, 65536); break;
        }
        byte[] partialRecord = random.Next(2) == 0 ? [] : [0, 0, 1, 0, 1];
        return new Datagram(id, Kind.RecordCountsBeyondData, Expect.FormErr, true, [.. MakeHeader(id, 1, an, ns, ar), .. Question, .. partialRecord]);
    }

    private static Datagram WrongQuestionCount(Random random, ushort id)
    {
        // RFC 1035 §4.1.2 allows more, but no server answers more than one question; none, or a question promised and absent.
        byte[] bytes = random.Next(3) switch
        {
            0 => [.. MakeHeader(id, qd: (ushort)random.Next(2, 65536)), .. Question],
            1 => [.. MakeHeader(id, qd: 0), .. Question],
            _ => [.. MakeHeader(id, qd: 1)],
        };
        return new Datagram(id, Kind.WrongQuestionCount, Expect.FormErr, false, bytes);
    }

    private static Datagram PointerLoop(Random random, ushort id)
    {
        // The name at offset 12 ends in a pointer back to its own start: either directly or after some labels.
        var name = new List<byte>();
        int labels = random.Next(0, 4);
        for (int i = 0; i < labels; i++)
        {
            int length = random.Next(1, 10);
            name.Add((byte)length);
            for (int j = 0; j < length; j++)
            {
                name.Add((byte)random.Next('a', 'z' + 1));
            }
        }
        name.AddRange([0xC0, Header.Length]);
        return new Datagram(id, Kind.PointerLoop, Expect.FormErr, false, [.. MakeHeader(id, 1), .. name, 0, 1, 0, 1]);
    }

    private static Datagram ForwardPointer(ushort id)
    {
        // The question's name points past itself to a good name (RFC 1035 §4.1.4: pointers go to a prior occurrence).
        const byte target = Header.Length + 2 + 4;
        return new Datagram(id, Kind.ForwardPointer, Expect.FormErr, false, [.. MakeHeader(id, 1), 0xC0, target, 0, 1, 0, 1, .. Www.Wire]);
    }

    private static Datagram LabelTooLong(Random random, ushort id)
    {
        // 64-191: over 63 (RFC 1035 §2.3.4), and the 0x40 and 0x80 label types, which are not defined for queries.
        int length = random.Next(DnsName.MaxLabelLength + 1, 0xC0);
        var label = new byte[1 + length];
        label[0] = (byte)length;
        random.NextBytes(label.AsSpan(1));
        byte[] prefix = random.Next(2) == 0 ? [] : [3, (byte)'w', (byte)'w', (byte)'w'];
        return new Datagram(id, Kind.LabelTooLong, Expect.FormErr, false, [.. MakeHeader(id, 1), .. prefix, .. label, 0, 0, 1, 0, 1]);
    }

    private static Datagram NameTooLong(Random random, ushort id)
    {
        // Over 255 octets (RFC 1035 §2.3.4) with every label legal.
        var name = new List<byte>();
        while (name.Count <= DnsName.MaxLength)
        {
            int length = random.Next(1, DnsName.MaxLabelLength + 1);
            name.Add((byte)length);
            for (int j = 0; j < length; j++)
            {
                name.Add((byte)'x');
            }
        }
        name.Add(0);
        return new Datagram(id, Kind.NameTooLong, Expect.FormErr, false, [.. MakeHeader(id, 1), .. name, 0, 1, 0, 1]);
    }

    private static Datagram BadOpt(Random random, ushort id)
    {
        // OPT: root owner, TYPE 41, CLASS = payload size 1232, TTL 0, then RDLENGTH and RDATA.
        byte[] opt = [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0];
        byte[] bytes = random.Next(6) switch
        {
            // RDLENGTH beyond the end of the message.
            0 => [.. MakeHeader(id, 1, ar: 1), .. Question, .. opt, 0, (byte)random.Next(1, 256)],
            // An option whose length runs past the RDATA.
            1 => [.. MakeHeader(id, 1, ar: 1), .. Question, .. opt, 0, 6, 0, 3, 0, (byte)random.Next(3, 256), 0, 0],
            // RDATA too short for an option header.
            2 => [.. MakeHeader(id, 1, ar: 1), .. Question, .. opt, 0, 2, 0, 3],
            // Two OPT records (RFC 6891 §6.1.1).
            3 => [.. MakeHeader(id, 1, ar: 2), .. Question, .. opt, 0, 0, .. opt, 0, 0],
            // An owner other than the root (RFC 6891 §6.1.2).
            4 => [.. MakeHeader(id, 1, ar: 1), .. Question, 1, (byte)'x', .. opt, 0, 0],
            // OPT outside the additional section.
            _ => [.. MakeHeader(id, 1, an: 1), .. Question, .. opt, 0, 0],
        };
        return new Datagram(id, Kind.BadOpt, Expect.FormErr, true, bytes);
    }

    private static Datagram ResponseBit(Random random, ushort id)
    {
        // A good query with QR set: a response, which must never be answered (no reflection loops).
        ushort flags = (ushort)(Header.QrBit | (random.Next(2) == 0 ? 0 : Header.AaBit));
        return new Datagram(id, Kind.ResponseBit, Expect.NoResponse, false, [.. MakeHeader(id, 1, flags: flags), .. Question]);
    }
}
