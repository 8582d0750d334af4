using System.Net.Sockets;
using AnycastDns.Server.Listeners;

namespace AnycastDns.Server.Telemetry;

/// <summary>
/// Connections accepted and closed (by reason) on one TCP address. Events per connection, not per query, so shared
/// interlocked counters are cheap enough; open = accepted - closed, which the metrics check against the live count.
/// </summary>
internal sealed class TcpConnectionTally(AddressFamily family)
{
    private static readonly int Reasons = Enum.GetValues<TcpCloseReason>().Length;

    private readonly long[] _closed = new long[Reasons];
    private long _accepted;

    public AddressFamily Family { get; } = family;

    public long Accepted => Interlocked.Read(ref _accepted);

    public long ClosedFor(TcpCloseReason reason) => Interlocked.Read(ref _closed[(int)reason]);

    public void Accept() => Interlocked.Increment(ref _accepted);

    public void Close(TcpCloseReason reason) => Interlocked.Increment(ref _closed[(int)reason]);

    /// <summary>The label value of a reason: snake_case, as OpenTelemetry attribute values are written.</summary>
    public static string Label(TcpCloseReason reason) => reason switch
    {
        TcpCloseReason.Failed => "failed",
        TcpCloseReason.ClientClosed => "client_closed",
        TcpCloseReason.IdleTimeout => "idle_timeout",
        TcpCloseReason.WriteTimeout => "write_timeout",
        TcpCloseReason.Reset => "reset",
        TcpCloseReason.BadFrame => "bad_frame",
        TcpCloseReason.QueryLimit => "query_limit",
        TcpCloseReason.OverLimit => "over_limit",
        TcpCloseReason.PerClientLimit => "per_client_limit",
        TcpCloseReason.Evicted => "evicted",
        TcpCloseReason.ServerStopping => "server_stopping",
        _ => "other",
    };
}
