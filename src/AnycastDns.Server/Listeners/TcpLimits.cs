namespace AnycastDns.Server.Listeners;

/// <summary>The limits every TCP connection lives by, and the count of open connections over all addresses.</summary>
public sealed class TcpLimits(int maxConnections, int maxQueriesPerConnection, TimeSpan idleTimeout)
{
    private int _open;

    public int MaxConnections { get; } = maxConnections;

    /// <summary>Answers after which a connection is closed; 0 for no limit.</summary>
    public int MaxQueriesPerConnection { get; } = maxQueriesPerConnection;

    /// <summary>RFC 7766 §6.2.3: a connection with no complete query for this long is closed.</summary>
    public TimeSpan IdleTimeout { get; } = idleTimeout;

    public int Open => Volatile.Read(ref _open);

    /// <summary>Counts one more open connection, unless that would pass the limit.</summary>
    public bool TryOpen()
    {
        while (true)
        {
            int open = Volatile.Read(ref _open);
            if (open >= MaxConnections)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _open, open + 1, open) == open)
            {
                return true;
            }
        }
    }

    public void Close() => Interlocked.Decrement(ref _open);
}
