using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// The zones of one folder as last loaded: for every <c>*.zone</c> file the zone served from it (which may be an older
/// version, when the file now has errors) and what its latest load said. Immutable: <see cref="Reload"/> makes the next
/// catalog, re-reading only the files that changed, and never replaces a good zone with a broken one.
/// </summary>
public sealed class ZoneCatalog
{
    private readonly Dictionary<string, ZoneFileState> _files;

    private ZoneCatalog(string folder, Dictionary<string, ZoneFileState> files, ZoneLoadOptions options)
    {
        Folder = folder;
        Options = options;
        _files = files;
        var served = new List<Zone>();
        var notReady = new List<DnsName>();
        var states = new List<ZoneFileState>(files.Values);
        states.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        foreach (var state in states)
        {
            if (state.Served is not null)
            {
                served.Add(state.Served);
            }
            else
            {
                notReady.Add(state.Origin);
            }
        }
        Files = states;
        ZoneSet = new ZoneSet(served, notReady);
        OutOfMemory = states.Find(s => s.Served is null && s.LastResult.RanOutOfMemory)?.Origin;
    }

    /// <summary>
    /// A zone that has never been served because its load ran out of the memory the runtime may use, or null. Unlike
    /// a broken file, which is the same at every PoP, this PoP alone lacks it: the others, with more memory, serve it.
    /// </summary>
    public DnsName? OutOfMemory { get; }

    public string Folder { get; }

    /// <summary>The checks every load of this catalog runs (the signature-expiry window).</summary>
    public ZoneLoadOptions Options { get; }

    /// <summary>Every zone file of the folder, in path order.</summary>
    public IReadOnlyList<ZoneFileState> Files { get; }

    /// <summary>The snapshot to serve: one zone per file that has ever loaded.</summary>
    public ZoneSet ZoneSet { get; }

    /// <summary>True when the latest load of every file succeeded.</summary>
    public bool AllLoaded => Files.All(f => f.LastResult.Succeeded);

    /// <summary>Loads every zone file of <paramref name="folder"/>; throws <see cref="DirectoryNotFoundException"/> when it is missing.</summary>
    public static ZoneCatalog Load(string folder, ZoneLoadOptions? options = null) => Empty(folder, options).Reload(out _);

    /// <summary>A catalog of <paramref name="folder"/> with nothing loaded yet.</summary>
    public static ZoneCatalog Empty(string folder, ZoneLoadOptions? options = null) =>
        new(folder, new Dictionary<string, ZoneFileState>(StringComparer.Ordinal), options ?? ZoneLoadOptions.Default);

    /// <summary>
    /// Reads the folder again: new files are loaded, removed files dropped, changed files (the zone file or any file it
    /// $INCLUDEs) re-read; a changed file with errors keeps its previous zone. <paramref name="changes"/> says what happened.
    /// </summary>
    public ZoneCatalog Reload(out IReadOnlyList<ZoneChange> changes)
    {
        if (!Directory.Exists(Folder))
        {
            throw new DirectoryNotFoundException($"zones folder '{Folder}' does not exist");
        }
        var paths = Directory.GetFiles(Folder, "*" + ZoneLoader.Extension);
        Array.Sort(paths, StringComparer.Ordinal);
        var toLoad = new List<string>();
        foreach (var path in paths)
        {
            if (!_files.TryGetValue(path, out var old) || old.HasChangedOnDisk())
            {
                toLoad.Add(path);
            }
        }
        var loaded = new ZoneLoadResult[toLoad.Count];
        Parallel.For(0, toLoad.Count, i => loaded[i] = ZoneLoader.LoadFile(toLoad[i], Options));

        var list = new List<ZoneChange>();
        var next = new Dictionary<string, ZoneFileState>(paths.Length, StringComparer.Ordinal);
        // A set: a checkout that touches 100,000 zone files must not cost 100,000 × 100,000 string comparisons.
        var reloaded = new HashSet<string>(toLoad, StringComparer.Ordinal);
        foreach (var path in paths)
        {
            if (_files.TryGetValue(path, out var unchanged) && !reloaded.Contains(path))
            {
                next[path] = unchanged;
            }
        }
        var now = DateTimeOffset.UtcNow;
        foreach (var result in loaded)
        {
            _files.TryGetValue(result.Path, out var old);
            var state = new ZoneFileState(result.Path, result.Origin, result, result.Zone ?? old?.Served, FileStamp.Of(result.Sources.Count > 0 ? result.Sources : [Path.GetFullPath(result.Path)]), result.Zone is not null ? now : old?.LoadedAt);
            next[result.Path] = state;
            list.Add(ZoneChange.From(old, state));
        }
        foreach (var (path, old) in _files)
        {
            if (!next.ContainsKey(path))
            {
                list.Add(new ZoneChange(ZoneChangeKind.Removed, old.Origin, path, old.Served, null, old.Served is null ? [] : [$"{path}: removed; zone {old.Origin} is no longer served"]));
            }
        }
        RefuseDuplicateOrigins(next, _files, list);
        changes = list;
        return new ZoneCatalog(Folder, next, Options);
    }

    /// <summary>Two files naming the same origin (e.g. <c>example.com.zone</c> and <c>Example.COM.zone</c>): the later path does not serve.</summary>
    private static void RefuseDuplicateOrigins(Dictionary<string, ZoneFileState> next, Dictionary<string, ZoneFileState> previous, List<ZoneChange> changes)
    {
        var seen = new Dictionary<DnsName, string>(DnsNameComparer.Instance);
        foreach (var path in next.Keys.Order(StringComparer.Ordinal).ToList())
        {
            var state = next[path];
            if (seen.TryGetValue(state.Origin, out var first))
            {
                var error = new ZoneDiagnostic(new SourceLocation(path, 1, 1), Severity.Error, $"zone {state.Origin} is already defined by {first}");
                var result = state.LastResult with { Zone = null, Diagnostics = [.. state.LastResult.Diagnostics, error] };
                next[path] = state with { LastResult = result, Served = null };
                changes.RemoveAll(c => c.Path == path);
                changes.Add(ZoneChange.From(previous.GetValueOrDefault(path), next[path]));
                continue;
            }
            seen[state.Origin] = path;
        }
    }
}

/// <summary>One zone file in a <see cref="ZoneCatalog"/>.</summary>
/// <param name="Served">The zone served from this file: the latest good load, or null if it never loaded.</param>
/// <param name="LoadedAt">When <paramref name="Served"/> was loaded.</param>
public sealed record ZoneFileState(string Path, DnsName Origin, ZoneLoadResult LastResult, Zone? Served, IReadOnlyList<FileStamp> Sources, DateTimeOffset? LoadedAt)
{
    /// <summary>True when the latest load failed and an older version (or nothing) is served instead.</summary>
    public bool IsStale => !LastResult.Succeeded;

    internal bool HasChangedOnDisk()
    {
        foreach (var stamp in Sources)
        {
            if (!stamp.IsCurrent())
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>
/// A file's size and modification time when it was read, and the file a symbolic link led to; a difference means it
/// must be read again. A link is followed to the file it names: its own size and time never change when the file does
/// (a zone file linked into the zones folder, a Kubernetes ConfigMap whose files are links through <c>..data</c>).
/// </summary>
public readonly record struct FileStamp(string Path, long Length, DateTime LastWriteUtc, string? Target = null)
{
    public static FileStamp Of(string path)
    {
        FileSystemInfo info = new FileInfo(path);
        string? target = null;
        if (info.LinkTarget is not null)
        {
            try
            {
                info = info.ResolveLinkTarget(returnFinalTarget: true) ?? info;
                target = info.FullName;
            }
            catch (IOException)
            {
                return new FileStamp(path, -1, default); // a loop of links: read as missing, and the read says why
            }
        }
        return info is FileInfo { Exists: true } file ? new FileStamp(path, file.Length, file.LastWriteTimeUtc, target) : new FileStamp(path, -1, default, target);
    }

    public static IReadOnlyList<FileStamp> Of(IReadOnlyList<string> paths)
    {
        var stamps = new FileStamp[paths.Count];
        for (int i = 0; i < stamps.Length; i++)
        {
            stamps[i] = Of(paths[i]);
        }
        return stamps;
    }

    public bool IsCurrent() => Of(Path) == this;
}

public enum ZoneChangeKind
{
    Added,
    Updated,
    /// <summary>The file changed but has errors: the previous version (if any) is still served.</summary>
    Failed,
    Removed,
    /// <summary>Re-read, and the zone is the same as before (the file was touched or rewritten with equal content).</summary>
    Unchanged,
}

/// <summary>What one reload did to one zone file, with the messages to log.</summary>
public sealed record ZoneChange(ZoneChangeKind Kind, DnsName Origin, string Path, Zone? Before, Zone? After, IReadOnlyList<string> Messages)
{
    internal static ZoneChange From(ZoneFileState? old, ZoneFileState state)
    {
        var result = state.LastResult;
        var messages = new List<string>();
        foreach (var d in result.Diagnostics)
        {
            messages.Add(d.ToString());
        }
        if (!result.Succeeded)
        {
            messages.Add(old?.Served is { } kept
                ? $"{state.Path}: not loaded; still serving {kept.Origin} serial {kept.Serial}"
                : $"{state.Path}: not loaded; zone {state.Origin} is not served");
            return new ZoneChange(ZoneChangeKind.Failed, state.Origin, state.Path, old?.Served, old?.Served, messages);
        }
        var zone = result.Zone!;
        if (old?.Served is not { } before)
        {
            return new ZoneChange(ZoneChangeKind.Added, state.Origin, state.Path, null, zone, messages);
        }
        // The ZONEMD digest (RFC 8976) covers every record, so equal digests mean equal content.
        if (before.Serial == zone.Serial && before.Digest.Span.SequenceEqual(zone.Digest.Span))
        {
            return new ZoneChange(ZoneChangeKind.Unchanged, state.Origin, state.Path, before, zone, messages);
        }
        // RFC 1982 serial arithmetic: secondaries and monitoring only notice a change whose serial went up.
        if (!SerialNumber.IsGreater(zone.Serial, before.Serial))
        {
            messages.Add($"{state.Path}: warning: zone {zone.Origin} changed but its serial {zone.Serial} did not increase (was {before.Serial}); secondaries and monitoring will not see the change");
        }
        return new ZoneChange(ZoneChangeKind.Updated, state.Origin, state.Path, before, zone, messages);
    }
}

/// <summary>RFC 1982 serial number arithmetic for SOA serials.</summary>
public static class SerialNumber
{
    /// <summary>RFC 1982 §3.2: s1 &gt; s2 when it is ahead by less than half the number space.</summary>
    public static bool IsGreater(uint s1, uint s2) => s1 != s2 && (int)(s1 - s2) > 0;
}
