namespace AnycastDns.Server.Listeners;

/// <summary>The limits every TCP connection lives by, and the table of open connections over all addresses.</summary>
internal sealed class TcpLimits(int maxConnections, int maxConnectionsPerClient, int maxQueriesPerConnection, TimeSpan idleTimeout)
{
    public int MaxConnections { get; } = maxConnections;

    /// <summary>Connections one client (an IPv4 address, an IPv6 /64) may hold; see <see cref="TcpClientKey"/>.</summary>
    public int MaxConnectionsPerClient { get; } = maxConnectionsPerClient;

    /// <summary>Answers after which a connection is closed; 0 for no limit.</summary>
    public int MaxQueriesPerConnection { get; } = maxQueriesPerConnection;

    /// <summary>RFC 7766 §6.2.3: a connection with no complete query for this long is closed.</summary>
    public TimeSpan IdleTimeout { get; } = idleTimeout;

    public int Open => Table.Count;

    internal TcpConnectionTable Table { get; } = new(maxConnections, maxConnectionsPerClient);
}
