using System.Net;
using System.Net.Sockets;
using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.Server.Listeners;
using AnycastDns.Server.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnycastDns.Server.Tests.Listeners;

/// <summary>
/// When answering a query throws (a bug: every input should get FORMERR, SERVFAIL or a drop by rule), the fronts
/// count it in <c>anycastdns_queries_failed_total</c>, log it at most once per interval with how many were left out,
/// and go on answering. The responder here has no zone snapshot at all, so every IN query throws inside it, while the
/// CHAOS identity, which needs no zone, is answered.
/// </summary>
public sealed class AnswerFailureTests
{
    private const int FailingQueries = 300;

    private static Responder FailingResponder() => new(new ZoneSetHolder(null!), new ResponderOptions { PopId = "pop-test" });

    private static readonly byte[] Failing = DnsMessage.CreateQuery(DnsName.Parse("www.example.test."), RecordType.A, id: 7).Encode();

    private static byte[] Identity(ushort id) => DnsMessage.CreateQuery(DnsName.Parse("id.server."), RecordType.TXT, RecordClass.CH, id).Encode();

    [Fact]
    public void Udp_failures_are_counted_each_logged_once_per_interval_and_the_front_keeps_answering()
    {
        var statistics = new QueryStatistics(new TelemetryOptions(), NullLoggerFactory.Instance);
        var log = new CapturingLogger();
        using var front = UdpFront.Bind(new ListenAddress(new IPEndPoint(IPAddress.Loopback, 0)), loops: 1, receiveBufferBytes: 0,
            freeBind: false, FailingResponder(), limiter: null, statistics, log);
        front.Start();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 5000 };
        client.Connect(front.Address.EndPoint);
        var reply = new byte[512];

        for (int i = 0; i < FailingQueries; i++)
        {
            client.Send(Failing);
            if (i % 50 == 49)
            {
                // One flow is answered in order: the identity's answer comes after every failed query before it.
                client.Send(Identity((ushort)(1000 + i)));
                int length = client.Receive(reply);
                Assert.Equal(1000 + i, DnsMessage.Parse(reply.AsSpan(0, length)).Id);
            }
        }

        Assert.Equal(FailingQueries, Sum(statistics, Transport.Udp, QueryStats.Failed));
        var error = Assert.Single(log.Lines);
        Assert.Equal(LogLevel.Error, error.Level);
        Assert.IsType<NullReferenceException>(error.Exception);
        Assert.Contains("0 more such failures", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tcp_query_that_fails_closes_its_connection_after_the_answers_before_it_and_is_logged_once()
    {
        var statistics = new QueryStatistics(new TelemetryOptions(), NullLoggerFactory.Instance);
        var log = new CapturingLogger();
        using var front = TcpFront.Bind(new ListenAddress(new IPEndPoint(IPAddress.Loopback, 0)), freeBind: false, FailingResponder(),
            new TcpLimits(100, 100, 0, TimeSpan.FromSeconds(10)), statistics, log);
        front.Start();

        for (int connection = 0; connection < 20; connection++)
        {
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 5000 };
            tcp.Connect(front.Address.EndPoint);
            // Pipelined: an answerable query, the failing one, and one after it that is never answered.
            tcp.Send([.. Framed(Identity(1)), .. Framed(Failing), .. Framed(Identity(2))]);
            var stream = new List<byte>();
            var chunk = new byte[4096];
            for (int read; (read = tcp.Receive(chunk)) > 0;)
            {
                stream.AddRange(chunk.AsSpan(0, read));
            }
            // One answer, then the server's FIN.
            int length = stream[0] << 8 | stream[1];
            Assert.Equal(2 + length, stream.Count);
            Assert.Equal(1, DnsMessage.Parse(stream.ToArray().AsSpan(2, length)).Id);
        }

        await front.StopAsync();
        Assert.Equal(20, Sum(statistics, Transport.Tcp, QueryStats.Failed));
        Assert.Equal(20, front.Connections.ClosedFor(TcpCloseReason.Failed));
        var error = Assert.Single(log.Lines);
        Assert.IsType<NullReferenceException>(error.Exception);
    }

    private static byte[] Framed(byte[] message) => [(byte)(message.Length >> 8), (byte)message.Length, .. message];

    private static long Sum(QueryStatistics statistics, Transport transport, int slot) =>
        statistics.Sum().Where(s => s.Key.Transport == transport).Sum(s => s.Value[slot]);

    private sealed record Line(LogLevel Level, string Message, Exception? Exception);

    /// <summary>Every line written, kept for the assertions.</summary>
    private sealed class CapturingLogger : ILogger
    {
        private readonly List<Line> _lines = [];

        public IReadOnlyList<Line> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines)
            {
                _lines.Add(new Line(logLevel, formatter(state, exception), exception));
            }
        }
    }
}
