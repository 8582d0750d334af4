using System.Net;
using System.Net.Sockets;

namespace AnycastDns.TestSupport;

/// <summary>Finds a port on 127.0.0.1 that is free for both UDP and TCP, as a DNS server needs.</summary>
public static class LoopbackPort
{
    private const int Attempts = 50;

    /// <summary>
    /// Binds UDP port 0 to get a port from the kernel, checks TCP can bind the same number, and releases
    /// both. Another process may take the port before the caller binds it, so callers retry on failure.
    /// </summary>
    public static int FindFreeForUdpAndTcp()
    {
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)udp.LocalEndPoint!).Port;
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                tcp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                // TCP has it; ask for another UDP port.
            }
        }
        throw new InvalidOperationException($"no loopback port free for both UDP and TCP after {Attempts} attempts");
    }
}
