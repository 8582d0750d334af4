using System.Net;
using System.Net.Sockets;
using AnycastDns.Authority;
using AnycastDns.Protocol.Tsig;
using AnycastDns.Server.Listeners.Internal;
using AnycastDns.Server.RateLimiting;
using AnycastDns.Server.Telemetry;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server.Listeners;

/// <summary>
/// Answers UDP on one address: N sockets bound to it with SO_REUSEPORT, each read by its own thread with blocking
/// receives — on Linux a batch of datagrams per recvmmsg and their answers in one sendmmsg, elsewhere one datagram
/// per call. The receive → answer → send path allocates nothing: buffers are allocated once per thread and the
/// client's address is kept in them.
/// </summary>
internal sealed partial class UdpFront : IDisposable
{
    /// <summary>The largest datagram we read; a query longer than this is not a query (RFC 6891 §6.2.3 caps payloads at 65535).</summary>
    private const int ReceiveBufferSize = ushort.MaxValue;

    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(5);

    private readonly Socket[] _sockets;
    private readonly Thread[] _threads;
    private readonly Responder _responder;
    private readonly ResponseRateLimiter? _limiter;
    private readonly Transfers.ZoneTransfers? _transfers;
    private readonly Secondary.SecondaryZones? _secondary;
    private readonly ILogger _logger;
    private readonly LogThrottle _failures = new(LogThrottle.DefaultInterval);
    private readonly QueryStatistics _statistics;
    private readonly long[] _queries;
    private volatile bool _stopping;
    private volatile string? _failure;

    /// <summary>Counters are a cache line apart, so each receive thread writes its own line and none contend.</summary>
    private const int CounterStride = 16;

    private UdpFront(ListenAddress address, Socket[] sockets, Responder responder, ResponseRateLimiter? limiter, QueryStatistics statistics, ILogger logger, Transfers.ZoneTransfers? transfers, Secondary.SecondaryZones? secondary)
    {
        _secondary = secondary;
        _transfers = transfers;
        _limiter = limiter;
        _statistics = statistics;
        Address = address;
        _sockets = sockets;
        _responder = responder;
        _logger = logger;
        _threads = new Thread[sockets.Length];
        _queries = new long[sockets.Length * CounterStride];
    }

    /// <summary>Datagrams received on this address so far (answered or not).</summary>
    public long Queries
    {
        get
        {
            long sum = 0;
            for (int i = 0; i < _sockets.Length; i++)
            {
                sum += Volatile.Read(ref _queries[i * CounterStride]);
            }
            return sum;
        }
    }

    /// <summary>Why a receive thread ended while the front was not stopping, or null while all run.</summary>
    public string? Failure => _failure;

    /// <summary>The address as bound (its port filled in when 0 was asked for).</summary>
    public ListenAddress Address { get; }

    /// <summary>
    /// Binds <paramref name="loops"/> sockets to <paramref name="address"/>; throws <see cref="SocketException"/> when it
    /// cannot. <paramref name="transfers"/> answers the queries that carry a TSIG record; without it they are answered
    /// unsigned, as any query.
    /// </summary>
    public static UdpFront Bind(ListenAddress address, int loops, int receiveBufferBytes, bool freeBind, Responder responder, ResponseRateLimiter? limiter, QueryStatistics statistics, ILogger logger, Transfers.ZoneTransfers? transfers = null, Secondary.SecondaryZones? secondary = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        var sockets = new List<Socket>(loops);
        try
        {
            var endPoint = address.EndPoint;
            for (int i = 0; i < loops; i++)
            {
                var socket = SocketSetup.Create(address, SocketType.Dgram, ProtocolType.Udp, freeBind);
                sockets.Add(socket);
                if (loops > 1)
                {
                    SocketSetup.ReusePort(socket);
                }
                if (receiveBufferBytes > 0)
                {
                    socket.ReceiveBufferSize = receiveBufferBytes;
                }
                // A receive wakes at least this often, so that a stop is seen even where closing does not interrupt it.
                socket.ReceiveTimeout = 1000;
                socket.Bind(endPoint);
                // With port 0 the first socket picks the port and the others join it.
                endPoint = (IPEndPoint)socket.LocalEndPoint!;
            }
            return new UdpFront(new ListenAddress(endPoint), [.. sockets], responder, limiter, statistics, logger, transfers, secondary);
        }
        catch
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
            throw;
        }
    }

    public void Start()
    {
        for (int i = 0; i < _sockets.Length; i++)
        {
            var socket = _sockets[i];
            int counter = i * CounterStride;
            _threads[i] = new Thread(() => ReceiveLoop(socket, counter))
            {
                IsBackground = true,
                Name = $"udp {Address} #{i}",
            };
            _threads[i].Start();
        }
    }

    /// <summary>Stops receiving and closes the sockets; returns when every receive thread has ended (or after a bound wait).</summary>
    public void Stop()
    {
        if (_stopping)
        {
            return; // stopped already (StopAsync, then Dispose)
        }
        _stopping = true;
        foreach (var socket in _sockets)
        {
            try
            {
                // Wakes a thread blocked in recvfrom at once on Linux, even on an unconnected UDP socket (which reports
                // ENOTCONN but still shuts the receive side); the receive timeout is the fallback elsewhere.
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
            }
            socket.Dispose();
        }
        foreach (var thread in _threads)
        {
            thread?.Join(StopWait);
        }
    }

    public void Dispose() => Stop();

    private void ReceiveLoop(Socket socket, int counter)
    {
        if (DatagramBatch.IsSupported)
        {
            try
            {
                BatchedReceiveLoop(socket, counter);
                return;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException
                || e is SocketException { SocketErrorCode: SocketError.OperationNotSupported })
            {
                // A libc without recvmmsg (or not glibc): answer one datagram per call instead.
                LogNoBatchedReceive(_logger, Address, e.Message);
            }
        }
        SingleReceiveLoop(socket, counter);
    }

    /// <summary>Linux: a batch of datagrams per recvmmsg, their answers in one sendmmsg.</summary>
    private void BatchedReceiveLoop(Socket socket, int counter)
    {
        using var batch = new DatagramBatch(DatagramBatch.DefaultCapacity, _responder.MaxUdpResponse);
        var stats = _statistics.ForThread(Transport.Udp, socket.AddressFamily, Address.EndPoint);
        var handle = socket.SafeHandle;
        bool added = false;
        // Holding a reference keeps the descriptor number ours until this thread is done with it: Stop() may dispose
        // the socket while we are blocked, and a closed number could be reused by an unrelated socket.
        handle.DangerousAddRef(ref added);
        try
        {
            while (!_stopping)
            {
                int count;
                try
                {
                    count = batch.Receive(handle);
                }
                catch (SocketException e) when (e.SocketErrorCode != SocketError.OperationNotSupported)
                {
                    Fail(e);
                    return;
                }
                _queries[counter] += count;
                for (int i = 0; i < count; i++)
                {
                    if (batch.IsTruncated(i))
                    {
                        // Longer than any query this server reads (DatagramBatch.QuerySize): dropped, and counted so.
                        stats.Count(default, RateLimitAction.Answer, 0, batch.Client(i), []);
                        continue;
                    }
                    int length = Answer(batch.Query(i), batch.Response(i), stats, batch.Client(i));
                    if (length > 0)
                    {
                        batch.Reply(i, length);
                    }
                }
                try
                {
                    batch.Send(handle);
                }
                catch (SocketException e)
                {
                    Fail(e);
                    return;
                }
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Anywhere else: one blocking receive and one send per datagram, into buffers pinned once.</summary>
    private void SingleReceiveLoop(Socket socket, int counter)
    {
        byte[] query = GC.AllocateUninitializedArray<byte>(ReceiveBufferSize, pinned: true);
        byte[] response = GC.AllocateUninitializedArray<byte>(_responder.MaxUdpResponse, pinned: true);
        var client = new SocketAddress(socket.AddressFamily);
        var stats = _statistics.ForThread(Transport.Udp, socket.AddressFamily, Address.EndPoint);
        while (!_stopping)
        {
            int received;
            try
            {
                received = socket.ReceiveFrom(query, SocketFlags.None, client);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock or SocketError.ConnectionReset or SocketError.MessageSize)
            {
                // A wake-up to check for stop, an ICMP error from an earlier send, or a datagram larger than any query.
                continue;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                Fail(e);
                return;
            }
            // One writer per slot: a plain increment, published by the next volatile read's fence on the reader side.
            _queries[counter]++;
            int length = Answer(query.AsSpan(0, received), response, stats, client.Buffer.Span[..client.Size]);
            if (length == 0)
            {
                continue;
            }
            try
            {
                socket.SendTo(response.AsSpan(0, length), SocketFlags.None, client);
            }
            catch (SocketException)
            {
                // The client's problem (unreachable, no buffer space): one lost reply, which UDP clients retry.
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// The response length, 0 for no answer, counted in the thread's <paramref name="stats"/>; rate limiting may drop
    /// the response or send the small "slip" reply in its place. A bug must cost one query, never the listener.
    /// </summary>
    private int Answer(ReadOnlySpan<byte> query, Span<byte> response, QueryStats stats, ReadOnlySpan<byte> client)
    {
        long start = stats.Start();
        try
        {
            var address = ClientAddress.Of(client);
            int length;
            ResponseDecision decision;
            bool verified = false;
            if (_secondary is not null && Secondary.SecondaryZones.IsNotify(query))
            {
                // A NOTIFY for a secondary zone (RFC 1996 §3.7): checked against the zone's primaries, then answered.
                length = _secondary.AnswerNotify(query, response, new System.Net.IPAddress(address), out decision);
            }
            else if (_transfers is not null && TsigRecord.IsCarried(query))
            {
                // The signing path (RFC 8945 §5.2, §5.3), taken only by a query with a TSIG record.
                length = _transfers.AnswerDatagram(query, response, client, out decision, out verified);
            }
            else
            {
                length = _responder.Respond(query, response, Transport.Udp, address, out decision);
                if (_transfers is not null && decision.QType == (ushort)Protocol.RecordType.IXFR && decision.Rcode == (ushort)Protocol.ResponseCode.Refused)
                {
                    // The responder refuses every IXFR; the transfers answer one over UDP (RFC 1995 §2) when allowed.
                    length = _transfers.AnswerIxfrDatagram(query, response, client, out decision);
                }
            }
            // A request whose MAC verified comes from a holder of the key, whatever its source address says: like a
            // valid server cookie (RFC 7873 §5.2.5), it is never limited. BIND exempts such clients only when the
            // operator names the key in rate-limit's exempt-clients; Knot's RRL exempts valid cookies alone. A key
            // given to a secondary is that naming here. A TSIG that fails (BADSIG, BADKEY...) is limited as errors are.
            var action = _limiter is null || verified ? RateLimitAction.Answer : _limiter.Check(address, decision, response);
            if (action == RateLimitAction.Drop)
            {
                length = 0;
            }
            else if (action == RateLimitAction.Slip)
            {
                length = _responder.RespondLimited(query, response, address, out decision);
            }
            stats.Count(decision, action, start, client, response);
            stats.Dnstap?.Add(query, response[..length], client, decision, action, start);
            return length;
        }
        catch (Exception e)
        {
            // Every input must get FORMERR, SERVFAIL or a drop by rule; this is a bug, and what triggers it can be sent
            // again and again: counted every time, logged once per interval.
            stats.CountFailure();
            if (_failures.ShouldLog(out long suppressed))
            {
                LogAnswerFailed(_logger, e, Address, suppressed);
            }
            return 0;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "udp {Address}: answering a query failed; not answered ({Suppressed} more such failures since the last report, counted in anycastdns_queries_failed_total)")]
    private static partial void LogAnswerFailed(ILogger logger, Exception exception, ListenAddress address, long suppressed);

    private void Fail(Exception e)
    {
        if (!_stopping)
        {
            _failure = $"udp {Address}: receive failed: {e.Message}";
            LogReceiveFailed(_logger, Address, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "udp {Address}: recvmmsg unavailable ({Error}); receiving one datagram per call")]
    private static partial void LogNoBatchedReceive(ILogger logger, ListenAddress address, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "udp {Address}: receive failed: {Error}")]
    private static partial void LogReceiveFailed(ILogger logger, ListenAddress address, string error);
}
