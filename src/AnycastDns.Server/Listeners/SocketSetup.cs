using System.Net.Sockets;

namespace AnycastDns.Server.Listeners;

/// <summary>Socket options the portable API does not name, set as raw options where the platform has them.</summary>
internal static class SocketSetup
{
    // Linux values from <asm-generic/socket.h> and <linux/in.h>, <linux/in6.h>.
    private const int SolSocket = 1;
    private const int SoReusePort = 15;
    private const int IpProtoIp = 0;
    private const int IpFreeBind = 15;
    private const int IpProtoIpv6 = 41;
    private const int Ipv6FreeBind = 78;

    /// <summary>
    /// SO_REUSEPORT: several sockets bound to one address and port, the kernel spreading datagrams over them by flow,
    /// so each receive thread owns a socket and none contend for one.
    /// </summary>
    public static void ReusePort(Socket socket)
    {
        if (OperatingSystem.IsLinux())
        {
            socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
        }
    }

    /// <summary>IP_FREEBIND: bind an address the host does not have yet, e.g. the anycast address before it is configured.</summary>
    public static void FreeBind(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("FreeBind needs Linux (IP_FREEBIND)");
        }
        if (socket.AddressFamily == AddressFamily.InterNetworkV6)
        {
            socket.SetRawSocketOption(IpProtoIpv6, Ipv6FreeBind, BitConverter.GetBytes(1));
        }
        else
        {
            socket.SetRawSocketOption(IpProtoIp, IpFreeBind, BitConverter.GetBytes(1));
        }
    }

    /// <summary>Creates a socket for <paramref name="address"/>, IPv6 sockets restricted to IPv6 so that each address stays its own.</summary>
    public static Socket Create(ListenAddress address, SocketType type, ProtocolType protocol, bool freeBind)
    {
        var socket = new Socket(address.Family, type, protocol);
        try
        {
            if (address.Family == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }
            if (freeBind)
            {
                FreeBind(socket);
            }
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
