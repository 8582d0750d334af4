using System.Runtime.InteropServices;

namespace AnycastDns.Server.Listeners;

/// <summary>
/// The open TCP connections over all addresses, and who may open one more. RFC 7766 §6.2.2 lets a server limit the
/// connections of one client address or subnet, and §6.2.3 lets it give idle connections no time at all when under
/// heavy load or attack. So a newcomer is turned away when its client already holds <c>Tcp:MaxConnectionsPerClient</c>;
/// when <c>Tcp:MaxConnections</c> are open, the connection that has waited longest for a query is closed to make room;
/// only when every open connection is busy (being answered, or with octets from its client already there to read) is
/// the newcomer turned away. A client reconnecting as fast as it can therefore displaces idle connections, the oldest
/// first, never one that is being answered, and a newcomer that asks at once is answered long before it becomes the
/// one that waited longest.
/// </summary>
/// <remarks>
/// Only accepts and closes take the lock. A connection's queries touch nothing here: a connection publishes whether
/// it is waiting, and since when, in its own fields, and eviction claims it with one compare-and-swap of its state, so
/// a connection that starts answering at that moment is never cut off mid-query (<see cref="TcpConnection.TryEvict"/>).
/// The scan for the longest wait runs only when the table is full: a few microseconds for a thousand connections.
/// </remarks>
internal sealed class TcpConnectionTable(int maxConnections, int maxPerClient)
{
    /// <summary>Connections claimed by another newcomer or gone busy between scan and claim; then the table counts as busy.</summary>
    private const int EvictionAttempts = 4;

    private readonly Lock _gate = new();
    private readonly HashSet<TcpConnection> _open = [];
    private readonly Dictionary<TcpClientKey, int> _perClient = [];
    private int _count;

    /// <summary>Connections open now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// Counts <paramref name="newcomer"/> in, or says why not. When a connection had to make room it is returned in
    /// <paramref name="evicted"/>, already out of the table; the caller ends it (<see cref="TcpConnection.StopWaiting"/>).
    /// </summary>
    public bool TryAdmit(TcpConnection newcomer, out TcpCloseReason refusal, out TcpConnection? evicted)
    {
        evicted = null;
        refusal = default;
        lock (_gate)
        {
            if (_perClient.TryGetValue(newcomer.Client, out int held) && held >= maxPerClient)
            {
                // Refused rather than evicting one of its own: a client at its share has connections to use.
                refusal = TcpCloseReason.PerClientLimit;
                return false;
            }
            if (_open.Count >= maxConnections)
            {
                evicted = ClaimLongestWaiting();
                if (evicted is null)
                {
                    refusal = TcpCloseReason.OverLimit;
                    return false;
                }
                Forget(evicted);
            }
            _open.Add(newcomer);
            CollectionsMarshal.GetValueRefOrAddDefault(_perClient, newcomer.Client, out _)++;
            Volatile.Write(ref _count, _open.Count);
            return true;
        }
    }

    /// <summary>Takes an ended connection out of the table, unless eviction already did.</summary>
    public void Release(TcpConnection connection)
    {
        lock (_gate)
        {
            if (_open.Contains(connection))
            {
                Forget(connection);
                Volatile.Write(ref _count, _open.Count);
            }
        }
    }

    /// <summary>The waiting connection whose last complete query (or accept) is oldest, claimed for eviction; null when all are busy.</summary>
    private TcpConnection? ClaimLongestWaiting()
    {
        for (int attempt = 0; attempt < EvictionAttempts; attempt++)
        {
            TcpConnection? longest = null;
            long since = long.MaxValue;
            foreach (var connection in _open)
            {
                if (connection.IsWaiting && connection.WaitingSince < since)
                {
                    longest = connection;
                    since = connection.WaitingSince;
                }
            }
            if (longest is null)
            {
                return null;
            }
            if (longest.TryEvict())
            {
                return longest;
            }
            // It started answering (or closing) between the scan and the claim: look again.
        }
        return null;
    }

    private void Forget(TcpConnection connection)
    {
        _open.Remove(connection);
        ref int held = ref CollectionsMarshal.GetValueRefOrNullRef(_perClient, connection.Client);
        if (--held == 0)
        {
            _perClient.Remove(connection.Client);
        }
    }
}
