using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>The outcome of loading one zone file: the zone, or the errors that kept it out.</summary>
public sealed record ZoneLoadResult(DnsName Origin, string Path, Zone? Zone, IReadOnlyList<ZoneDiagnostic> Diagnostics)
{
    public bool Succeeded => Zone is not null;

    /// <summary>True when the load stopped because the memory the runtime may use ran out (the diagnostic says how much it had).</summary>
    public bool RanOutOfMemory { get; init; }

    /// <summary>The files read for this zone (the zone file and its $INCLUDEs), full paths; empty when none could be read.</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];
}

/// <summary>Zones loaded from a folder: the snapshot of those that loaded, and the result for every file.</summary>
public sealed record ZoneFolderLoad(ZoneSet ZoneSet, IReadOnlyList<ZoneLoadResult> Results)
{
    public bool AllSucceeded
    {
        get
        {
            foreach (var r in Results)
            {
                if (!r.Succeeded) return false;
            }
            return true;
        }
    }
}

/// <summary>
/// Reads zone files into zones. Convention: each <c>*.zone</c> file in the folder is one zone whose origin
/// is the file name minus <c>.zone</c>; files with other endings are left for <c>$INCLUDE</c>.
/// </summary>
public static class ZoneLoader
{
    public const string Extension = ".zone";

    /// <summary>The origin a zone file's name stands for: <c>example.com.zone</c> is <c>example.com.</c>.</summary>
    public static bool TryOriginFromFileName(string path, out DnsName origin, out string? error)
    {
        origin = DnsName.Root;
        var file = System.IO.Path.GetFileName(path);
        if (!file.EndsWith(Extension, StringComparison.OrdinalIgnoreCase))
        {
            error = $"{path}: a zone file's name must be <origin>{Extension}";
            return false;
        }
        var text = file[..^Extension.Length];
        if (text.Length == 0 || text == "root" || text == ".")
        {
            origin = DnsName.Root;
            error = null;
            return true;
        }
        if (!text.EndsWith('.'))
        {
            text += ".";
        }
        if (!DnsName.TryParse(text, null, out var parsed, out error))
        {
            error = $"{path}: the file name does not make a domain name: {error}";
            return false;
        }
        origin = parsed;
        return true;
    }

    /// <summary>
    /// Loads one zone file, its origin taken from the file name; <paramref name="served"/>, the version served from it,
    /// when this is a reload (see <see cref="LoadFile(string, DnsName, ZoneLoadOptions?, Zone?)"/>).
    /// </summary>
    public static ZoneLoadResult LoadFile(string path, ZoneLoadOptions? options = null, Zone? served = null)
    {
        if (!TryOriginFromFileName(path, out var origin, out var error))
        {
            return new ZoneLoadResult(DnsName.Root, path, null, [new ZoneDiagnostic(new SourceLocation(path, 1, 1), Severity.Error, error!)]);
        }
        return LoadFile(path, origin, options, served);
    }

    /// <summary>
    /// Loads one zone file with the given origin. Never throws for bad content: errors come back as diagnostics. Nor for
    /// a zone larger than the memory the runtime may use (a container's limit): that is one error naming the limit and
    /// what the load needs, found before the load when memory is tight (<see cref="ZoneLoadMemory"/>), else when an
    /// allocation fails, and then everything the load had made is garbage the next collection takes.
    /// </summary>
    public static ZoneLoadResult LoadFile(string path, DnsName origin, ZoneLoadOptions? options = null) => LoadFile(path, origin, options, null);

    /// <summary>
    /// Loads one zone file as <see cref="LoadFile(string, DnsName, ZoneLoadOptions?)"/> does; a reload of a large zone
    /// (<paramref name="served"/>, the version served from this file) whose edits stay at their owners makes the new
    /// version from the owners that changed, sharing every other node with the one served (<see cref="ZoneUpdate"/>).
    /// </summary>
    public static ZoneLoadResult LoadFile(string path, DnsName origin, ZoneLoadOptions? options, Zone? served)
    {
        long size = TryFileSize(path);
        return ZoneLoadMemory.LoadIfItFits(path, size,
            () =>
            {
                try
                {
                    return LoadFileOrThrow(path, origin, size, options, served);
                }
                catch (Exception e) when (IsOutOfMemory(e))
                {
                    return DoesNotFit(origin, path, ZoneLoadMemory.Measure(path, size));
                }
            },
            estimate => DoesNotFit(origin, path, estimate));
    }

    private static bool IsOutOfMemory(Exception e) => e switch
    {
        OutOfMemoryException => true,
        // Parallel.For and tasks (the build's two halves, the digest) wrap what their bodies threw.
        AggregateException aggregate => aggregate.InnerExceptions.All(IsOutOfMemory),
        _ => false,
    };

    private static ZoneLoadResult DoesNotFit(DnsName origin, string path, ZoneLoadMemory.Estimate estimate) =>
        new(origin, path, null, [new ZoneDiagnostic(new SourceLocation(path, 1, 1), Severity.Error,
            $"not enough memory to load this zone: the runtime may use {estimate.Available >> 20} MiB (a container's memory limit, or DOTNET_GCHeapHardLimit), "
            + $"{estimate.InUse >> 20} MiB of it in use, and loading this {Math.Max(1, estimate.Size >> 20)} MiB file needs about {Math.Max(1, estimate.Need >> 20)} MiB more "
            + $"({estimate.Records} records); give the server more memory")])
        {
            RanOutOfMemory = true,
        };

    private static long TryFileSize(string path)
    {
        try
        {
            return FileSize(new FileInfo(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return 0; // the reader says what is wrong with the path
        }
    }

    /// <summary>
    /// From this many names a reload compares the file with the version served (<see cref="ZoneUpdate"/>), and its
    /// owners take the served names and are grouped under the served nodes (<see cref="ZoneGrouping"/>): below, a whole
    /// build is as quick.
    /// </summary>
    private const int ReloadSharingFrom = 20_000;

    /// <summary>
    /// The result as the catalog keeps it for as long as the version is served: its lists copied to arrays of their
    /// length (10,000 small zones kept 2 MiB of list slack and empty lists).
    /// </summary>
    private static ZoneLoadResult Kept(DnsName origin, string path, Zone? zone, List<ZoneDiagnostic> diagnostics, List<string> sources) =>
        new(origin, path, zone, diagnostics.Count == 0 ? Array.Empty<ZoneDiagnostic>() : diagnostics.ToArray()) { Sources = sources.ToArray() };

    private static ZoneLoadResult LoadFileOrThrow(string path, DnsName origin, long size, ZoneLoadOptions? options, Zone? served)
    {
        var diagnostics = new List<ZoneDiagnostic>();
        // Only a large zone's reload is compared with the version served; a small one is built whole.
        var reloaded = served is not null && served.NodeCount >= ReloadSharingFrom ? served : null;
        ZoneFileResult parsed;
        ZoneGrouping? grouping;
        try
        {
            parsed = ReadFile(path, origin, size, reloaded, out grouping);
        }
        catch (IOException e)
        {
            diagnostics.Add(new ZoneDiagnostic(new SourceLocation(path, 1, 1), Severity.Error, $"cannot read: {e.Message}"));
            return new ZoneLoadResult(origin, path, null, diagnostics);
        }
        catch (UnauthorizedAccessException e)
        {
            diagnostics.Add(new ZoneDiagnostic(new SourceLocation(path, 1, 1), Severity.Error, $"cannot read: {e.Message}"));
            return new ZoneLoadResult(origin, path, null, diagnostics);
        }
        diagnostics.AddRange(parsed.Diagnostics);
        if (parsed.HasErrors || grouping is null)
        {
            return Kept(origin, path, null, diagnostics, parsed.Sources);
        }
        try
        {
            var zone = reloaded is not null ? ZoneUpdate.FromReload(reloaded, grouping, diagnostics, path) : null;
            zone ??= ZoneBuilder.Build(grouping, diagnostics, path, options);
            return Kept(origin, path, zone, diagnostics, parsed.Sources);
        }
        finally
        {
            // The build gave back most of the records as read already; a reload that shared nodes, or a build that
            // failed, gives them back here.
            grouping.Release();
        }
    }

    /// <summary>
    /// The size of a zone file, or of the file a symbolic link to one leads to (deployments link a checkout's files).
    /// </summary>
    public static long FileSize(FileInfo file) =>
        (file.LinkTarget is null ? file : file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? file).Length;

    /// <summary>Files from this size on are read and grouped by owner at once, on two threads.</summary>
    private const long GroupWhileReadingFrom = 1 << 20;

    /// <summary>
    /// Octets of zone file per name (owners and the empty non-terminals between them), for the size of the node table
    /// made before the owners are counted: under the smallest usual (an unsigned zone of one short record per name,
    /// about 40 with its share of empty non-terminals), so the table rarely grows while it fills; one that came out
    /// more than half too large is trimmed (<see cref="ZoneGrouping.FitNodeTable"/>).
    /// </summary>
    private const int OctetsPerOwnerGuess = 36;

    /// <summary>
    /// The most names guessed from a file's size: a signed zone has ten to thirty times the octets per name, and a
    /// guess from a file of gigabytes would set aside a table of hundreds of megabytes; past this the table grows as
    /// the names come (on the grouping thread, beside the reading).
    /// </summary>
    private const int MostOwnersGuessed = 2_000_000;

    /// <summary>
    /// Reads the file into a <see cref="RecordArena"/> and groups its records by owner (the build's first step): a large
    /// file's on a second thread as they are read, a small one's after. <paramref name="grouping"/> is null when the
    /// file had errors (nothing is built from it).
    /// </summary>
    private static ZoneFileResult ReadFile(string path, DnsName origin, long size, Zone? served, out ZoneGrouping? grouping)
    {
        grouping = null;
        bool groupWhileReading = size >= GroupWhileReadingFrom && Environment.ProcessorCount >= 2;
        using var handoff = groupWhileReading ? new RecordHandoff() : null;
        var arena = new RecordArena(servedNames: served is not null) { Handoff = handoff };
        try
        {
            if (handoff is null)
            {
                var read = ZoneFileReader.ReadFile(path, origin, arena, served);
                if (!read.HasErrors)
                {
                    // The runs of one owner name are the owners when each owner's records stand together, as in most files.
                    grouping = new ZoneGrouping(arena, origin, arena.OwnerRuns, served?.NodeTable);
                    grouping.Add(0, arena.Count);
                }
                return read;
            }
            using var grouper = new GroupingThread(arena, handoff, origin, (int)Math.Min(size / OctetsPerOwnerGuess, MostOwnersGuessed), served?.NodeTable);
            // A reading that throws leaves the thread to the using, which stops it.
            var parsed = ZoneFileReader.ReadFile(path, origin, arena, served);
            var grouped = grouper.Finish(arena.Count);
            grouping = parsed.HasErrors ? null : grouped;
            return parsed;
        }
        finally
        {
            if (grouping is null)
            {
                // Nothing is built from a file with errors, or one that could not be read on: its records go back now.
                arena.Release();
            }
        }
    }

    /// <summary>
    /// Loads every <c>*.zone</c> file in <paramref name="folder"/>, in parallel. Zones with errors are left out of the snapshot
    /// and reported in the results. Throws <see cref="DirectoryNotFoundException"/> when the folder does not exist.
    /// </summary>
    public static ZoneFolderLoad LoadFolder(string folder, ZoneLoadOptions? options = null)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"zones folder '{folder}' does not exist");
        }
        var files = Directory.GetFiles(folder, "*" + Extension);
        Array.Sort(files, StringComparer.Ordinal);
        var results = new ZoneLoadResult[files.Length];
        Parallel.For(0, files.Length, i => results[i] = LoadFile(files[i], options));

        var zones = new List<Zone>();
        var seen = new Dictionary<DnsName, string>(DnsNameComparer.Instance);
        for (int i = 0; i < results.Length; i++)
        {
            var r = results[i];
            if (seen.TryGetValue(r.Origin, out var other))
            {
                results[i] = r with
                {
                    Zone = null,
                    Diagnostics = [.. r.Diagnostics, new ZoneDiagnostic(new SourceLocation(r.Path, 1, 1), Severity.Error, $"zone {r.Origin} is already defined by {other}")],
                };
                continue;
            }
            seen[r.Origin] = r.Path;
            if (r.Zone is not null)
            {
                zones.Add(r.Zone);
            }
        }
        return new ZoneFolderLoad(new ZoneSet(zones), results);
    }
}
