using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using AnycastDns.Authority;
using AnycastDns.Protocol;

namespace AnycastDns.Server.Listeners;

/// <summary>
/// One DNS-over-TCP connection (RFC 1035 §4.2.2, RFC 7766): 2-octet length framing, any number of queries, pipelined
/// queries answered in one write as far as they arrived together. The connection closes when idle for the timeout
/// with no complete query (a half-written frame does not keep it open), after the query limit, on a frame that
/// cannot be a DNS query (shorter than a header, or a response), when the client does not read its answers within
/// the timeout, or when the server stops.
/// </summary>
internal sealed class TcpConnection(Socket socket, Responder responder, TcpLimits limits, TcpFront front)
{
    /// <summary>A length prefix and the largest message it can announce.</summary>
    private const int MaxFrame = 2 + ushort.MaxValue;

    /// <summary>The client, for the query log.</summary>
    private readonly byte[] _client = Telemetry.QueryLog.ClientOf(socket);

    /// <summary>Why the connection ended, once <see cref="RunAsync"/> has returned.</summary>
    public TcpCloseReason CloseReason { get; private set; }

    public async Task RunAsync(CancellationToken stop)
    {
        byte[] input = ArrayPool<byte>.Shared.Rent(2 * MaxFrame);
        byte[] output = ArrayPool<byte>.Shared.Rent(2 * MaxFrame);
        // Two clocks: one for the wait for a query (restarted only by complete queries), one for each write, so that a
        // query read just as the idle time runs out is still answered.
        var idle = CancellationTokenSource.CreateLinkedTokenSource(stop);
        using var send = CancellationTokenSource.CreateLinkedTokenSource(stop);
        idle.CancelAfter(limits.IdleTimeout);
        socket.NoDelay = true;
        int filled = 0;
        int answered = 0;
        try
        {
            while (true)
            {
                int read = await socket.ReceiveAsync(input.AsMemory(filled), SocketFlags.None, idle.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    CloseReason = TcpCloseReason.ClientClosed;
                    return; // the client closed its side
                }
                filled += read;

                // Answer every complete frame now in the buffer, into one write.
                int consumed = 0;
                int pending = 0;
                int answeredNow = 0;
                bool close = false;
                while (filled - consumed >= 2)
                {
                    int length = BinaryPrimitives.ReadUInt16BigEndian(input.AsSpan(consumed));
                    if (length < Header.Length)
                    {
                        close = true; // no DNS message is this short: the stream cannot be trusted any further
                        break;
                    }
                    if (filled - consumed - 2 < length)
                    {
                        break;
                    }
                    if (output.Length - pending < MaxFrame)
                    {
                        await SendAsync(output, pending, send).ConfigureAwait(false);
                        pending = 0;
                    }
                    var stats = front.QueryStats;
                    long start = stats.Start();
                    var answer = output.AsSpan(pending + 2, ushort.MaxValue);
                    int written = responder.Respond(input.AsSpan(consumed + 2, length), answer, Transport.Tcp, ClientAddress.Of(_client), out var decision);
                    stats.Count(decision, RateLimiting.RateLimitAction.Answer, start, _client, answer);
                    consumed += 2 + length;
                    if (written == 0)
                    {
                        close = true; // a response, not a query: this peer is not a DNS client
                        break;
                    }
                    BinaryPrimitives.WriteUInt16BigEndian(output.AsSpan(pending), (ushort)written);
                    pending += 2 + written;
                    answered++;
                    answeredNow++;
                    // RFC 7766 §6.2.3: the idle time counts from the last complete query; a clock that already ran out
                    // while this query was read is replaced.
                    if (!idle.TryReset())
                    {
                        idle.Dispose();
                        idle = CancellationTokenSource.CreateLinkedTokenSource(stop);
                    }
                    idle.CancelAfter(limits.IdleTimeout);
                    if (limits.MaxQueriesPerConnection > 0 && answered >= limits.MaxQueriesPerConnection)
                    {
                        close = true;
                        break;
                    }
                }
                if (pending > 0)
                {
                    await SendAsync(output, pending, send).ConfigureAwait(false);
                }
                front.CountQueries(answeredNow);
                if (close)
                {
                    CloseReason = limits.MaxQueriesPerConnection > 0 && answered >= limits.MaxQueriesPerConnection ? TcpCloseReason.QueryLimit : TcpCloseReason.BadFrame;
                    return;
                }
                // Keep the partial frame at the front; the buffer always has room for the rest of one frame.
                input.AsSpan(consumed, filled - consumed).CopyTo(input);
                filled -= consumed;
            }
        }
        catch (OperationCanceledException)
        {
            // Idle for too long, not reading its answers, or the server is stopping.
            CloseReason = stop.IsCancellationRequested ? TcpCloseReason.ServerStopping : idle.IsCancellationRequested ? TcpCloseReason.IdleTimeout : TcpCloseReason.WriteTimeout;
        }
        catch (SocketException)
        {
            CloseReason = TcpCloseReason.Reset;
        }
        finally
        {
            idle.Dispose();
            Close();
            ArrayPool<byte>.Shared.Return(input);
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    /// <summary>Writes the answers; a client that does not take them within the idle timeout is cut off.</summary>
    private async ValueTask SendAsync(byte[] buffer, int count, CancellationTokenSource clock)
    {
        if (!clock.TryReset())
        {
            throw new OperationCanceledException(); // only the server's stop cancels it for good
        }
        clock.CancelAfter(limits.IdleTimeout);
        int sent = 0;
        while (sent < count)
        {
            sent += await socket.SendAsync(buffer.AsMemory(sent, count - sent), SocketFlags.None, clock.Token).ConfigureAwait(false);
        }
        clock.CancelAfter(Timeout.InfiniteTimeSpan);
    }

    private void Close()
    {
        try
        {
            // Our side first (RFC 7766 §6.2.4 lets the server close); the client sees a clean FIN, not a reset.
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        socket.Dispose();
    }
}
