using System.Net.Sockets;
using System.Text;

namespace AnycastDns.Server.Tests.Anycast;

/// <summary>
/// A Unix socket in a fresh temporary directory whose peer does what a test scripts: a BIRD that hangs, talks
/// nonsense, hangs up, or delivers real captured replies a byte at a time. The real BIRD is in the lab tests; this is
/// for the failures and framings a healthy BIRD never shows.
/// </summary>
internal sealed class ScriptedSocketPeer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly string _directory;
    private readonly Task _serving;
    private readonly CancellationTokenSource _stop = new();

    public ScriptedSocketPeer(Func<Socket, CancellationToken, Task> script)
    {
        _directory = Directory.CreateTempSubdirectory("anycastdns-birdsock-").FullName;
        Path = System.IO.Path.Combine(_directory, "bird.ctl");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(Path));
        _listener.Listen(4);
        _serving = ServeAsync(script);
    }

    public string Path { get; }

    public static async Task SendAsync(Socket socket, string text, CancellationToken cancellationToken, bool byteByByte = false)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        if (!byteByByte)
        {
            await socket.SendAsync(bytes, SocketFlags.None, cancellationToken);
            return;
        }
        for (int i = 0; i < bytes.Length; i++)
        {
            await socket.SendAsync(bytes.AsMemory(i, 1), SocketFlags.None, cancellationToken);
            await Task.Delay(1, cancellationToken);
        }
    }

    /// <summary>Reads one command line from the client (bounded by the token).</summary>
    public static async Task<string> ReceiveLineAsync(Socket socket, CancellationToken cancellationToken)
    {
        var line = new List<byte>();
        byte[] one = new byte[1];
        while (await socket.ReceiveAsync(one, SocketFlags.None, cancellationToken) == 1 && one[0] != (byte)'\n')
        {
            line.Add(one[0]);
        }
        return Encoding.UTF8.GetString([.. line]);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _serving;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped while waiting: the test is over.
        }
        _stop.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task ServeAsync(Func<Socket, CancellationToken, Task> script)
    {
        // Each connection gets the script; a test makes at most a few, and the loop ends with the listener.
        while (!_stop.IsCancellationRequested)
        {
            using var connection = await _listener.AcceptAsync(_stop.Token);
            await script(connection, _stop.Token);
        }
    }
}
