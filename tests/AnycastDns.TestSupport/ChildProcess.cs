using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace AnycastDns.TestSupport;

/// <summary>
/// A long-running program this test process started (a reference server), with what it printed kept
/// for failure messages. Stopping it kills that process and its own children, by PID, and nothing else.
/// </summary>
public sealed partial class ChildProcess : IDisposable
{
    /// <summary>
    /// Only the first and the last part of a chatty log are kept: startup errors come first, and what a test waits for
    /// comes last (a server loading 10,000 zones logs a line for each before "answering as").
    /// </summary>
    private const int LogLimit = 64 * 1024;

    private static readonly TimeSpan ExitWait = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly Queue<string> _tail = new();
    private int _tailLength;
    private int _linesLeftOut;

    private ChildProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Standard output and error so far, interleaved by line.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                if (_tail.Count == 0)
                {
                    return _log.ToString();
                }
                var log = new StringBuilder(_log.ToString());
                if (_linesLeftOut > 0)
                {
                    log.Append(CultureInfo.InvariantCulture, $"[... {_linesLeftOut} lines left out ...]\n");
                }
                foreach (var line in _tail)
                {
                    log.Append(line).Append('\n');
                }
                return log.ToString();
            }
        }
    }

    /// <summary>Starts <paramref name="path"/>; with <paramref name="standardOutput"/>, each line it prints goes there rather than to <see cref="Log"/>.
    /// <paramref name="environment"/> adds (or, with a null value, removes) environment variables.</summary>
    public static ChildProcess Start(string path, IEnumerable<string> arguments, string workingDirectory, Action<string>? standardOutput = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var startInfo = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            startInfo.Environment[name] = value;
        }
        var child = new ChildProcess(new Process { StartInfo = startInfo });
        child._process.OutputDataReceived += (_, e) =>
        {
            if (standardOutput is null)
            {
                child.Append(e.Data);
            }
            else if (e.Data is not null)
            {
                standardOutput(e.Data);
            }
        };
        child._process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        child._process.Start();
        child._process.StandardInput.Close();
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Kills the process and its descendants and waits, bounded, until it is gone.</summary>
    public async Task StopAsync()
    {
        KillTree(_process);
        using var deadline = new CancellationTokenSource(ExitWait);
        try
        {
            await _process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"process {_process.Id} ({_process.StartInfo.FileName}) still running {ExitWait.TotalSeconds} s after SIGKILL");
        }
    }

    /// <summary>Sends a signal (e.g. SIGTERM, 15) to this process only.</summary>
    public void Signal(int signal)
    {
        if (!_process.HasExited && NativeMethods.Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Waits, bounded, for the process to end; true when it did.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose() => _process.Dispose();

    /// <summary>SIGKILL to <paramref name="process"/> and every process below it; a process already gone is fine.</summary>
    internal static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It had already exited.
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            if (_log.Length < LogLimit)
            {
                _log.Append(line).Append('\n');
                return;
            }
            _tail.Enqueue(line);
            _tailLength += line.Length + 1;
            while (_tailLength > LogLimit)
            {
                _tailLength -= _tail.Dequeue().Length + 1;
                _linesLeftOut++;
            }
        }
    }

    private static partial class NativeMethods
    {
        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
        internal static partial int Kill(int pid, int signal);
    }
}
