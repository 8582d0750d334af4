using System.Diagnostics;
using System.Text;

namespace AnycastDns.TestSupport;

/// <summary>What a finished external command printed and returned.</summary>
public sealed record ToolResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Both streams, for assertion messages.</summary>
    public string Output => StandardOutput + StandardError;
}

/// <summary>
/// Runs the real programs the tests compare against (kdig, dig, kzonecheck, nsd-checkzone, python3 with
/// dnspython) with a bounded run time, and says clearly when one is missing.
/// </summary>
public static class ExternalTool
{
    /// <summary>Throws a one-line explanation when <paramref name="path"/> is not installed.</summary>
    /// <param name="path">Absolute path of the program, e.g. <c>/usr/sbin/knotd</c>.</param>
    /// <param name="package">The Debian package that installs it, e.g. <c>knot</c>.</param>
    public static void RequireInstalled(string path, string package)
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"{path} is not installed (Debian package '{package}'): run ./scripts/test.sh, which installs what the tests need");
        }
    }

    /// <summary>
    /// Runs <paramref name="path"/> with <paramref name="arguments"/> (passed as they are, no shell) and
    /// returns its exit code and output. A run longer than <paramref name="timeout"/> is killed and throws
    /// <see cref="TimeoutException"/>.
    /// </summary>
    public static async Task<ToolResult> RunAsync(string path, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default, IReadOnlyDictionary<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var startInfo = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            startInfo.Environment[name] = value;
        }
        using var process = new Process { StartInfo = startInfo };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{path}: cannot start ({e.Message}); run ./scripts/test.sh, which installs what the tests need", e);
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            ChildProcess.KillTree(process);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            throw new TimeoutException($"{CommandLine(path, startInfo.ArgumentList)} did not finish within {timeout.TotalSeconds:0.#} s");
        }
        // The parameterless wait returns only once the redirected streams are drained.
        process.WaitForExit();
        lock (stdout)
        {
            lock (stderr)
            {
                return new ToolResult(process.ExitCode, stdout.ToString(), stderr.ToString());
            }
        }
    }

    /// <summary>The command as a shell would show it, for messages.</summary>
    private static string CommandLine(string path, IEnumerable<string> arguments) =>
        path + " " + string.Join(' ', arguments.Select(a => a.Contains(' ', StringComparison.Ordinal) || a.Length == 0 ? "'" + a + "'" : a));

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (text)
        {
            text.Append(line).Append('\n');
        }
    }
}
