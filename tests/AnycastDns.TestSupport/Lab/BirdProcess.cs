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

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan ReadyInterval = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan BirdcTimeout = TimeSpan.FromSeconds(10);

    private readonly ChildProcess _process;
    private int _disposed;

    private BirdProcess(string name, ChildProcess process, string workDirectory, string configurationFile, string socketPath)
    {
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
    public BirdControlClient Control { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What BIRD logged (the configuration sends its log to standard error), for assertion messages.</summary>
    public string Log => _process.Log;

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
            process = ChildProcess.Start(NetworkNamespace.IpPath, space.ExecArguments(DaemonPath, ["-f", "-c", configurationFile, "-s", socketPath]), workDirectory);
        }
        catch
        {
            Directory.Delete(workDirectory, recursive: true);
            throw;
        }
        var bird = new BirdProcess(name, process, workDirectory, configurationFile, socketPath);
        try
        {
            var ready = await BoundedPoll.UntilAsync(bird.AnswersAsync, ReadyTimeout, ReadyInterval, cancellationToken).ConfigureAwait(false);
            if (ready is null)
            {
                throw new InvalidOperationException(
                    $"bird '{name}' in {space.Name} ({configurationFile}) did not answer on {socketPath} within {ReadyTimeout.TotalSeconds} s"
                    + (process.HasExited ? $"; it exited with code {process.ExitCode}" : "")
                    + $"\n--- bird log ---\n{process.Log}");
            }
        }
        catch
        {
            await bird.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return bird;
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
