using System.Net;
using System.Net.Sockets;

namespace AnycastDns.TestSupport;

/// <summary>Finds a port on loopback that is free for both UDP and TCP, as a DNS server needs.</summary>
public static class LoopbackPort
{
    // Below the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by default): a port the kernel
    // handed out for port 0 can be taken a moment later as the source port of any outgoing connection (a kdig
    // query, an HTTP request, a transfer), which once made a server's --http bind fail in CI.
    private const int First = 10_000;
    private const int Count = 22_000;
    private const int Attempts = 200;

    // Each test process starts at its own offset and never hands out a number twice, so two tests that pick their
    // ports before either binds cannot get the same one.
    private static int _next = Random.Shared.Next(Count);

    /// <summary>
    /// A port free on 127.0.0.1 and ::1 for UDP and TCP at the moment of the call. Another process may still take
    /// it before the caller binds it, so callers retry on failure.
    /// </summary>
    public static int FindFreeForUdpAndTcp()
    {
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            int port = First + (int)((uint)Interlocked.Increment(ref _next) % Count);
            if (IsFree(IPAddress.Loopback, port) && (!Socket.OSSupportsIPv6 || IsFree(IPAddress.IPv6Loopback, port)))
            {
                return port;
            }
        }
        throw new InvalidOperationException($"no loopback port free for both UDP and TCP after {Attempts} attempts");
    }

    private static bool IsFree(IPAddress address, int port)
    {
        using var udp = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        using var tcp = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            udp.Bind(new IPEndPoint(address, port));
            tcp.Bind(new IPEndPoint(address, port));
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode != SocketError.AddressAlreadyInUse && address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return true; // no ::1 here (IPv6 disabled): only 127.0.0.1 counts
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
