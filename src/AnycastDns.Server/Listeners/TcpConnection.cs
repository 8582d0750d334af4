using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Numerics;
using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.Server.Transfers;

namespace AnycastDns.Server.Listeners;

/// <summary>
/// One DNS-over-TCP connection (RFC 1035 §4.2.2, RFC 7766): 2-octet length framing, any number of queries, pipelined
/// queries answered in one write as far as they arrived together. The connection closes when idle for the timeout
/// with no complete query (a half-written frame does not keep it open), after the query limit, on a frame that
/// cannot be a DNS query (shorter than a header, or a response), when the client does not read its answers within
/// the timeout, when the server stops, or when the table is full and it has waited longest for a query
/// (<see cref="TcpConnectionTable"/>). An AXFR, or any query with a TSIG record, goes to <see cref="ZoneTransfers"/>,
/// which writes its messages (many, for a transfer) as it makes them, after the answers already pending.
/// </summary>
/// <remarks>
/// Memory follows use, so that a full table of idle connections costs little (1,000 of them about 8 MiB resident,
/// TcpFairnessTests): a waiting connection holds one 1 KiB input buffer. It grows only while octets actually arrive faster
/// than one buffer holds (a frame announcing 65,535 octets of which 5 came keeps 1 KiB; the buffer doubles as the rest
/// comes), and returns to 1 KiB once the client has nothing more in flight. Answers are written into a per-thread
/// buffer of the largest message (the responder needs the room), then gathered into a pooled output buffer held
/// only until they are written.
/// </remarks>
internal sealed class TcpConnection
{
    /// <summary>A length prefix and the largest message it can announce.</summary>
    private const int MaxFrame = 2 + ushort.MaxValue;

    /// <summary>Most queries are under 512 octets: one fits with room to spare, as do a dozen small ones pipelined.</summary>
    private const int SmallInput = 1024;

    /// <summary>The most a pipelining client's reads grow to, when it keeps the buffer full.</summary>
    private const int PipelineInput = 16 * 1024;

    /// <summary>Answers gathered for one write; once this much is pending it is written before answering on.</summary>
    private const int OutputFlush = 8 * 1024;

    /// <summary>The output buffer: room for <see cref="OutputFlush"/> and an ordinary answer after it.</summary>
    private const int Output = 2 * OutputFlush;

    // The connection's state, as the table sees it: only a waiting connection may be evicted. Waiting means a read is
    // pending for want of octets from the client; a connection whose octets are already there (a pipelining client,
    // one whose write of answers just unblocked) is busy, however recent its last complete query.
    private const int Waiting = 0;
    private const int Busy = 1;
    private const int Evicted = 2;
    private const int Closed = 3;

    /// <summary>Where this thread's answers are written: a TCP answer may take the largest message (RFC 7766 §8).</summary>
    [ThreadStatic]
    private static byte[]? t_answer;

    private readonly Socket _socket;
    private readonly Responder _responder;
    private readonly TcpLimits _limits;
    private readonly TcpFront _front;

    /// <summary>The client, for the query log.</summary>
    private readonly byte[] _client;

    /// <summary>Cancelled when the table evicts this connection; it has no timer and no parent, so it needs no disposal.</summary>
    private readonly CancellationTokenSource _evicted = new();

    private int _state;
    private long _waitingSince = Stopwatch.GetTimestamp();

    public TcpConnection(Socket socket, TcpClientKey client, Responder responder, TcpLimits limits, TcpFront front)
    {
        _socket = socket;
        _responder = responder;
        _limits = limits;
        _front = front;
        _client = Telemetry.QueryLog.ClientOf(socket);
        Client = client;
    }

    /// <summary>Who holds this connection, for the per-client limit.</summary>
    public TcpClientKey Client { get; }

    /// <summary>Why the connection ended, once <see cref="RunAsync"/> has returned.</summary>
    public TcpCloseReason CloseReason { get; private set; }

    /// <summary>True while the connection waits for octets from the client: no query in hand, nothing unread.</summary>
    public bool IsWaiting => Volatile.Read(ref _state) == Waiting;

    /// <summary>When the wait began: the accept, or the end of the last answered query (<see cref="Stopwatch"/> ticks).</summary>
    public long WaitingSince => Volatile.Read(ref _waitingSince);

    /// <summary>Claims a waiting connection for eviction; false when its octets have just come (or it is closing): it goes on.</summary>
    public bool TryEvict() => Interlocked.CompareExchange(ref _state, Evicted, Waiting) == Waiting;

    /// <summary>Ends the wait of an evicted connection: its pending read is cancelled and it closes.</summary>
    public void StopWaiting() => _evicted.Cancel();

    public async Task RunAsync(CancellationToken stop)
    {
        byte[] input = ArrayPool<byte>.Shared.Rent(SmallInput);
        byte[]? output = null;
        // Two clocks: one for the wait for a query (restarted only by complete queries), one for each write, so that a
        // query read just as the idle time runs out is still answered. Eviction ends the wait, never a write.
        var idle = CancellationTokenSource.CreateLinkedTokenSource(stop, _evicted.Token);
        using var send = CancellationTokenSource.CreateLinkedTokenSource(stop);
        idle.CancelAfter(_limits.IdleTimeout);
        _socket.NoDelay = true;
        int filled = 0;
        int answered = 0;
        try
        {
            // Busy from here (the first octets may be there already); claimed by eviction since the accept, it ends.
            if (Interlocked.CompareExchange(ref _state, Busy, Waiting) != Waiting)
            {
                return;
            }
            while (true)
            {
                var receive = _socket.ReceiveAsync(input.AsMemory(filled), SocketFlags.None, idle.Token);
                int read;
                if (receive.IsCompleted)
                {
                    read = receive.GetAwaiter().GetResult();
                }
                else
                {
                    // Nothing to read: waiting for the client, and from now on eviction may take this connection.
                    Volatile.Write(ref _state, Waiting);
                    read = await receive.ConfigureAwait(false);
                    // Evicted just as the octets came: it ends here unanswered, as it would have a moment earlier.
                    if (Interlocked.CompareExchange(ref _state, Busy, Waiting) != Waiting)
                    {
                        return;
                    }
                }
                if (read == 0)
                {
                    CloseReason = TcpCloseReason.ClientClosed;
                    return; // the client closed its side
                }
                filled += read;
                bool readFilledBuffer = filled == input.Length;
                if (!HasFrameToAnswer(input.AsSpan(0, filled)))
                {
                    input = Resize(input, filled, readFilledBuffer);
                    continue;
                }
                // Answer every complete frame now in the buffer, into one write as far as they fit.
                int consumed = 0;
                int pending = 0;
                int answeredNow = 0;
                bool close = false;
                bool failed = false;
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
                    if (_front.Transfers is { } transfers && ZoneTransfers.Handles(input.AsSpan(consumed + 2, length))
                        && !(_front.Secondary is not null && Secondary.SecondaryZones.IsNotify(input.AsSpan(consumed + 2, length))))
                    {
                        // A zone transfer (many messages) or a signed query: answered in order after what is pending,
                        // its messages written as they are made, each under the write timeout.
                        if (pending > 0)
                        {
                            await SendAsync(output!, pending, send).ConfigureAwait(false);
                            pending = 0;
                        }
                        var (keepOpen, transferFailed) = await AnswerTransferAsync(transfers, input, consumed + 2, length, send).ConfigureAwait(false);
                        consumed += 2 + length;
                        if (transferFailed)
                        {
                            failed = true;
                            break;
                        }
                        if (!keepOpen)
                        {
                            close = true;
                            break;
                        }
                    }
                    else
                    {
                        // Taken afresh after every write: the loop may have moved to another thread.
                        byte[] answer = t_answer ??= new byte[MaxFrame];
                        var stats = _front.QueryStats;
                        long start = stats.Start();
                        var response = answer.AsSpan(2, ushort.MaxValue);
                        int written;
                        try
                        {
                            var frame = input.AsSpan(consumed + 2, length);
                            ResponseDecision decision;
                            written = _front.Secondary is { } secondary && Secondary.SecondaryZones.IsNotify(frame)
                                // A NOTIFY for a secondary zone (RFC 1996 §3.7; Knot sends it over TCP too).
                                ? secondary.AnswerNotify(frame, response, new System.Net.IPAddress(ClientAddress.Of(_client)), out decision)
                                : _responder.Respond(frame, response, Transport.Tcp, ClientAddress.Of(_client), out decision);
                            stats.Count(decision, RateLimiting.RateLimitAction.Answer, start, _client, response);
                            stats.Dnstap?.Add(input.AsSpan(consumed + 2, length), response[..written], _client, decision, RateLimiting.RateLimitAction.Answer, start);
                        }
                        catch (Exception e) when (e is not OperationCanceledException)
                        {
                            // A bug, and the client may send the same again: counted, logged at most once per interval,
                            // and the connection closed after the answers before it, so the client knows to stop waiting.
                            stats.CountFailure();
                            _front.ReportFailure(e);
                            failed = true;
                            break;
                        }
                        consumed += 2 + length;
                        if (written == 0)
                        {
                            close = true; // a response, not a query: this peer is not a DNS client
                            break;
                        }
                        BinaryPrimitives.WriteUInt16BigEndian(answer, (ushort)written);
                        output = Append(output, pending, answer.AsSpan(0, 2 + written));
                        pending += 2 + written;
                    }
                    answered++;
                    answeredNow++;
                    // RFC 7766 §6.2.3: the idle time counts from the last complete query; a clock that already ran out
                    // while this query was read is replaced.
                    if (!idle.TryReset())
                    {
                        idle.Dispose();
                        idle = CancellationTokenSource.CreateLinkedTokenSource(stop, _evicted.Token);
                    }
                    idle.CancelAfter(_limits.IdleTimeout);
                    if (_limits.MaxQueriesPerConnection > 0 && answered >= _limits.MaxQueriesPerConnection)
                    {
                        close = true;
                        break;
                    }
                    if (pending >= OutputFlush)
                    {
                        await SendAsync(output!, pending, send).ConfigureAwait(false);
                        pending = 0;
                    }
                }
                if (pending > 0)
                {
                    await SendAsync(output!, pending, send).ConfigureAwait(false);
                }
                if (output is not null)
                {
                    ArrayPool<byte>.Shared.Return(output);
                    output = null;
                }
                _front.CountQueries(answeredNow);
                if (failed)
                {
                    CloseReason = TcpCloseReason.Failed;
                    return;
                }
                if (close)
                {
                    CloseReason = _limits.MaxQueriesPerConnection > 0 && answered >= _limits.MaxQueriesPerConnection ? TcpCloseReason.QueryLimit : TcpCloseReason.BadFrame;
                    return;
                }
                // Keep the partial frame at the front, in a buffer with room for the rest of it as it arrives.
                input.AsSpan(consumed, filled - consumed).CopyTo(input);
                filled -= consumed;
                input = Resize(input, filled, readFilledBuffer);
                Volatile.Write(ref _waitingSince, Stopwatch.GetTimestamp());
            }
        }
        catch (OperationCanceledException)
        {
            // Idle for too long, not reading its answers, evicted, or the server is stopping.
            CloseReason = stop.IsCancellationRequested ? TcpCloseReason.ServerStopping
                : _evicted.IsCancellationRequested ? TcpCloseReason.Evicted
                : idle.IsCancellationRequested ? TcpCloseReason.IdleTimeout
                : TcpCloseReason.WriteTimeout;
        }
        catch (SocketException)
        {
            CloseReason = TcpCloseReason.Reset;
        }
        finally
        {
            // From here the table cannot claim it; if it already had, that is why the connection ended.
            if (Interlocked.Exchange(ref _state, Closed) == Evicted)
            {
                CloseReason = TcpCloseReason.Evicted;
            }
            idle.Dispose();
            Close();
            ArrayPool<byte>.Shared.Return(input);
            if (output is not null)
            {
                ArrayPool<byte>.Shared.Return(output);
            }
        }
    }

    /// <summary>
    /// Hands one frame to the zone transfers (a copy: its answer may take many writes); false in KeepOpen when the
    /// connection should close after it, true in Failed when answering failed (a bug, counted and reported).
    /// </summary>
    private async ValueTask<(bool KeepOpen, bool Failed)> AnswerTransferAsync(ZoneTransfers transfers, byte[] input, int at, int length, CancellationTokenSource send)
    {
        byte[] request = ArrayPool<byte>.Shared.Rent(length);
        input.AsSpan(at, length).CopyTo(request);
        try
        {
            // The statistics of the thread that runs the answer up to its first await, where it counts the request.
            bool keepOpen = await transfers.AnswerAsync(request, length, _client, _front.QueryStats, (buffer, count) => SendAsync(buffer, count, send)).ConfigureAwait(false);
            return (keepOpen, false);
        }
        catch (Exception e) when (e is not (OperationCanceledException or SocketException))
        {
            _front.QueryStats.CountFailure();
            _front.ReportFailure(e);
            return (false, true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(request);
        }
    }

    /// <summary>A whole frame to answer, or a length no query can have (which closes the connection).</summary>
    private static bool HasFrameToAnswer(ReadOnlySpan<byte> input)
    {
        if (input.Length < 2)
        {
            return false;
        }
        int length = BinaryPrimitives.ReadUInt16BigEndian(input);
        return length < Header.Length || input.Length - 2 >= length;
    }

    /// <summary>
    /// The buffer for the next read, holding the <paramref name="filled"/> octets of the frame in progress: 1 KiB, or
    /// larger reads (up to 16 KiB) while the client keeps the buffer full, or room for the frame in progress as far as
    /// its octets have come, doubled — never more than the frame, never more than twice what was received.
    /// </summary>
    private static byte[] Resize(byte[] input, int filled, bool readFilledBuffer)
    {
        int size = readFilledBuffer ? Math.Clamp(2 * input.Length, SmallInput, PipelineInput) : SmallInput;
        if (filled >= 2)
        {
            int frame = 2 + BinaryPrimitives.ReadUInt16BigEndian(input);
            if (frame > size)
            {
                size = Math.Min(frame, Math.Max(size, 2 * filled));
            }
        }
        // ArrayPool.Shared hands out powers of two: the same size needs no new buffer.
        if ((int)BitOperations.RoundUpToPowerOf2((uint)size) == input.Length)
        {
            return input;
        }
        byte[] resized = ArrayPool<byte>.Shared.Rent(size);
        input.AsSpan(0, filled).CopyTo(resized);
        ArrayPool<byte>.Shared.Return(input);
        return resized;
    }

    /// <summary>Appends one framed answer to the pending output, renting (or enlarging) the output buffer as needed.</summary>
    private static byte[] Append(byte[]? output, int pending, ReadOnlySpan<byte> frame)
    {
        output ??= ArrayPool<byte>.Shared.Rent(Output);
        if (output.Length - pending < frame.Length)
        {
            // A large answer: a larger buffer for this write only (the answer must leave the per-thread buffer before
            // anything is awaited).
            byte[] larger = ArrayPool<byte>.Shared.Rent(pending + frame.Length);
            output.AsSpan(0, pending).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(output);
            output = larger;
        }
        frame.CopyTo(output.AsSpan(pending));
        return output;
    }

    /// <summary>Writes the answers; a client that does not take them within the idle timeout is cut off.</summary>
    private async ValueTask SendAsync(byte[] buffer, int count, CancellationTokenSource clock)
    {
        if (!clock.TryReset())
        {
            throw new OperationCanceledException(); // only the server's stop cancels it for good
        }
        clock.CancelAfter(_limits.IdleTimeout);
        int sent = 0;
        while (sent < count)
        {
            sent += await _socket.SendAsync(buffer.AsMemory(sent, count - sent), SocketFlags.None, clock.Token).ConfigureAwait(false);
        }
        clock.CancelAfter(Timeout.InfiniteTimeSpan);
    }

    private void Close()
    {
        try
        {
            // Our side first (RFC 7766 §6.2.4 lets the server close); the client sees a clean FIN, not a reset.
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        _socket.Dispose();
    }
}
