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

    /// <summary>Origin to the path that serves it, when no two files name the same origin; else null.</summary>
    private readonly Dictionary<DnsName, string>? _origins;

    private ZoneCatalog(string folder, Dictionary<string, ZoneFileState> files, ZoneLoadOptions options)
    {
        var served = new List<Zone>();
        var notReady = new List<DnsName>();
        var states = new List<ZoneFileState>(files.Values);
        states.Sort(ByPath);
        var origins = new Dictionary<DnsName, string>(states.Count, DnsNameComparer.Instance);
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
            if (origins is not null && !origins.TryAdd(state.Origin, state.Path))
            {
                origins = null; // a duplicate (refused): the next reload sorts every origin out again
            }
        }
        Folder = folder;
        Options = options;
        _files = files;
        _origins = origins;
        Files = states;
        ZoneSet = new ZoneSet(served, notReady);
        OutOfMemory = FindOutOfMemory(states);
    }

    /// <summary>The next catalog from this one with a few files changed, without sorting or hashing the others again.</summary>
    private ZoneCatalog(ZoneCatalog previous, Dictionary<string, ZoneFileState> files, List<ZoneFileState> states, ZoneSet zoneSet, Dictionary<DnsName, string> origins)
    {
        Folder = previous.Folder;
        Options = previous.Options;
        _files = files;
        _origins = origins;
        Files = states;
        ZoneSet = zoneSet;
        OutOfMemory = FindOutOfMemory(states);
    }

    private static readonly Comparer<ZoneFileState> ByPath = Comparer<ZoneFileState>.Create((a, b) => string.CompareOrdinal(a.Path, b.Path));

    private static DnsName? FindOutOfMemory(List<ZoneFileState> states) => states.Find(s => s.Served is null && s.LastResult.RanOutOfMemory)?.Origin;

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
    public ZoneCatalog Reload(out IReadOnlyList<ZoneChange> changes) => Reload(named: null, out changes);

    /// <summary>
    /// As <see cref="Reload(out IReadOnlyList{ZoneChange})"/>, but looking only at the files a watch of the folder named
    /// (<paramref name="named"/>: names relative to the folder, as the watch reports them; null: every file) and at the
    /// files whose content can change without their own name changing: zone files that are links (the file they name
    /// may be replaced, as a Kubernetes ConfigMap volume does through <c>..data</c>) and zone files that $INCLUDE others.
    /// One file changed among 100,000 then costs its own load, not a look at every file of the folder and a snapshot
    /// built from all of them.
    /// </summary>
    public ZoneCatalog Reload(IReadOnlyCollection<string>? named, out IReadOnlyList<ZoneChange> changes)
    {
        if (!Directory.Exists(Folder))
        {
            throw new DirectoryNotFoundException($"zones folder '{Folder}' does not exist");
        }
        if (named is not null)
        {
            var (changed, gone) = NamedChanges(named);
            if (changed.Count == 0 && gone.Count == 0)
            {
                changes = [];
                return this;
            }
            return Apply(LoadAll(changed), gone, out changes);
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
        var loaded = LoadAll(toLoad);

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
            var state = NextState(result, old, now);
            next[result.Path] = state;
            list.Add(ZoneChange.From(old, state));
        }
        foreach (var (path, old) in _files)
        {
            if (!next.ContainsKey(path))
            {
                list.Add(Removed(path, old));
            }
        }
        RefuseDuplicateOrigins(next, _files, list);
        changes = list;
        return new ZoneCatalog(Folder, next, Options);
    }

    /// <summary>Loads <paramref name="paths"/>, side by side.</summary>
    private ZoneLoadResult[] LoadAll(List<string> paths)
    {
        var loaded = new ZoneLoadResult[paths.Count];
        // A file reloaded is compared with the version it serves: a large zone's small edit then changes a few nodes.
        Parallel.For(0, paths.Count, i => loaded[i] = ZoneLoader.LoadFile(paths[i], Options, _files.GetValueOrDefault(paths[i])?.Served));
        return loaded;
    }

    /// <summary>
    /// Of the files named and those whose content can change unnamed (links, $INCLUDEs), the ones to load (new, or
    /// changed since read) and the ones gone from the folder. Only these are looked at on disk.
    /// </summary>
    private (List<string> ToLoad, List<string> Gone) NamedChanges(IReadOnlyCollection<string> named)
    {
        var candidates = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var name in named)
        {
            // The folder's own zone files only: a name below it (a subfolder, a ConfigMap's ..data) or of another kind
            // is at most an $INCLUDE or a link's target, and those files are looked at below.
            if (name.EndsWith(ZoneLoader.Extension, StringComparison.Ordinal) && name.IndexOf(Path.DirectorySeparatorChar) < 0 && name.Length > ZoneLoader.Extension.Length)
            {
                candidates.Add(Path.Combine(Folder, name));
            }
        }
        foreach (var state in _files.Values)
        {
            if (state.Sources.Count > 1 || state.Sources.Any(s => s.Target is not null))
            {
                candidates.Add(state.Path);
            }
        }
        var toLoad = new List<string>();
        var gone = new List<string>();
        foreach (var path in candidates)
        {
            // What the folder's listing would show: a file, or a link even to nothing (its load then says why).
            var entry = new FileInfo(path);
            bool listed = entry.Exists || entry.LinkTarget is not null;
            if (!listed)
            {
                if (_files.ContainsKey(path))
                {
                    gone.Add(path);
                }
            }
            else if (!_files.TryGetValue(path, out var old) || old.HasChangedOnDisk())
            {
                toLoad.Add(path);
            }
        }
        return (toLoad, gone);
    }

    /// <summary>From this many files changed at once the next catalog is built whole: patching it costs a shift of the ordered lists per file.</summary>
    private const int PatchAtMost = 256;

    /// <summary>
    /// The next catalog with <paramref name="loaded"/> and <paramref name="gone"/> applied to this one: the other files'
    /// states, the ordered file list and the snapshot are carried over (<see cref="ZoneSet.With"/>). Built whole, as a
    /// full reload does, when many files changed or two files name the same origin (which file serves it is decided
    /// over all of them).
    /// </summary>
    private ZoneCatalog Apply(ZoneLoadResult[] loaded, List<string> gone, out IReadOnlyList<ZoneChange> changes)
    {
        var list = new List<ZoneChange>();
        var next = new Dictionary<string, ZoneFileState>(_files, StringComparer.Ordinal);
        var now = DateTimeOffset.UtcNow;
        var replaced = new List<(ZoneFileState? Old, ZoneFileState? New)>();
        foreach (var result in loaded)
        {
            _files.TryGetValue(result.Path, out var old);
            var state = NextState(result, old, now);
            next[result.Path] = state;
            list.Add(ZoneChange.From(old, state));
            replaced.Add((old, state));
        }
        foreach (var path in gone)
        {
            var old = _files[path];
            next.Remove(path);
            list.Add(Removed(path, old));
            replaced.Add((old, null));
        }
        changes = list;

        var origins = _origins is null || replaced.Count > PatchAtMost ? null : new Dictionary<DnsName, string>(_origins, DnsNameComparer.Instance);
        foreach (var (old, _) in replaced)
        {
            if (old is not null)
            {
                origins?.Remove(old.Origin);
            }
        }
        foreach (var (_, state) in replaced)
        {
            if (origins is not null && state is not null && !origins.TryAdd(state.Origin, state.Path))
            {
                origins = null;
            }
        }
        if (origins is null)
        {
            RefuseDuplicateOrigins(next, _files, list);
            return new ZoneCatalog(Folder, next, Options);
        }

        var states = new List<ZoneFileState>((IEnumerable<ZoneFileState>)Files);
        var drop = new List<DnsName>();
        var serve = new List<Zone>();
        var notReady = new List<DnsName>();
        foreach (var (old, state) in replaced)
        {
            int at = states.BinarySearch(old ?? state!, ByPath);
            if (old is not null)
            {
                drop.Add(old.Origin);
            }
            if (state is null)
            {
                states.RemoveAt(at);
                continue;
            }
            if (at >= 0)
            {
                states[at] = state;
            }
            else
            {
                states.Insert(~at, state);
            }
            if (state.Served is { } zone)
            {
                serve.Add(zone);
            }
            else
            {
                notReady.Add(state.Origin);
            }
        }
        return new ZoneCatalog(this, next, states, ZoneSet.With(drop, serve, notReady), origins);
    }

    private static ZoneFileState NextState(ZoneLoadResult result, ZoneFileState? old, DateTimeOffset now) =>
        new(result.Path, result.Origin, result, result.Zone ?? old?.Served, FileStamp.Of(result.Sources.Count > 0 ? result.Sources : [Path.GetFullPath(result.Path)]), result.Zone is not null ? now : old?.LoadedAt);

    private static ZoneChange Removed(string path, ZoneFileState old) =>
        new(ZoneChangeKind.Removed, old.Origin, path, old.Served, null, old.Served is null ? [] : [$"{path}: removed; zone {old.Origin} is no longer served"]);

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
