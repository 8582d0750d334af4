using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using AnycastDns.Server.Anycast.Internal;

namespace AnycastDns.Server.Anycast;

/// <summary>
/// Talks to BIRD 2 over its control socket (the one <c>birdc</c> uses, <c>bird -s PATH</c>): one command, one reply,
/// in BIRD's line protocol (BIRD's nest/cli.c; codes in its doc/reply_codes). Each call is bounded by
/// <see cref="Timeout"/>, from connecting to the last line of the reply.
/// </summary>
/// <remarks>
/// Every call opens its own connection, reads the greeting, sends one command, reads the reply and closes. A kept
/// connection would save a connect and a greeting (well under a millisecond on a Unix socket) on calls that come
/// seconds apart; in exchange it goes stale without a word when BIRD restarts (a sidecar container restarted,
/// <c>systemctl restart bird</c>), which is found only by a failed write or read, then needs a reconnect and a retry
/// that must not send a command twice. A fresh connection sees BIRD as it is at each call, which is what the
/// lifecycle asks about, and lets concurrent calls go without a lock: BIRD serves each connection on its own.
/// </remarks>
internal sealed class BirdControlClient
{
    /// <summary>BIRD answers these commands at once; seconds mean it is stuck or overloaded.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(3);

    /// <summary>A longest reply this client reads; the commands it is for answer in a few hundred bytes.</summary>
    public const int MaxReplyBytes = 1024 * 1024;

    /// <summary>BIRD's longest line is CLI_LINE_SIZE (512 bytes); anything beyond this is not BIRD.</summary>
    private const int BufferBytes = 16 * 1024;

    /// <summary>sun_path of struct sockaddr_un on Linux holds 108 bytes, the terminating NUL included.</summary>
    private const int MaxSocketPathBytes = 107;

    private readonly UnixDomainSocketEndPoint _endPoint;

    /// <param name="socketPath">BIRD's control socket, e.g. <c>/run/bird/bird.ctl</c>.</param>
    /// <param name="timeout">The bound on each call; <see cref="DefaultTimeout"/> when null.</param>
    public BirdControlClient(string socketPath, TimeSpan? timeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        if (Encoding.UTF8.GetByteCount(socketPath) > MaxSocketPathBytes)
        {
            throw new ArgumentException($"BIRD control socket path longer than {MaxSocketPathBytes} bytes, which a Unix socket address cannot hold: {socketPath}", nameof(socketPath));
        }
        var bound = timeout ?? DefaultTimeout;
        if (bound <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), bound, "the timeout must be positive");
        }
        SocketPath = socketPath;
        Timeout = bound;
        _endPoint = new UnixDomainSocketEndPoint(socketPath);
    }

    /// <summary>The control socket's path.</summary>
    public string SocketPath { get; }

    /// <summary>The bound on each call, from connecting to the last line of the reply.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>
    /// Sends <paramref name="command"/> (e.g. <c>enable anycast</c>, no newline) and returns BIRD's reply, which is a
    /// success: no line of it has an error code.
    /// </summary>
    /// <exception cref="BirdUnavailableException">BIRD could not be reached, or did not reply in full within <see cref="Timeout"/>.</exception>
    /// <exception cref="BirdCommandException">BIRD replied with an error code (8xxx, 9xxx).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<BirdReply> SendAsync(string command, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        if (command.AsSpan().IndexOfAny('\n', '\r') >= 0)
        {
            throw new ArgumentException("a BIRD command is one line", nameof(command));
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        BirdReply reply;
        try
        {
            reply = await ExchangeAsync(command, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unavailable($"no full reply to '{command}' within {Seconds(Timeout)} s");
        }
        if (!reply.IsSuccess)
        {
            throw new BirdCommandException(SocketPath, command, reply,
                $"BIRD control socket {SocketPath}: '{command}' failed: {reply.FirstError}");
        }
        return reply;
    }

    private async Task<BirdReply> ExchangeAsync(string command, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(_endPoint, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            // .NET reports a missing path (ENOENT) as "Cannot assign requested address": name it plainly.
            string reason = File.Exists(SocketPath) || Directory.Exists(SocketPath) ? e.Message : "no such file";
            throw Unavailable($"cannot connect: {reason}{ConnectHint(e.SocketErrorCode)}", e);
        }
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            var lines = new LineReader(this, socket, buffer);
            var greeting = await lines.ReadReplyAsync("the greeting", cancellationToken).ConfigureAwait(false);
            if (greeting.Final.Code != BirdReplyCode.Welcome)
            {
                throw Unavailable($"greeted with '{greeting}' rather than 0001 ... ready");
            }
            int length = Encoding.UTF8.GetByteCount(command) + 1;
            byte[] request = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                Encoding.UTF8.GetBytes(command, request);
                request[length - 1] = (byte)'\n';
                await socket.SendAsync(request.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw Unavailable($"cannot send '{command}': {e.Message}", e);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(request);
            }
            return await lines.ReadReplyAsync($"'{command}'", cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private BirdUnavailableException Unavailable(string what, Exception? inner = null) =>
        new(SocketPath, $"BIRD control socket {SocketPath}: {what}", inner);

    private static string ConnectHint(SocketError error) => error switch
    {
        SocketError.AddressNotAvailable or SocketError.ConnectionRefused => " (is bird running, started with -s on this path?)",
        SocketError.AccessDenied => " (the socket's permissions: BIRD makes it for its own user and group)",
        _ => "",
    };

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>Reads lines off the socket into replies; the buffer holds at most one partial line between reads.</summary>
    private sealed class LineReader(BirdControlClient client, Socket socket, byte[] buffer)
    {
        private readonly BirdReplyReader _reader = new();
        private int _start;
        private int _end;

        public async Task<BirdReply> ReadReplyAsync(string what, CancellationToken cancellationToken)
        {
            int replyBytes = 0;
            while (true)
            {
                int newline = buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    BirdReply reply;
                    bool complete;
                    try
                    {
                        complete = _reader.Add(Encoding.UTF8.GetString(buffer, _start, newline), out reply);
                    }
                    catch (FormatException e)
                    {
                        throw client.Unavailable($"not BIRD's reply protocol, in reply to {what}: {e.Message}", e);
                    }
                    _start += newline + 1;
                    replyBytes += newline + 1;
                    if (complete)
                    {
                        return reply;
                    }
                    continue;
                }
                if (replyBytes + (_end - _start) > MaxReplyBytes)
                {
                    throw client.Unavailable($"reply to {what} longer than {MaxReplyBytes} bytes; ask for less");
                }
                // Keep the partial line at the start of the buffer, then read more after it.
                buffer.AsSpan(_start, _end - _start).CopyTo(buffer);
                _end -= _start;
                _start = 0;
                if (_end == buffer.Length)
                {
                    throw client.Unavailable($"a line of the reply to {what} longer than {buffer.Length} bytes");
                }
                int read;
                try
                {
                    read = await socket.ReceiveAsync(buffer.AsMemory(_end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
                {
                    // A peer that closes while data is in flight resets rather than ends the stream: the same event.
                    throw client.Unavailable($"closed the connection before the end of the reply to {what} (reset)", e);
                }
                catch (SocketException e)
                {
                    throw client.Unavailable($"cannot read the reply to {what}: {e.Message}", e);
                }
                if (read == 0)
                {
                    throw client.Unavailable($"closed the connection before the end of the reply to {what}");
                }
                _end += read;
            }
        }
    }
}
