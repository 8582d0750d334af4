namespace AnycastDns.Server.Listeners;

/// <summary>Why a DNS-over-TCP connection ended (RFC 7766 §6.2 lists who may close and when).</summary>
internal enum TcpCloseReason
{
    /// <summary>An unexpected error in the server (logged).</summary>
    Failed,
    /// <summary>The client closed its side.</summary>
    ClientClosed,
    /// <summary>No complete query within the idle timeout (RFC 7766 §6.2.3).</summary>
    IdleTimeout,
    /// <summary>The client did not take its answers within the idle timeout.</summary>
    WriteTimeout,
    /// <summary>Reset by the client or the network.</summary>
    Reset,
    /// <summary>A frame that cannot be a query: shorter than a header, or a response.</summary>
    BadFrame,
    /// <summary>The connection reached <c>Tcp:MaxQueriesPerConnection</c>.</summary>
    QueryLimit,
    /// <summary>
    /// Closed on accept: <c>Tcp:MaxConnections</c> were open and every one was busy (being answered, or with octets to
    /// read), so none could make room (RFC 7766 §6.2.2 lets a server shed load).
    /// </summary>
    OverLimit,
    /// <summary>Closed on accept: the client (its IPv4 address, its IPv6 /64) already held <c>Tcp:MaxConnectionsPerClient</c>.</summary>
    PerClientLimit,
    /// <summary>Closed to make room for a new connection: the table was full and this one had waited longest for a query.</summary>
    Evicted,
    /// <summary>The server is stopping.</summary>
    ServerStopping,
}
