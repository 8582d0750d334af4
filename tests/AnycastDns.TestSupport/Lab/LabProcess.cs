namespace AnycastDns.TestSupport.Lab;

/// <summary>
/// A long-running program inside a network namespace (<c>ip netns exec NS program ...</c>): an anycastdns server, a
/// watchdog, a query stream. <c>ip netns exec</c> execs the program in place, so <see cref="ProcessId"/> is the
/// program's own and signals reach it directly. Disposing kills it by that PID (SIGKILL, with anything it started).
/// </summary>
public sealed class LabProcess : IAsyncDisposable
{
    public const int SigTerm = 15;

    public const int SigKill = 9;

    private static readonly TimeSpan LogInterval = TimeSpan.FromMilliseconds(20);

    private readonly ChildProcess _process;
    private int _disposed;

    private LabProcess(string name, ChildProcess process)
    {
        Name = name;
        _process = process;
    }

    /// <summary>What this is in the lab (<c>pop1 anycastdns</c>), for messages.</summary>
    public string Name { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>What it printed so far (standard error, and standard output unless that goes to a line handler).</summary>
    public string Log => _process.Log;

    /// <summary>Starts <paramref name="program"/> in <paramref name="space"/>; each line it prints goes to <paramref name="standardOutput"/> when given.</summary>
    public static LabProcess Start(NetworkNamespace space, string name, string program, IEnumerable<string> arguments, string workingDirectory, Action<string>? standardOutput = null)
    {
        ArgumentNullException.ThrowIfNull(space);
        return new LabProcess(name, ChildProcess.Start(NetworkNamespace.IpPath, space.ExecArguments(program, arguments), workingDirectory, standardOutput));
    }

    /// <summary>Sends <paramref name="signal"/> to this process only, by PID.</summary>
    public void Signal(int signal) => _process.Signal(signal);

    /// <summary>Waits, bounded, for the process to end; true when it did.</summary>
    public Task<bool> WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync(timeout);

    /// <summary>Waits, bounded, until <see cref="Log"/> holds <paramref name="text"/>; false on timeout, or when the process ended without it.</summary>
    public async Task<bool> WaitForLogAsync(string text, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var took = await BoundedPoll.UntilAsync(
            _ => Task.FromResult(Log.Contains(text, StringComparison.Ordinal) || HasExited), timeout, LogInterval, cancellationToken).ConfigureAwait(false);
        return took is not null && Log.Contains(text, StringComparison.Ordinal);
    }

    /// <summary>Kills the process by PID if it still runs.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        try
        {
            if (!_process.HasExited)
            {
                await _process.StopAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _process.Dispose();
        }
    }
}
