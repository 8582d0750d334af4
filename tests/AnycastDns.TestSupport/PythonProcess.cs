namespace AnycastDns.TestSupport;

/// <summary>
/// A long-running script of Debian's <c>/usr/bin/python3</c> (dnspython playing a peer no real server would play, e.g.
/// a primary that sends broken transfers); disposing stops it by PID.
/// </summary>
public sealed class PythonProcess : IAsyncDisposable
{
    public const string Path = "/usr/bin/python3";

    private readonly ChildProcess _process;

    private PythonProcess(ChildProcess process) => _process = process;

    /// <summary>What the script printed so far (stdout and stderr).</summary>
    public string Log => _process.Log;

    public bool HasExited => _process.HasExited;

    /// <summary>Runs <c>python3 -c script arguments...</c> in <paramref name="workingDirectory"/>.</summary>
    public static PythonProcess Start(string script, IEnumerable<string> arguments, string workingDirectory)
    {
        ExternalTool.RequireInstalled(Path, "python3-dnspython");
        return new PythonProcess(ChildProcess.Start(Path, ["-c", script, .. arguments], workingDirectory));
    }

    /// <summary>Waits, bounded, until the script prints <paramref name="text"/>; false on timeout or exit.</summary>
    public async Task<bool> WaitForAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            if (_process.Log.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }
            await Task.Delay(50).ConfigureAwait(false);
        }
        return _process.Log.Contains(text, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await _process.StopAsync().ConfigureAwait(false);
        }
        _process.Dispose();
    }
}
