namespace AnycastDns.TestSupport;

/// <summary>
/// A reference daemon (knotd, nsd) started by a test with its own temporary folder: what it logged (its output and,
/// when it writes one, its log file in the folder), and on disposal the process stopped by PID and the folder removed.
/// </summary>
internal sealed class DaemonFolder(ChildProcess process, string folder, string? logFile = null) : IAsyncDisposable
{
    public ChildProcess Process => process;

    public string Folder => folder;

    public string Log
    {
        get
        {
            string? file = logFile is null ? null : Path.Combine(folder, logFile);
            return process.Log + (file is not null && File.Exists(file) ? $"\n--- {logFile} ---\n" + File.ReadAllText(file) : "");
        }
    }

    public Task StopAsync() => process.HasExited ? Task.CompletedTask : process.StopAsync();

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        finally
        {
            process.Dispose();
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
