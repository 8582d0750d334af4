using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using AnycastDns.Protocol;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// One client-side DNS-over-TCP connection held open across calls, with raw access to the byte stream, so that a test
/// can pipeline, send half a frame, or watch for the server closing. Every wait is bounded by its timeout.
/// </summary>
internal sealed class TcpDnsConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly EndPoint _server;

    private TcpDnsConnection(Socket socket, EndPoint server)
    {
        _socket = socket;
        _server = server;
    }

    /// <summary>Connects (the kernel completes the handshake even for a connection the server will refuse to serve).</summary>
    /// <param name="from">The source address: on loopback, 127.0.0.2, 127.0.0.3, ... are distinct clients to the server.</param>
    /// <param name="bufferBytes">SO_RCVBUF and SO_SNDBUF when not 0: small buffers make a client that does not read stall the server's writes sooner.</param>
    public static async Task<TcpDnsConnection> ConnectAsync(IPEndPoint server, TimeSpan timeout, IPAddress? from = null, int bufferBytes = 0)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (bufferBytes > 0)
            {
                socket.ReceiveBufferSize = bufferBytes;
                socket.SendBufferSize = bufferBytes;
            }
            if (from is not null)
            {
                socket.Bind(new IPEndPoint(from, 0));
            }
            using var deadline = new CancellationTokenSource(timeout);
            await socket.ConnectAsync(server, deadline.Token);
            return new TcpDnsConnection(socket, server);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Each message with its two-octet length prefix (RFC 1035 §4.2.2), all in one buffer.</summary>
    public static byte[] Frame(params byte[][] messages)
    {
        int total = 0;
        foreach (var message in messages)
        {
            total += 2 + message.Length;
        }
        var framed = new byte[total];
        int at = 0;
        foreach (var message in messages)
        {
            BinaryPrimitives.WriteUInt16BigEndian(framed.AsSpan(at), (ushort)message.Length);
            message.CopyTo(framed, at + 2);
            at += 2 + message.Length;
        }
        return framed;
    }

    /// <summary>Writes <paramref name="bytes"/> as they are, in one send call.</summary>
    public async Task SendRawAsync(byte[] bytes, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        int sent = 0;
        while (sent < bytes.Length)
        {
            sent += await _socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None, deadline.Token);
        }
    }

    /// <summary>Writes <paramref name="bytes"/>; false when the server had already closed the connection (reset, broken pipe).</summary>
    public async Task<bool> TrySendRawAsync(byte[] bytes, TimeSpan timeout)
    {
        try
        {
            await SendRawAsync(bytes, timeout);
            return true;
        }
        catch (SocketException e) when (IsClosedByPeer(e.SocketErrorCode))
        {
            return false;
        }
    }

    public Task SendAsync(DnsMessage query, TimeSpan timeout) => SendRawAsync(Frame(query.Encode()), timeout);

    /// <summary>
    /// The next whole message from the server, or null when the server closed the connection (end of stream or
    /// reset) before sending a single octet of one.
    /// </summary>
    /// <exception cref="TimeoutException">Neither a message nor the close came within <paramref name="timeout"/>.</exception>
    /// <exception cref="IOException">The server closed the connection in the middle of a message.</exception>
    public async Task<byte[]?> ReceiveAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            var prefix = new byte[2];
            int first = await FillAsync(prefix, deadline.Token);
            if (first == 0)
            {
                return null;
            }
            if (first < prefix.Length)
            {
                throw new IOException($"{_server} closed the connection inside a length prefix");
            }
            var message = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
            int filled = await FillAsync(message, deadline.Token);
            if (filled < message.Length)
            {
                throw new IOException($"{_server} closed the connection after {filled} of {message.Length} octets of a message");
            }
            return message;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"neither a message nor a close from {_server} within {timeout.TotalSeconds} s");
        }
    }

    /// <summary>The next message, parsed; fails the test when the server closed the connection instead.</summary>
    public async Task<DnsMessage> ReceiveMessageAsync(TimeSpan timeout)
    {
        var message = await ReceiveAsync(timeout);
        Assert.True(message is not null, $"{_server} closed the connection instead of answering");
        return DnsMessage.Parse(message);
    }

    /// <summary>Sends one query and returns the next message parsed.</summary>
    public async Task<DnsMessage> QueryAsync(DnsMessage query, TimeSpan timeout)
    {
        await SendAsync(query, timeout);
        return await ReceiveMessageAsync(timeout);
    }

    /// <summary>
    /// Sends <paramref name="chunk"/> (whole frames) over and over without reading, until one send has not completed
    /// within <paramref name="stall"/>: then the server has stopped reading this connection, which it does only while
    /// its own write of answers is blocked — the connection is busy answering. Returns the chunks sent (the last still
    /// in flight: it completes once the answers are read, <see cref="DrainAsync"/>); fails the test after
    /// <paramref name="maxChunks"/>.
    /// </summary>
    public async Task<(int Chunks, Task LastSend)> SendUntilStalledAsync(byte[] chunk, TimeSpan stall, int maxChunks)
    {
        for (int chunks = 1; chunks <= maxChunks; chunks++)
        {
            var sending = SendRawAsync(chunk, TimeSpan.FromMinutes(2));
            if (await Task.WhenAny(sending, Task.Delay(stall)) != sending)
            {
                return (chunks, sending);
            }
            await sending;
        }
        Assert.Fail($"{_server}: {maxChunks} chunks of {chunk.Length} octets sent without reading, and the server still read them all");
        return default;
    }

    /// <summary>
    /// Reads messages until none comes for <paramref name="quiet"/> (or the server closes: <c>Closed</c>); returns how many
    /// came. Bounded by <paramref name="max"/> messages.
    /// </summary>
    public async Task<(int Messages, bool Closed)> DrainAsync(TimeSpan quiet, int max)
    {
        int count = 0;
        while (count < max)
        {
            try
            {
                if (await ReceiveAsync(quiet) is null)
                {
                    return (count, true);
                }
            }
            catch (TimeoutException)
            {
                break;
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                // Closed inside a message, or reset: a server closing a connection with octets from the client still
                // unread makes the kernel send RST and drop what was not yet sent. The caller compares the count.
                return (count, true);
            }
            count++;
        }
        return (count, false);
    }

    /// <summary>Closes our side only (FIN): the server reads the end of the stream.</summary>
    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    public EndPoint? Local => _socket.LocalEndPoint;

    public void Dispose() => _socket.Dispose();

    /// <summary>Reads until <paramref name="buffer"/> is full or the server closes; returns the octets read.</summary>
    private async Task<int> FillAsync(byte[] buffer, CancellationToken cancel)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            int read;
            try
            {
                read = await _socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancel);
            }
            catch (SocketException e) when (IsClosedByPeer(e.SocketErrorCode))
            {
                return filled;
            }
            if (read == 0)
            {
                return filled;
            }
            filled += read;
        }
        return filled;
    }

    private static bool IsClosedByPeer(SocketError error) =>
        error is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown;
}
