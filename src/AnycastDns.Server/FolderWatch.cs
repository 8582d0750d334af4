namespace AnycastDns.Server;

/// <summary>The file-system watch behind reloading on change, for zones and the cookie secret file alike.</summary>
internal static class FolderWatch
{
    /// <summary>
    /// Watches <paramref name="folder"/> (and below it with <paramref name="includeSubdirectories"/>) and calls
    /// <paramref name="changed"/> on any change to a name, size or write time in it: a file written in place, created,
    /// deleted, or renamed over another (as editors, <c>git checkout</c> and Kubernetes' volume updates do). When the
    /// kernel's event queue overflows, something changed but nobody knows what: <paramref name="overflowed"/> hears of it,
    /// then <paramref name="changed"/> is called as for any change. The caller debounces and disposes the watcher.
    /// </summary>
    public static FileSystemWatcher Start(string folder, bool includeSubdirectories, Action changed, Action<Exception>? overflowed = null)
    {
        var watcher = new FileSystemWatcher(folder)
        {
            IncludeSubdirectories = includeSubdirectories,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.DirectoryName,
        };
        watcher.Changed += (_, _) => changed();
        watcher.Created += (_, _) => changed();
        watcher.Deleted += (_, _) => changed();
        watcher.Renamed += (_, _) => changed();
        watcher.Error += (_, e) =>
        {
            overflowed?.Invoke(e.GetException());
            changed();
        };
        watcher.EnableRaisingEvents = true;
        return watcher;
    }
}
