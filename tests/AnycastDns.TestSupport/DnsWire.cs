using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace AnycastDns.TestSupport;

/// <summary>
/// Sends one DNS message and returns the raw response, over plain sockets and nothing else, so a test sees
/// exactly the octets a server put on the wire. Every call is bounded by its timeout.
/// </summary>
public static class DnsWire
{
    /// <summary>Largest UDP payload there can be; responses are never cut short by our buffer.</summary>
    private const int MaxDatagram = 65535;

    /// <summary>
    /// Sends <paramref name="query"/> in one UDP datagram to <paramref name="server"/> and returns the first
    /// datagram that comes back from it, whatever its content.
    /// </summary>
    /// <exception cref="TimeoutException">Nothing came back within <paramref name="timeoutMs"/>.</exception>
    /// <exception cref="SocketException">The server's port is closed (ICMP port unreachable), among others.</exception>
    public static async Task<byte[]> QueryUdpAsync(EndPoint server, byte[] query, int timeoutMs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(query);
        using var deadline = Deadline(timeoutMs, cancellationToken);
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            // Connected, so the kernel only hands us datagrams from the server.
            await socket.ConnectAsync(server, deadline.Token).ConfigureAwait(false);
            await socket.SendAsync(query, SocketFlags.None, deadline.Token).ConfigureAwait(false);
            var buffer = new byte[MaxDatagram];
            int received = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token).ConfigureAwait(false);
            return buffer.AsSpan(0, received).ToArray();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no UDP response from {server} within {timeoutMs} ms");
        }
    }

    /// <summary>
    /// Opens a TCP connection to <paramref name="server"/>, sends <paramref name="query"/> with its two-octet
    /// length prefix (RFC 1035 §4.2.2, RFC 7766 §8) and returns the first response message, without the prefix.
    /// </summary>
    /// <exception cref="TimeoutException">No complete response within <paramref name="timeoutMs"/>, connect included.</exception>
    /// <exception cref="IOException">The server closed the connection before a complete response.</exception>
    public static async Task<byte[]> QueryTcpAsync(EndPoint server, byte[] query, int timeoutMs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(query);
        if (query.Length > ushort.MaxValue)
        {
            throw new ArgumentException($"a DNS message over TCP is at most {ushort.MaxValue} octets, not {query.Length}", nameof(query));
        }
        using var deadline = Deadline(timeoutMs, cancellationToken);
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(server, deadline.Token).ConfigureAwait(false);
            // Prefix and message in one write, as RFC 7766 §8 asks of clients.
            var framed = new byte[2 + query.Length];
            BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
            query.CopyTo(framed, 2);
            await socket.SendAsync(framed, SocketFlags.None, deadline.Token).ConfigureAwait(false);

            var prefix = new byte[2];
            await ReceiveExactlyAsync(socket, prefix, server, deadline.Token).ConfigureAwait(false);
            var response = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
            await ReceiveExactlyAsync(socket, response, server, deadline.Token).ConfigureAwait(false);
            return response;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no complete TCP response from {server} within {timeoutMs} ms");
        }
    }

    private static CancellationTokenSource Deadline(int timeoutMs, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeoutMs);
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeoutMs);
        return deadline;
    }

    /// <summary>Fills <paramref name="buffer"/>; each receive makes progress or ends the loop, and the deadline bounds the time.</summary>
    private static async Task ReceiveExactlyAsync(Socket socket, byte[] buffer, EndPoint server, CancellationToken cancellationToken)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            int received = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (received == 0)
            {
                throw new IOException($"{server} closed the TCP connection after {filled} of {buffer.Length} octets");
            }
            filled += received;
        }
    }
}
