using System.Diagnostics;
using System.Net.Sockets;
using AnycastDns.Server.Anycast;

namespace AnycastDns.Server.Tests.Anycast;

/// <summary>
/// The control-socket client over real Unix sockets: what it sends, how it frames replies, and the one-line failures
/// when what is on the other end is not a healthy BIRD. Talking to a real BIRD is in AnycastDns.Lab.Tests.
/// </summary>
public sealed class BirdControlClientTests
{
    private static readonly TimeSpan ShortTimeout = TimeSpan.FromMilliseconds(500);

    /// <summary>For the calls that end on a failure of the peer, not on the timeout: long enough that a busy machine
    /// (the first call also compiles the client) never turns the failure under test into a timeout.</summary>
    private static readonly TimeSpan FailureTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Generous: the point is that the call ends near its timeout, not a precise figure.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(2);

    private static void AssertOneLine(Exception e, string socketPath, string expected)
    {
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith($"BIRD control socket {socketPath}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sends_one_line_and_reads_the_reply_even_a_byte_at_a_time()
    {
        string? received = null;
        await using var peer = new ScriptedSocketPeer(async (socket, token) =>
        {
            await ScriptedSocketPeer.SendAsync(socket, CapturedBirdReplies.Greeting, token, byteByByte: true);
            received = await ScriptedSocketPeer.ReceiveLineAsync(socket, token);
            await ScriptedSocketPeer.SendAsync(socket, CapturedBirdReplies.ShowProtocolAllDetails, token, byteByByte: true);
        });
        var client = new BirdControlClient(peer.Path, TimeSpan.FromSeconds(10));

        var reply = await client.SendAsync("show protocols anycast", CancellationToken.None);

        Assert.Equal(BirdReply.Parse(CapturedBirdReplies.ShowProtocolAllDetails).Lines, reply.Lines);
        Assert.Equal("show protocols anycast", received);
    }

    [Fact]
    public async Task An_error_reply_throws_BirdCommandException_with_birds_words()
    {
        await using var peer = new ScriptedSocketPeer(async (socket, token) =>
        {
            await ScriptedSocketPeer.SendAsync(socket, CapturedBirdReplies.Greeting, token);
            await ReadCommand(socket, token);
            await ScriptedSocketPeer.SendAsync(socket, CapturedBirdReplies.EnableUnknownProtocol, token);
        });
        var client = new BirdControlClient(peer.Path);

        var e = await Assert.ThrowsAsync<BirdCommandException>(() => client.SendAsync("enable nosuch", CancellationToken.None));

        AssertOneLine(e, peer.Path, "'enable nosuch' failed: 9001 syntax error, unexpected CF_SYM_UNDEFINED");
        Assert.Equal(9001, e.Code);
        Assert.Equal("enable nosuch", e.Command);
    }

    [Fact]
    public async Task An_unknown_protocol_is_named_as_such_by_the_announcement()
    {
        await using var peer = new ScriptedSocketPeer(async (socket, token) =>
        {
            await ScriptedSocketPeer.SendAsync(socket, CapturedBirdReplies.Greeting, token);
            await ReadCommand(socket, token);
            await ScriptedSocketPeer.SendAsync(socket, CapturedBirdReplies.EnableUnknownProtocol, token);
        });
        var announcement = new BirdAnnouncement(new BirdAnnouncementOptions { SocketPath = peer.Path, Protocol = "nosuch" });

        var e = await Assert.ThrowsAsync<BirdCommandException>(() => announcement.AnnounceAsync(CancellationToken.None));

        AssertOneLine(e, peer.Path, "'enable nosuch' failed: BIRD has no protocol named 'nosuch' (is it declared in bird.conf?)");
    }

    [Fact]
    public async Task A_missing_socket_is_unavailable_at_once_naming_the_path()
    {
        string path = Path.Combine(Path.GetTempPath(), $"anycastdns-no-such-{Guid.NewGuid():N}.ctl");
        var client = new BirdControlClient(path, ShortTimeout);
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<BirdUnavailableException>(() => client.SendAsync("show status", CancellationToken.None));

        Assert.True(clock.Elapsed < ShortTimeout + Slack, $"took {clock.Elapsed}");
        AssertOneLine(e, path, "cannot connect: ");
        Assert.Contains("is bird running", e.Message, StringComparison.Ordinal);
        Assert.Equal(path, e.SocketPath);
    }

    [Fact]
    public async Task A_socket_nobody_listens_on_is_unavailable()
    {
        string directory = Directory.CreateTempSubdirectory("anycastdns-birdsock-").FullName;
        try
        {
            // What a killed BIRD leaves behind: the socket file, with no listener.
            string path = Path.Combine(directory, "bird.ctl");
            using (var gone = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                gone.Bind(new UnixDomainSocketEndPoint(path));
            }
            var client = new BirdControlClient(path, FailureTimeout);

            var e = await Assert.ThrowsAsync<BirdUnavailableException>(() => client.SendAsync("show status", CancellationToken.None));

            AssertOneLine(e, path, "cannot connect: ");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_silent_peer_times_out_within_the_timeout()
    {
        // Accepts and never writes: a BIRD that is stuck.
        await using var peer = new ScriptedSocketPeer((_, token) => Task.Delay(Timeout.Infinite, token));
        var client = new BirdControlClient(peer.Path, ShortTimeout);
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<BirdUnavailableException>(() => client.SendAsync("enable anycast", CancellationToken.None));

        Assert.InRange(clock.Elapsed, ShortTimeout - TimeSpan.FromMilliseconds(50), ShortTimeout + Slack);
        AssertOneLine(e, peer.Path, "no full reply to 'enable anycast' within 0.5 s");
    }

    [Fact]
    public async Task A_peer_that_is_not_bird_is_unavailable()
    {
        await using var peer = new ScriptedSocketPeer((socket, token) => ScriptedSocketPeer.SendAsync(socket, "SSH-2.0-OpenSSH_9.2\r\n", token));
        var client = new BirdControlClient(peer.Path, FailureTimeout);

        var e = await Assert.ThrowsAsync<BirdUnavailableException>(() => client.SendAsync("show status", CancellationToken.None));

        AssertOneLine(e, peer.Path, "not BIRD's reply protocol, in reply to the greeting: not a BIRD reply line");
    }

    [Fact]
    public async Task A_peer_that_hangs_up_mid_reply_is_unavailable()
    {
        await using var peer = new ScriptedSocketPeer(async (socket, token) =>
        {
            await ScriptedSocketPeer.SendAsync(socket, CapturedBirdReplies.Greeting, token);
            await ReadCommand(socket, token);
            await ScriptedSocketPeer.SendAsync(socket, "0011-anycast: enabled\n", token);
            socket.Shutdown(SocketShutdown.Both);
        });
        var client = new BirdControlClient(peer.Path, FailureTimeout);

        var e = await Assert.ThrowsAsync<BirdUnavailableException>(() => client.SendAsync("enable anycast", CancellationToken.None));

        AssertOneLine(e, peer.Path, "closed the connection before the end of the reply to 'enable anycast'");
    }

    [Fact]
    public async Task The_callers_cancellation_is_a_cancellation_not_a_timeout()
    {
        await using var peer = new ScriptedSocketPeer((_, token) => Task.Delay(Timeout.Infinite, token));
        var client = new BirdControlClient(peer.Path, TimeSpan.FromSeconds(30));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync("show status", cancel.Token));
    }

    [Fact]
    public async Task Commands_are_one_line_and_paths_fit_a_socket_address()
    {
        var client = new BirdControlClient("/run/bird/bird.ctl");
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync("enable anycast\ndisable anycast", CancellationToken.None));
        var e = Assert.Throws<ArgumentException>(() => new BirdControlClient("/" + new string('x', 120)));
        Assert.Contains("longer than 107 bytes", e.Message, StringComparison.Ordinal);
        Assert.Equal(BirdControlClient.DefaultTimeout, client.Timeout);
    }

    private static Task ReadCommand(Socket socket, CancellationToken token) => ScriptedSocketPeer.ReceiveLineAsync(socket, token);
}
