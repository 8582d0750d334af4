using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AnycastDns.Authority;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server.Dnstap;

/// <summary>
/// The one thread that sends dnstap: drains every receive thread's <see cref="DnstapRing"/>, encodes each exchange as
/// AUTH_QUERY and AUTH_RESPONSE (<see cref="DnstapMessage"/>) and writes them as Frame Streams data frames to the
/// collector (<see cref="FrameStream"/>). While the collector is gone it keeps draining and counts what it drains as
/// dropped, reconnecting with a doubling backoff; one log line when the collector is lost, one when it is back.
/// Nothing here runs on a thread that answers.
/// </summary>
internal sealed partial class DnstapWriter : IDisposable
{
    private static readonly byte[] ContentType = "protobuf:dnstap.Dnstap"u8.ToArray();
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LastBackoff = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Frames are gathered into one buffer and sent with one call when it fills or the rings are empty.</summary>
    private const int SendBufferSize = 512 * 1024;

    private readonly DnstapOptions _options;
    private readonly ILogger _logger;
    private readonly DnstapMessage _message;
    private readonly Lock _gate = new();
    private DnstapRing[] _rings = [];
    private readonly byte[] _send = new byte[SendBufferSize];
    private Thread? _thread;
    private volatile bool _stopping;
    private Socket? _socket;
    private long _sent;
    private long _writerDropped;

    public DnstapWriter(DnstapOptions options, string identity, string version, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(version);
        _options = options;
        _logger = logger;
        _message = new DnstapMessage(identity, version);
    }

    /// <summary>Messages (AUTH_QUERY or AUTH_RESPONSE) written to a collector.</summary>
    public long Sent => Volatile.Read(ref _sent);

    /// <summary>Messages dropped: a ring full, or no collector to send them to.</summary>
    public long Dropped
    {
        get
        {
            long dropped = Volatile.Read(ref _writerDropped);
            foreach (var ring in Volatile.Read(ref _rings))
            {
                dropped += ring.Dropped;
            }
            return dropped;
        }
    }

    /// <summary>True while a collector has accepted the stream.</summary>
    public bool Connected => Volatile.Read(ref _socket) is not null;

    /// <summary>A ring for one receive thread, on <paramref name="local"/>; kept (and drained) until the writer is disposed.</summary>
    public DnstapRing CreateRing(Transport transport, AddressFamily family, IPEndPoint? local)
    {
        var ring = new DnstapRing(_options, transport, family, local);
        lock (_gate)
        {
            _rings = [.. _rings, ring];
        }
        return ring;
    }

    public void Start()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "dnstap writer" };
        _thread.Start();
    }

    /// <summary>Sends what the rings still hold, says STOP, waits a bounded time for FINISH, closes.</summary>
    public void Stop()
    {
        if (_stopping)
        {
            return;
        }
        _stopping = true;
        _thread?.Join(TimeSpan.FromSeconds(5));
    }

    public void Dispose() => Stop();

    private void Run()
    {
        var backoff = FirstBackoff;
        long nextAttempt = 0;
        bool reportedDown = false;
        while (true)
        {
            bool stopping = _stopping;
            if (_socket is null && Stopwatch.GetTimestamp() >= nextAttempt && !stopping)
            {
                try
                {
                    Volatile.Write(ref _socket, Connect());
                    LogConnected(_logger, _options.Collector);
                    reportedDown = false;
                    backoff = FirstBackoff;
                }
                catch (Exception e) when (e is SocketException or IOException)
                {
                    if (!reportedDown)
                    {
                        LogUnreachable(_logger, _options.Collector, e.Message);
                        reportedDown = true;
                    }
                    nextAttempt = Stopwatch.GetTimestamp() + (long)(backoff.TotalSeconds * Stopwatch.Frequency);
                    backoff = backoff * 2 > LastBackoff ? LastBackoff : backoff * 2;
                }
            }
            int drained = Drain(ref reportedDown, ref nextAttempt);
            if (stopping)
            {
                Close(sayStop: true);
                return;
            }
            if (drained == 0)
            {
                Thread.Sleep(1);
            }
        }
    }

    /// <summary>Empties every ring once; returns the records read.</summary>
    private int Drain(ref bool reportedDown, ref long nextAttempt)
    {
        int records = 0;
        int filled = 0;
        int pending = 0;
        foreach (var ring in Volatile.Read(ref _rings))
        {
            while (ring.TryRead(out var record))
            {
                records++;
                // Room for both frames of the largest exchange (two 64 KiB messages) before encoding either.
                if (filled + 2 * DnstapMessage.MaxFramed(ushort.MaxValue) > _send.Length)
                {
                    Flush(ref filled, ref pending, ref reportedDown, ref nextAttempt);
                }
                if (_socket is null)
                {
                    Interlocked.Add(ref _writerDropped, record.Messages);
                    ring.Release();
                    continue;
                }
                _message.Set(ring, record);
                if (record.HasQuery)
                {
                    filled += _message.WriteQuery(record.Query, _send.AsSpan(filled));
                    pending++;
                }
                if (record.HasResponse)
                {
                    filled += _message.WriteResponse(record.Response, _send.AsSpan(filled));
                    pending++;
                }
                ring.Release();
            }
        }
        Flush(ref filled, ref pending, ref reportedDown, ref nextAttempt);
        return records;
    }

    /// <summary>Sends what is gathered; on failure counts it dropped, logs the loss once and closes for a reconnect.</summary>
    private void Flush(ref int filled, ref int pending, ref bool reportedDown, ref long nextAttempt)
    {
        if (filled == 0)
        {
            return;
        }
        try
        {
            _socket!.Send(_send.AsSpan(0, filled));
            Interlocked.Add(ref _sent, pending);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Interlocked.Add(ref _writerDropped, pending);
            LogLost(_logger, _options.Collector, e.Message);
            reportedDown = true;
            Close(sayStop: false);
            nextAttempt = Stopwatch.GetTimestamp() + (long)(FirstBackoff.TotalSeconds * Stopwatch.Frequency);
        }
        filled = 0;
        pending = 0;
    }

    /// <summary>Connects and completes the bidirectional handshake: READY, ACCEPT, START.</summary>
    private Socket Connect()
    {
        Socket socket;
        EndPoint endPoint;
        if (_options.Socket is { } path)
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            endPoint = new UnixDomainSocketEndPoint(path);
        }
        else
        {
            socket = new Socket(_options.Tcp!.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            endPoint = _options.Tcp;
        }
        try
        {
            socket.SendTimeout = (int)IoTimeout.TotalMilliseconds;
            socket.ReceiveTimeout = (int)IoTimeout.TotalMilliseconds;
            var connecting = socket.ConnectAsync(endPoint);
            if (!connecting.Wait(IoTimeout))
            {
                throw new IOException($"no connection within {IoTimeout.TotalSeconds} s");
            }
            socket.Send(FrameStream.Control(FrameStream.Ready, ContentType));
            FrameStream.ExpectControl(socket, FrameStream.Accept, ContentType);
            socket.Send(FrameStream.Control(FrameStream.Start, ContentType));
            return socket;
        }
        catch (AggregateException e) when (e.InnerException is SocketException inner)
        {
            socket.Dispose();
            throw inner;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void Close(bool sayStop)
    {
        var socket = _socket;
        if (socket is null)
        {
            return;
        }
        Volatile.Write(ref _socket, null);
        if (sayStop)
        {
            try
            {
                socket.Send(FrameStream.Control(FrameStream.Stop, []));
                FrameStream.ExpectControl(socket, FrameStream.Finish, ContentType);
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
            {
                // The collector went before it said FINISH: nothing is lost that was not already sent.
            }
        }
        socket.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "dnstap: sending to {Collector}")]
    private static partial void LogConnected(ILogger logger, string collector);

    [LoggerMessage(Level = LogLevel.Warning, Message = "dnstap: cannot reach the collector {Collector}: {Error}; retrying, messages are dropped and counted meanwhile")]
    private static partial void LogUnreachable(ILogger logger, string collector, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "dnstap: lost the collector {Collector}: {Error}; reconnecting, messages are dropped and counted meanwhile")]
    private static partial void LogLost(ILogger logger, string collector, string error);
}
