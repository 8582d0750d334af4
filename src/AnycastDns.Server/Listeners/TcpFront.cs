using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using AnycastDns.Authority;
using AnycastDns.Server.Telemetry;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server.Listeners;

/// <summary>
/// Answers DNS over TCP on one address (RFC 7766): accepts connections and hands each to a <see cref="TcpConnection"/>.
/// The table of open connections, with its limits, is shared by every address (<see cref="TcpConnectionTable"/>).
/// </summary>
internal sealed partial class TcpFront : IDisposable
{
    private readonly Socket _listener;
    private readonly Responder _responder;
    private readonly TcpLimits _limits;
    private readonly ILogger _logger;
    private readonly LogThrottle _failures = new(LogThrottle.DefaultInterval);
    private readonly LogThrottle _acceptFailures = new(LogThrottle.DefaultInterval);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<TcpConnection, Task> _connections = new();
    private readonly ThreadLocal<QueryStats> _stats;
    private Task _acceptLoop = Task.CompletedTask;
    private long _queries;
    private volatile string? _failure;

    private TcpFront(ListenAddress address, Socket listener, Responder responder, TcpLimits limits, QueryStatistics statistics, ILogger logger)
    {
        _stats = statistics.PerThread(Transport.Tcp, listener.AddressFamily, address.EndPoint);
        Connections = new TcpConnectionTally(listener.AddressFamily);
        Address = address;
        _listener = listener;
        _responder = responder;
        _limits = limits;
        _logger = logger;
    }

    public ListenAddress Address { get; }

    /// <summary>Connections accepted and closed on this address, for the metrics.</summary>
    public TcpConnectionTally Connections { get; }

    /// <summary>The calling thread's query counters: TCP connections move between pool threads, each thread counts its own.</summary>
    internal QueryStats QueryStats => _stats.Value!;

    /// <summary>Queries answered over connections to this address so far.</summary>
    public long Queries => Interlocked.Read(ref _queries);

    /// <summary>The secondary zones, which answer NOTIFY from their primaries; null without any.</summary>
    public Secondary.SecondaryZones? Secondary { get; init; }

    /// <summary>Zone transfers and signed queries (<see cref="Transfers.ZoneTransfers"/>); null answers them all with the responder.</summary>
    internal Transfers.ZoneTransfers? Transfers { get; init; }

    /// <summary>Why accepting stopped while the front was not stopping, or null while it runs.</summary>
    public string? Failure => _failure;

    internal void CountQueries(int n) => Interlocked.Add(ref _queries, n);

    public static TcpFront Bind(ListenAddress address, bool freeBind, Responder responder, TcpLimits limits, QueryStatistics statistics, ILogger logger) =>
        Bind(address, freeBind, responder, limits, statistics, logger, null);

    /// <summary>As the other overload, with <paramref name="transfers"/> answering zone transfers and signed queries.</summary>
    public static TcpFront Bind(ListenAddress address, bool freeBind, Responder responder, TcpLimits limits, QueryStatistics statistics, ILogger logger, Transfers.ZoneTransfers? transfers, Secondary.SecondaryZones? secondary = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        var socket = SocketSetup.Create(address, SocketType.Stream, ProtocolType.Tcp, freeBind);
        try
        {
            // Restarting must not wait for old connections in TIME_WAIT to clear the port.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(address.EndPoint);
            socket.Listen(1024);
            return new TcpFront(new ListenAddress((IPEndPoint)socket.LocalEndPoint!), socket, responder, limits, statistics, logger) { Transfers = transfers, Secondary = secondary };
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Start() => _acceptLoop = AcceptLoopAsync(_stop.Token);

    /// <summary>Stops accepting and closes every connection of this address; returns when they have ended.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        await Task.WhenAll(_connections.Values).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _stop.Dispose();
        _stats.Dispose();
    }

    private async Task RunAsync(TcpConnection connection, CancellationToken stop)
    {
        // Yield first, so that the accept loop goes on at once and the dictionary entry exists before removal.
        await Task.Yield();
        try
        {
            await connection.RunAsync(stop).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Whatever a client sends must not write the log once per connection.
            ReportFailure(e);
        }
        finally
        {
            Connections.Close(connection.CloseReason);
            _limits.Table.Release(connection);
            _connections.TryRemove(connection, out _);
        }
    }

    /// <summary>A query or a connection failed (a bug): logged at most once per <see cref="LogThrottle.DefaultInterval"/>, with how many were not.</summary>
    internal void ReportFailure(Exception e)
    {
        if (_failures.ShouldLog(out long suppressed))
        {
            LogConnectionFailed(_logger, e, Address, suppressed);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "tcp {Address}: answering failed; the connection is closed ({Suppressed} more such failures since the last report, counted in anycastdns_queries_failed_total)")]
    private static partial void LogConnectionFailed(ILogger logger, Exception exception, ListenAddress address, long suppressed);

    /// <summary>The client's key for the per-client limit; false when the connection is already gone.</summary>
    private static bool TryClientOf(Socket client, out TcpClientKey key)
    {
        try
        {
            if (client.RemoteEndPoint is IPEndPoint remote)
            {
                key = TcpClientKey.Of(remote.Address);
                return true;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        key = default;
        return false;
    }

    private async Task AcceptLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || stop.IsCancellationRequested)
            {
                if (!stop.IsCancellationRequested)
                {
                    _failure = $"tcp {Address}: the listening socket closed: {e.Message}";
                }
                return;
            }
            catch (SocketException e)
            {
                // Out of descriptors or a connection reset before accept: keep serving the others. A client can reset
                // connections as fast as it opens them: one line per interval, the rest counted in it.
                if (_acceptFailures.ShouldLog(out long suppressed))
                {
                    LogAcceptFailed(_logger, Address, e.Message, suppressed);
                }
                await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
                continue;
            }
            Connections.Accept();
            if (!TryClientOf(client, out var key))
            {
                Connections.Close(TcpCloseReason.Reset);
                client.Dispose();
                continue;
            }
            var connection = new TcpConnection(client, key, _responder, _limits, this);
            if (!_limits.Table.TryAdmit(connection, out var refusal, out var evicted))
            {
                Connections.Close(refusal);
                // Turned away: closed at once rather than left waiting (RFC 7766 §6.2.2 lets servers shed load).
                client.Dispose();
                continue;
            }
            // The evicted connection's slot is the newcomer's already; it closes on its own task.
            evicted?.StopWaiting();
            _connections[connection] = RunAsync(connection, stop);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "tcp {Address}: accept failed: {Error} ({Suppressed} more such failures since the last report)")]
    private static partial void LogAcceptFailed(ILogger logger, ListenAddress address, string error, long suppressed);
}
