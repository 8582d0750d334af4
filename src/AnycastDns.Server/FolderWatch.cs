namespace AnycastDns.Server;

/// <summary>The file-system watch behind reloading on change, for zones and the cookie secret file alike.</summary>
internal static class FolderWatch
{
    /// <summary>
    /// Watches <paramref name="folder"/> (and below it with <paramref name="includeSubdirectories"/>) and calls
    /// <paramref name="changed"/> with the path, relative to the folder, of any name whose size or write time changed or
    /// that was created, deleted, or renamed (both names) — as editors, <c>git checkout</c> and Kubernetes' volume
    /// updates do. When the kernel's event queue overflows, something changed but nobody knows what:
    /// <paramref name="overflowed"/> hears of it, then <paramref name="changed"/> is called with null. The caller
    /// debounces and disposes the watcher.
    /// </summary>
    public static FileSystemWatcher Start(string folder, bool includeSubdirectories, Action<string?> changed, Action<Exception>? overflowed = null)
    {
        var watcher = new FileSystemWatcher(folder)
        {
            IncludeSubdirectories = includeSubdirectories,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.DirectoryName,
        };
        void Named(string path) => changed(Path.GetRelativePath(folder, path));
        watcher.Changed += (_, e) => Named(e.FullPath);
        watcher.Created += (_, e) => Named(e.FullPath);
        watcher.Deleted += (_, e) => Named(e.FullPath);
        watcher.Renamed += (_, e) =>
        {
            Named(e.OldFullPath);
            Named(e.FullPath);
        };
        watcher.Error += (_, e) =>
        {
            overflowed?.Invoke(e.GetException());
            changed(null);
        };
        watcher.EnableRaisingEvents = true;
        return watcher;
    }
}
