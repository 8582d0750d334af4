using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using AnycastDns.Protocol;

namespace AnycastDns.Server.Probing;

/// <summary>
/// Asks one DNS server one question over UDP or TCP, with a deadline: what the operator tools (fleet-check, reload
/// checks) and the watchdog use to look at a server from outside, as any client would.
/// </summary>
public static class DnsProbe
{
    private const int MaxUdpResponse = ushort.MaxValue;

    /// <summary>
    /// Sends <paramref name="query"/> and returns the parsed response with the same ID.
    /// Throws <see cref="TimeoutException"/>, <see cref="SocketException"/> (refused, unreachable) or <see cref="DnsFormatException"/>.
    /// </summary>
    public static async Task<DnsMessage> QueryAsync(IPEndPoint server, DnsMessage query, bool tcp, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(query);
        byte[] wire = query.Encode();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var response = tcp
                ? await QueryTcpAsync(server, wire, deadline.Token).ConfigureAwait(false)
                : await QueryUdpAsync(server, wire, query.Id, deadline.Token).ConfigureAwait(false);
            return response;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no answer from {server} over {(tcp ? "TCP" : "UDP")} within {timeout.TotalSeconds:0.#} s");
        }
    }

    private static async Task<DnsMessage> QueryUdpAsync(IPEndPoint server, byte[] wire, ushort id, CancellationToken cancel)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        // Connected: the kernel hands us only datagrams from that server, and reports its closed port as an error.
        await socket.ConnectAsync(server, cancel).ConfigureAwait(false);
        await socket.SendAsync(wire, SocketFlags.None, cancel).ConfigureAwait(false);
        var buffer = new byte[MaxUdpResponse];
        while (true)
        {
            int received = await socket.ReceiveAsync(buffer, SocketFlags.None, cancel).ConfigureAwait(false);
            // A late answer to an earlier question is not ours: wait on for ours (the deadline bounds the loop).
            if (received >= 2 && BinaryPrimitives.ReadUInt16BigEndian(buffer) == id)
            {
                return DnsMessage.Parse(buffer.AsSpan(0, received));
            }
        }
    }

    private static async Task<DnsMessage> QueryTcpAsync(IPEndPoint server, byte[] wire, CancellationToken cancel)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server, cancel).ConfigureAwait(false);
        var framed = new byte[2 + wire.Length];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)wire.Length);
        wire.CopyTo(framed, 2);
        await socket.SendAsync(framed, SocketFlags.None, cancel).ConfigureAwait(false);
        var prefix = new byte[2];
        await ReceiveExactlyAsync(socket, prefix, cancel).ConfigureAwait(false);
        var message = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
        await ReceiveExactlyAsync(socket, message, cancel).ConfigureAwait(false);
        return DnsMessage.Parse(message);
    }

    private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancel)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer[filled..], SocketFlags.None, cancel).ConfigureAwait(false);
            if (n == 0)
            {
                throw new SocketException((int)SocketError.ConnectionReset);
            }
            filled += n;
        }
    }

    /// <summary>The strings of a TXT record's RDATA (RFC 1035 §3.3.14), as UTF-8 text.</summary>
    public static IReadOnlyList<string> TxtStrings(ReadOnlySpan<byte> rdata)
    {
        var strings = new List<string>();
        for (int at = 0; at < rdata.Length;)
        {
            int length = rdata[at];
            if (at + 1 + length > rdata.Length)
            {
                throw new DnsFormatException(WireError.Truncated, "TXT character-string runs past the RDATA");
            }
            strings.Add(System.Text.Encoding.UTF8.GetString(rdata.Slice(at + 1, length)));
            at += 1 + length;
        }
        return strings;
    }
}
