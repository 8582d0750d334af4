using System.Runtime.InteropServices;

namespace AnycastDns.Server;

/// <summary>
/// What makes a secrets file (cookie secrets, TSIG keys) be read again: a change in its folder after a quiet moment
/// (with <c>Reload:Watch</c>), and SIGHUP. The folder, not the file, is watched: editors and Kubernetes' secret volumes
/// replace a file by renaming another over it (or by swapping a symbolic link), which a watch on the file would miss.
/// </summary>
internal sealed class FileReloadTriggers : IDisposable
{
    private readonly Timer _debounce;
    private readonly FileSystemWatcher? _watcher;
    private readonly PosixSignalRegistration? _sighup;

    /// <param name="reload">Called with the reason: <paramref name="changed"/> after a change, or "SIGHUP".</param>
    public FileReloadTriggers(string path, ServerOptions options, string changed, Action<string> reload)
    {
        _debounce = new Timer(_ => reload(changed));
        if (options.WatchZones)
        {
            string full = Path.GetFullPath(path);
            _watcher = FolderWatch.Start(Path.GetDirectoryName(full)!, includeSubdirectories: false, _ => _debounce.Change(options.ReloadDebounce, Timeout.InfiniteTimeSpan));
        }
        if (!OperatingSystem.IsWindows())
        {
            _sighup = HangupSignal.Register(context =>
            {
                context.Cancel = true; // SIGHUP means reload here, not terminate
                reload("SIGHUP");
            });
        }
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _sighup?.Dispose();
        _debounce.Dispose();
    }
}
