using AnycastDns.Server.Anycast;

namespace AnycastDns.TestSupport.Lab;

/// <summary>
/// BIRD 2 (Debian 12's bird2) running in the foreground inside a network namespace, with its configuration and
/// control socket in a fresh temporary directory: <c>ip netns exec NS bird -f -c CONF -s SOCKET</c>. <c>ip netns
/// exec</c> execs bird in place, so the PID this test holds is bird's own; disposing kills it by that PID and deletes
/// the directory.
/// </summary>
public sealed class BirdProcess : IAsyncDisposable
{
    public const string DaemonPath = "/usr/sbin/bird";

    public const string ClientPath = "/usr/sbin/birdc";

    public const string Package = "bird2";

    private const int SigTerm = 15;

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan ReadyInterval = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan BirdcTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly NetworkNamespace _space;
    private ChildProcess _process;
    private string _earlierLogs = "";
    private int _disposed;

    private BirdProcess(NetworkNamespace space, string name, ChildProcess process, string workDirectory, string configurationFile, string socketPath)
    {
        _space = space;
        Name = name;
        _process = process;
        WorkDirectory = workDirectory;
        ConfigurationFile = configurationFile;
        SocketPath = socketPath;
        Control = new BirdControlClient(socketPath);
    }

    /// <summary>Which BIRD of the lab this is (<c>pop</c>, <c>router</c>), for messages.</summary>
    public string Name { get; }

    public string WorkDirectory { get; }

    public string ConfigurationFile { get; }

    /// <summary>The control socket, <c>WorkDirectory/bird.ctl</c>.</summary>
    public string SocketPath { get; }

    /// <summary>A client for <see cref="SocketPath"/> with the default timeout.</summary>
    internal BirdControlClient Control { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What BIRD logged (the configuration sends its log to standard error), before and after restarts, for assertion messages.</summary>
    public string Log => _earlierLogs + _process.Log;

    /// <summary>
    /// Writes <paramref name="configuration"/> and starts BIRD inside <paramref name="space"/>; returns once its
    /// control socket answers <c>show status</c>, or throws with BIRD's log.
    /// </summary>
    public static async Task<BirdProcess> StartAsync(NetworkNamespace space, string name, string configuration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(space);
        ExternalTool.RequireInstalled(DaemonPath, Package);
        string workDirectory = Directory.CreateTempSubdirectory($"anycastdns-bird-{name}-").FullName;
        string configurationFile = Path.Combine(workDirectory, "bird.conf");
        string socketPath = Path.Combine(workDirectory, "bird.ctl");
        File.WriteAllText(configurationFile, configuration);
        ChildProcess process;
        try
        {
            process = Launch(space, configurationFile, socketPath, workDirectory);
        }
        catch
        {
            Directory.Delete(workDirectory, recursive: true);
            throw;
        }
        var bird = new BirdProcess(space, name, process, workDirectory, configurationFile, socketPath);
        try
        {
            await bird.WaitUntilAnsweringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await bird.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return bird;
    }

    /// <summary>
    /// SIGTERM, as <c>systemctl stop bird</c> sends: BIRD closes its sessions (the peers drop its routes) and exits;
    /// returns once it has. <see cref="StartAgainAsync"/> brings it back.
    /// </summary>
    public async Task TerminateAsync()
    {
        _process.Signal(SigTerm);
        if (!await _process.WaitForExitAsync(StopTimeout).ConfigureAwait(false))
        {
            throw new TimeoutException($"bird '{Name}' (pid {_process.Id}) still running {StopTimeout.TotalSeconds} s after SIGTERM\n{Log}");
        }
    }

    /// <summary>
    /// Starts BIRD again after it exited, with the same configuration and control socket (the second half of
    /// <c>systemctl restart bird</c>); returns once the socket answers. Whatever BIRD was told at run time
    /// (<c>enable anycast</c>) is gone.
    /// </summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken)
    {
        if (!_process.HasExited)
        {
            throw new InvalidOperationException($"bird '{Name}' (pid {_process.Id}) is still running");
        }
        _earlierLogs += _process.Log + $"--- bird '{Name}' exited with code {_process.ExitCode}; started again ---\n";
        _process.Dispose();
        _process = Launch(_space, ConfigurationFile, SocketPath, WorkDirectory);
        await WaitUntilAnsweringAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs the real <c>birdc -s SOCKET ARGUMENTS</c> (as an operator would), bounded in time.</summary>
    public Task<ToolResult> BirdcAsync(params string[] arguments)
    {
        ExternalTool.RequireInstalled(ClientPath, Package);
        return ExternalTool.RunAsync(ClientPath, ["-s", SocketPath, .. arguments], BirdcTimeout);
    }

    /// <summary>SIGKILL to BIRD by PID, which leaves its control socket file behind with nobody listening.</summary>
    public Task KillAsync() => _process.StopAsync();

    /// <summary>Kills BIRD by PID (if still running) and deletes <see cref="WorkDirectory"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        try
        {
            await _process.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            _process.Dispose();
            if (Directory.Exists(WorkDirectory))
            {
                Directory.Delete(WorkDirectory, recursive: true);
            }
        }
    }

    private static ChildProcess Launch(NetworkNamespace space, string configurationFile, string socketPath, string workDirectory) =>
        ChildProcess.Start(NetworkNamespace.IpPath, space.ExecArguments(DaemonPath, ["-f", "-c", configurationFile, "-s", socketPath]), workDirectory);

    private async Task WaitUntilAnsweringAsync(CancellationToken cancellationToken)
    {
        var ready = await BoundedPoll.UntilAsync(AnswersAsync, ReadyTimeout, ReadyInterval, cancellationToken).ConfigureAwait(false);
        if (ready is null)
        {
            throw new InvalidOperationException(
                $"bird '{Name}' in {_space.Name} ({ConfigurationFile}) did not answer on {SocketPath} within {ReadyTimeout.TotalSeconds} s"
                + (_process.HasExited ? $"; it exited with code {_process.ExitCode}" : "")
                + $"\n--- bird log ---\n{Log}");
        }
    }

    private async Task<bool> AnswersAsync(CancellationToken cancellationToken)
    {
        if (_process.HasExited)
        {
            // Give up at once: the poll's next round cannot bring it back.
            throw new InvalidOperationException($"bird '{Name}' exited with code {_process.ExitCode} before answering on {SocketPath}\n--- bird log ---\n{_process.Log}");
        }
        try
        {
            var reply = await Control.SendAsync("show status", cancellationToken).ConfigureAwait(false);
            return reply.Contains(BirdReplyCode.StatusReport);
        }
        catch (BirdUnavailableException)
        {
            return false;
        }
    }
}
