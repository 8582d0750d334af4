using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using AnycastDns.Server.Telemetry;
using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.Zones;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server;

/// <summary>
/// Keeps the served snapshot in step with the zones folder: a change in the folder (after a quiet moment), SIGHUP or
/// <see cref="ReloadAsync"/> re-reads what changed, off the hot path, and swaps the whole snapshot at once. Queries
/// in flight finish on the snapshot they started with; a zone that fails to load keeps its previous version.
/// </summary>
internal sealed partial class ZoneReloader : IDisposable
{
    private readonly ServerOptions _options;
    private readonly ZoneSetHolder _zones;
    private readonly ILogger<ZoneReloader> _logger;
    private readonly SemaphoreSlim _one = new(1, 1);
    private readonly Timer _debounce;
    private FileSystemWatcher? _watcher;
    private PosixSignalRegistration? _sighup;
    private ZoneCatalog? _catalog;
    private readonly ConcurrentDictionary<string, long> _failures = new(StringComparer.Ordinal);
    private readonly Lock _namedLock = new();
    /// <summary>Names the watch reported since the last reload, relative to the folder; null: it lost count (look at every file).</summary>
    private HashSet<string>? _named = new(StringComparer.Ordinal);

    public ZoneReloader(ServerOptions options, ZoneSetHolder zones, ILogger<ZoneReloader> logger)
    {
        _options = options;
        _zones = zones;
        _logger = logger;
        _debounce = new Timer(_ => _ = ReloadNamedAsync());
    }

    /// <summary>The catalog behind the served snapshot: per file, the zone served and the latest load's errors.</summary>
    public ZoneCatalog Catalog => Volatile.Read(ref _catalog) ?? throw new InvalidOperationException("zones not loaded yet");

    /// <summary>The catalog, or null before the first load (the metric callbacks may run that early).</summary>
    public ZoneCatalog? LoadedCatalog => Volatile.Read(ref _catalog);

    /// <summary>Per zone origin, how many loads of its file failed since start (the previous version kept serving).</summary>
    public IReadOnlyDictionary<string, long> Failures => _failures;

    /// <summary>
    /// Raised after each swap with what changed (the first load included), on the reloading thread and before the next
    /// reload may start, so that subscribers see versions in order. Subscribers run in the order they subscribed: the
    /// IXFR history records a difference before the NOTIFY that announces it goes out. A subscriber must not throw.
    /// </summary>
    public event Action<IReadOnlyList<ZoneChange>>? Published;

    /// <summary>Reloads so far (successful or not); for tests and health reporting.</summary>
    public int Reloads { get; private set; }

    /// <summary>The first load; throws <see cref="ConfigurationException"/> when the folder does not exist.</summary>
    public void LoadInitial()
    {
        if (!Directory.Exists(_options.Zones))
        {
            throw new ConfigurationException($"zones folder '{_options.Zones}' does not exist");
        }
        using var activity = ServerActivities.StartZoneLoad(initial: true, "start", _options.Zones);
        ZoneCatalog catalog;
        IReadOnlyList<ZoneChange> changes;
        StartLoadWithoutCollections(_options.Zones);
        try
        {
            catalog = ZoneCatalog.Empty(_options.Zones, new ZoneLoadOptions { SignatureExpiryWarning = _options.SignatureExpiryWarning }).Reload(out changes);
        }
        catch
        {
            EndLoadWithoutCollections();
            throw;
        }
        Publish(catalog, changes, serving: false);
        ServerActivities.ZonesLoaded(activity, changes);
        if (catalog.ZoneSet.Count == 0)
        {
            LogNoZone(_logger, _options.Zones);
        }
    }

    /// <summary>
    /// The first load runs without garbage collections when memory allows: nothing is served yet, so nothing waits for
    /// the memory a collection would free, and almost everything a load allocates survives until it ends, so the
    /// collections during it only copy the zone from generation to generation (0.7 s of pauses in the 4 s of a
    /// 1 M-name zone). The budget is what a load allocates with a share to spare: measured with GC.GetTotalAllocatedBytes
    /// around <c>anycastdns check</c>, 12 times the file's size for 1 M names (555 MiB for 45.8 MiB), 14 for 100,000 names,
    /// 5 for a signed zone (the records go into an arena, not an object each), so 16 times. The region lasts
    /// until the collection after the swap (<see cref="ReturnLoadMemory"/>), which gives the garbage back: ended at
    /// once, the first allocation after the load would pay for a collection that copies the whole new zone out of
    /// generation 0 (half a second on a million names) before the first answer. Answering allocates nothing, so the
    /// rest of the budget covers the start of the listeners; should it run out, the runtime collects and ends the
    /// region itself. Reloads run with collections: their pause-free region would first need a full collection of the
    /// zones being served.
    /// </summary>
    private static void StartLoadWithoutCollections(string folder)
    {
        long octets = 0;
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles("*" + ZoneLoader.Extension))
        {
            octets += ZoneLoader.FileSize(file);
        }
        long budget = octets * 16;
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (budget < 64L << 20 || budget > available / 2)
        {
            return; // small zones load in moments anyway; large ones must not take the machine's memory
        }
        try
        {
            // Whether the region started does not matter to the load: EndLoadWithoutCollections looks at the GC's mode.
            GC.TryStartNoGCRegion(budget);
        }
        catch (ArgumentOutOfRangeException)
        {
            // More than this GC can set aside: the load runs with collections.
        }
    }

    /// <summary>Ends the first load's pause-free region, if it is still on; true when it was.</summary>
    private static bool EndLoadWithoutCollections()
    {
        if (System.Runtime.GCSettings.LatencyMode != System.Runtime.GCLatencyMode.NoGCRegion)
        {
            return false;
        }
        try
        {
            GC.EndNoGCRegion();
            return true;
        }
        catch (InvalidOperationException)
        {
            // The runtime ended the region already: its budget ran out, or something induced a collection.
            return false;
        }
    }

    /// <summary>Starts watching the folder and listening for SIGHUP.</summary>
    public void Start()
    {
        if (_options.WatchZones)
        {
            _watcher = FolderWatch.Start(
                Path.GetFullPath(_options.Zones),
                includeSubdirectories: true,
                name =>
                {
                    lock (_namedLock)
                    {
                        if (name is null)
                        {
                            _named = null;
                        }
                        else
                        {
                            _named?.Add(name);
                        }
                    }
                    _debounce.Change(_options.ReloadDebounce, Timeout.InfiniteTimeSpan);
                },
                // The kernel's event queue overflowed: something changed, we do not know what; look at everything.
                e => LogWatchOverflow(_logger, _options.Zones, e.Message));
        }
        if (!OperatingSystem.IsWindows())
        {
            _sighup = HangupSignal.Register(context =>
            {
                context.Cancel = true; // SIGHUP means reload here, not terminate
                _ = ReloadAsync("SIGHUP");
            });
        }
    }

    /// <summary>Re-reads the folder and swaps in the result; one reload at a time. Never throws: problems are logged.</summary>
    public Task<IReadOnlyList<ZoneChange>> ReloadAsync(string reason) => ReloadAsync(reason, named: false);

    /// <summary>
    /// After the watch's quiet moment: re-reads only the files it named (and the links and $INCLUDEs it cannot see
    /// change, <see cref="ZoneCatalog.Reload(IReadOnlyCollection{string}, out IReadOnlyList{ZoneChange})"/>), so that one
    /// zone edited among 100,000 costs its own load. SIGHUP and POST /reload look at every file.
    /// </summary>
    private Task<IReadOnlyList<ZoneChange>> ReloadNamedAsync() => ReloadAsync("the zones folder changed", named: true);

    /// <summary>Takes the names the watch reported so far: a reload from here on sees any change after them.</summary>
    private HashSet<string>? TakeNamed()
    {
        lock (_namedLock)
        {
            var named = _named;
            _named = new HashSet<string>(StringComparer.Ordinal);
            return named;
        }
    }

    private async Task<IReadOnlyList<ZoneChange>> ReloadAsync(string reason, bool named)
    {
        await _one.WaitAsync().ConfigureAwait(false);
        try
        {
            var names = TakeNamed();
            var only = named ? names : null;
            if (named)
            {
                reason = names is null ? $"{reason} (the watch lost count of what: every file)" : $"{reason} ({Describe(names)})";
            }
            LogReloading(_logger, reason);
            using var activity = ServerActivities.StartZoneLoad(initial: false, reason, _options.Zones);
            var (next, changes) = await BackgroundLoads.Run(() =>
            {
                var catalog = Catalog.Reload(only, out var list);
                return (catalog, list);
            }).ConfigureAwait(false);
            Publish(next, changes, serving: true);
            ServerActivities.ZonesLoaded(activity, changes);
            return changes;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The folder itself went away or became unreadable: keep serving what we have.
            LogReloadFailed(_logger, _options.Zones, e.Message);
            return [];
        }
        finally
        {
            Reloads++;
            _one.Release();
        }
    }

    /// <summary>"z1.example.zone, z2.example.zone" for a few names, "1,234 names, z1.example.zone, ..." for more.</summary>
    private static string Describe(HashSet<string> names)
    {
        const int Shown = 3;
        var first = string.Join(", ", names.Order(StringComparer.Ordinal).Take(Shown));
        return names.Count switch
        {
            0 => "nothing named since the last reload",
            <= Shown => first,
            _ => string.Create(CultureInfo.InvariantCulture, $"{names.Count:N0} names: {first}, ..."),
        };
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _sighup?.Dispose();
        _debounce.Dispose();
        _one.Dispose();
    }

    private void Publish(ZoneCatalog catalog, IReadOnlyList<ZoneChange> changes, bool serving)
    {
        // One reference write: every query after this sees all of the new snapshot, none sees part of it.
        _zones.Current = NextSnapshot(catalog.ZoneSet, serving ? [.. changes.Select(c => c.Origin)] : null);
        Volatile.Write(ref _catalog, catalog);
        int loaded = 0;
        long records = 0;
        foreach (var change in changes)
        {
            if (change.Kind is ZoneChangeKind.Added or ZoneChangeKind.Updated)
            {
                loaded++;
                records += change.After!.RecordCount;
            }
        }
        bool summarize = loaded > ZoneLinesAtMost;
        foreach (var change in changes)
        {
            if (change.Kind == ZoneChangeKind.Failed)
            {
                _failures.AddOrUpdate(change.Origin.ToString(), 1, (_, n) => n + 1);
            }
            Log(change, summarize);
        }
        if (summarize)
        {
            LogLoadedSummary(_logger, loaded, records);
        }
        Published?.Invoke(changes);
        ReturnLoadMemory(changes, catalog.ZoneSet, background: serving && !_options.CompactAfterReload,
            collect: !serving || _options.CompactAfterReload || RecordsChanged(changes) >= LargeTransferRecords);
    }

    /// <summary>The records of every version loaded or replaced: a measure of the garbage a reload leaves.</summary>
    private static long RecordsChanged(IReadOnlyList<ZoneChange> changes)
    {
        long records = 0;
        foreach (var change in changes)
        {
            records += Math.Max(change.Before?.RecordCount ?? 0, change.After?.RecordCount ?? 0);
        }
        return records;
    }

    /// <summary>
    /// The secondary zones (<c>Secondary:Zones</c>) served from the same snapshot as the file zones; set before
    /// <see cref="LoadInitial"/>, so that the first snapshot holds the versions kept in the state folder.
    /// </summary>
    public Secondary.SecondaryZones? SecondaryZones { get; set; }

    /// <summary>From this many records a transferred version is followed by the collection a file reload makes.</summary>
    private const int LargeTransferRecords = 100_000;

    /// <summary>
    /// Puts a secondary zone's new version (or its expiry) into the snapshot, between file reloads (one at a time), and
    /// tells <see cref="Published"/> as a reload would. Null only makes the snapshot again: a catalog member listed
    /// but not yet transferred is then not ready (SERVFAIL) rather than unknown. <paramref name="wholeZone"/>: the
    /// version came whole (AXFR), as an object per record, whose garbage is several times the zone.
    /// <para>
    /// Versions that arrive while another is being put in wait for it and then go in together, one snapshot for all of
    /// them, and a few changes patch the snapshot (<see cref="ZoneSet.With"/>) rather than build it from every zone: a
    /// catalog's thousands of members, each transferred on its own, would otherwise cost a snapshot of every zone each.
    /// When this returns, <paramref name="change"/> is served.
    /// </para>
    /// </summary>
    public async Task PublishSecondaryAsync(ZoneChange? change, bool wholeZone)
    {
        lock (_secondaryLock)
        {
            _secondaryPending.Add((change, wholeZone));
        }
        await _one.WaitAsync().ConfigureAwait(false);
        try
        {
            List<(ZoneChange? Change, bool Whole)> batch;
            lock (_secondaryLock)
            {
                batch = [.. _secondaryPending];
                _secondaryPending.Clear();
            }
            if (batch.Count == 0)
            {
                return; // the one before took ours in with its own
            }
            // A null change asks for the snapshot made again whole.
            _zones.Current = NextSnapshot(LoadedCatalog?.ZoneSet ?? ZoneSet.Empty,
                batch.Any(p => p.Change is null) ? null : [.. batch.Select(p => p.Change!.Origin)]);
            var large = new List<ZoneChange>();
            bool anyWhole = false;
            foreach (var (pending, whole) in batch)
            {
                if (pending is null)
                {
                    continue;
                }
                Log(pending, summarized: false);
                Published?.Invoke([pending]);
                // A large transfer leaves its garbage (the records as received, the version before) in generation 2,
                // which nothing on the answer path would ever collect: a 1 M-name AXFR kept 1,241 MiB resident
                // against 372 after a file load. Give it back as a file reload does. Small transfers (a catalog's
                // thousands of members) are left to the collector: one full collection each would cost more.
                if (pending.After is { RecordCount: >= LargeTransferRecords })
                {
                    large.Add(pending);
                    anyWhole |= whole;
                }
            }
            if (large.Count > 0)
            {
                // An AXFR's garbage (1.6 M records as objects for 1 M names) left uncompacted kept 1,146 MiB
                // resident against the file load's 372: it is compacted, as the first load is, once per whole
                // transfer. An IXFR applied leaves what a file reload does, collected in the background.
                ReturnLoadMemory(large, _zones.Current, background: !anyWhole && !_options.CompactAfterReload, collect: true);
            }
        }
        finally
        {
            _one.Release();
        }
    }

    private readonly Lock _secondaryLock = new();
    private readonly List<(ZoneChange? Change, bool Whole)> _secondaryPending = [];

    /// <summary>From this many secondary versions (or changed files beside secondary zones) at once the snapshot is built whole rather than patched.</summary>
    private const int SecondaryPatchAtMost = 256;

    /// <summary>
    /// The snapshot to serve once the zones of <paramref name="changed"/> origins changed (null: any may have), made from
    /// <paramref name="files"/> and the secondary zones: for a few origins the one served is patched (<see cref="CombineSome"/>),
    /// else it is combined whole (<see cref="Combine"/>). Without secondary zones the file zones' snapshot is served as it is.
    /// </summary>
    private ZoneSet NextSnapshot(ZoneSet files, IReadOnlyList<DnsName>? changed) =>
        SecondaryZones is null || changed is null || changed.Count > SecondaryPatchAtMost ? Combine(files)
        : changed.Count == 0 ? _zones.Current
        : CombineSome(_zones.Current, files, changed);

    /// <summary>
    /// The file zones' snapshot with the secondary zones added: a secondary zone never transferred, or expired, is not
    /// ready (SERVFAIL, as NSD answers such a zone), and a file zone of the same origin wins over a secondary one.
    /// </summary>
    private ZoneSet Combine(ZoneSet files)
    {
        if (SecondaryZones is not { } secondary)
        {
            return files;
        }
        var zones = new List<Zone>(files.Zones);
        var notReady = new List<DnsName>(files.NotReady);
        foreach (var zone in secondary.Zones)
        {
            var origin = zone.Options.Origin;
            // A catalog zone is for the servers, not for queries (RFC 9432 §4.1): never in the snapshot, so REFUSED.
            if (zone.CatalogOptions is not null || files[origin] is not null || files.IsNotReady(origin))
            {
                continue;
            }
            if (zone.Served is { } served)
            {
                zones.Add(served);
            }
            else
            {
                notReady.Add(origin);
            }
        }
        return new ZoneSet(zones, notReady);
    }

    /// <summary>
    /// <paramref name="current"/> (what <see cref="Combine"/> made, patched since) with the zones of
    /// <paramref name="origins"/> as they are now in <paramref name="files"/> and the secondary zones, by the same rules:
    /// what Combine would make, without going over every zone.
    /// </summary>
    private ZoneSet CombineSome(ZoneSet current, ZoneSet files, IReadOnlyList<DnsName> origins)
    {
        var drop = new List<DnsName>();
        var serve = new List<Zone>();
        var notReady = new List<DnsName>();
        foreach (var origin in origins)
        {
            drop.Add(origin);
            // A file zone of the origin wins, loaded or not.
            if (files[origin] is { } file)
            {
                serve.Add(file);
                continue;
            }
            if (files.IsNotReady(origin))
            {
                notReady.Add(origin);
                continue;
            }
            if (SecondaryZones?.Find(origin) is not { CatalogOptions: null } zone)
            {
                continue; // no longer configured (a member removed from its catalog), or a catalog itself
            }
            if (zone.Served is { } served)
            {
                serve.Add(served);
            }
            else
            {
                notReady.Add(origin);
            }
        }
        return current.With(drop, serve, notReady);
    }

    /// <summary>
    /// Loading a zone leaves garbage several times the zone's own size (the file's text, every parsed record), and the
    /// answer path allocates nothing, so no collection would ever come to free it: a 1 M-name zone would keep twice
    /// its memory for good. One full, compacting collection after the swap gives it back to the system (Aggressive
    /// decommits what it freed). It pauses every thread for a few hundred ms per million names, so it waits a second:
    /// the new snapshot answers first (at start the listeners bind first, and the server is not yet announced), and
    /// queries that come during the pause wait in the socket buffers. The zones' digests (Zone.Digest), left out of
    /// the load so that the zones answer sooner, are computed after it, so that no status request waits for them; so is
    /// the snapshot's summary for CHAOS zones.server (<see cref="Authority.ZoneSetIdentity"/>), which needs every digest.
    /// They were computed before it, so that their garbage went too, but then their sorting came on top of the load's
    /// garbage, and that was the first load's peak (658 MiB for a million names, 50 MiB more than at the end of the
    /// build); now a background collection takes what they leave. The first load's pause-free region ends here
    /// (<see cref="StartLoadWithoutCollections"/>).
    /// While the server answers (<paramref name="background"/>: a reload, a transfer applied), the collection runs in the
    /// background instead, beside the answering threads (concurrent GC, on in the project file), once the digests are
    /// made, so that one collection takes the load's garbage and theirs: the replaced versions are freed without a
    /// pause, but not compacted, so the process stays about as large as the reload's peak and the next reload builds in
    /// that space. A compacting one held every query for 350 ms on a 1 M-name zone, and on a
    /// server of many zones it would copy all of them for a change to one (<c>bench/compare.sh --reload-names</c>).
    /// With <c>Reload:Compact</c> (<c>--compact-after-reload true</c>), or concurrent GC off, a reload ends with the
    /// compacting collection.
    /// <para>
    /// A small reload while serving (<paramref name="collect"/> false: fewer than <see cref="LargeTransferRecords"/>
    /// records loaded or replaced, e.g. one zone edited among 100,000) forces no collection: its garbage is small, and a
    /// full collection would trace every zone served for it.
    /// </para>
    /// </summary>
    private static void ReturnLoadMemory(IReadOnlyList<ZoneChange> changes, ZoneSet published, bool background, bool collect)
    {
        if (changes.Count == 0)
        {
            EndLoadWithoutCollections();
            return; // nothing was re-read, so there is no garbage to give back and no pause worth taking
        }
        // Only the new versions: a closure that held the changes would hold the versions they replaced (Before), and
        // keep them alive through the very collection meant to free them (a 1 M-name reload kept 294 MiB more).
        var loaded = new List<Zone>(changes.Count);
        foreach (var change in changes)
        {
            if (change.After is { } after)
            {
                loaded.Add(after);
            }
        }
        _ = Task.Delay(TimeSpan.FromSeconds(1)).ContinueWith(_ =>
        {
            bool afterRegion = EndLoadWithoutCollections();
            if (afterRegion)
            {
                // The first generation-0 collection after a pause-free region is a long one (150-170 ms on a million
                // names): it comes here, beside the full collection's pause, rather than as the first collection of
                // the next reload, where it held the answers for 160-250 ms (traced with the runtime's GC events).
                GC.Collect(0, GCCollectionMode.Forced, blocking: true);
            }
            bool inBackground = background && BackgroundCollectionsOn;
            if (collect && !inBackground)
            {
                // Small zones' digests first, so that the compaction takes their garbage with the load's: 10,000 small
                // zones kept 3-4 MiB more when the background collection after all the digests was left to free it
                // (it does not compact). A large zone's after, as below: its canonical sort (40 MiB on a million names)
                // on top of the load's garbage would raise the load's peak.
                foreach (var zone in loaded)
                {
                    if (zone.RecordCount < DigestBeforeCompactionBelow)
                    {
                        zone.ComputeDigest();
                    }
                }
                CollectCompacting();
            }
            foreach (var zone in loaded)
            {
                zone.ComputeDigest(); // those not made above
            }
            Authority.ZoneSetIdentity.Prepare(published);
            if (collect)
            {
                // The load's garbage (a reload's), and what the digests left (their canonical sort: about 40 MiB of large
                // arrays on a million names, which only a full collection frees), beside the answering threads. After the
                // digests, not while they run: a background collection's last pause re-marks what was written meanwhile,
                // and the digests' sort beside it made that pause 20-58 ms on a million names.
                // Generation 1 first, in a pause of its own: a background collection that has to begin with one does it
                // inside its first pause, and in the native build that pause took 92-96 ms in 4 of 17 reloads (a 1 M-name
                // zone reloaded again and again in one process; bench/GcPauses, type 1); this one takes 11-21 ms, and with
                // it none of 14 reloads waited over 25 ms. With concurrent GC off the collection below is a blocking one,
                // which takes generation 1 with it.
                if (BackgroundCollectionsOn)
                {
                    GC.Collect(1, GCCollectionMode.Forced, blocking: true);
                }
                long backgroundBefore = GC.GetGCMemoryInfo(GCKind.Background).Index;
                CollectInBackground();
                if (afterRegion && !System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported)
                {
                    TakeFirstLargeRegion(backgroundBefore);
                }
            }
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>Zones of fewer records have their digest made before the compacting collection after a load, others after it.</summary>
    private const int DigestBeforeCompactionBelow = 10_000;

    /// <summary>Concurrent GC on (the project file's setting): a full collection not asked to block runs in the background.</summary>
    private static bool BackgroundCollectionsOn =>
        System.Runtime.GCSettings.LatencyMode != System.Runtime.GCLatencyMode.Batch;

    /// <summary>A full collection beside the answering threads (concurrent GC): no pause, nothing compacted.</summary>
    private static void CollectInBackground() =>
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: false, compacting: false);

    /// <summary>
    /// The native build only (what the images ship), once, at start, after a pause-free region: a large-object region
    /// taken by an array of references, and the young collection after it, so that a reload's first does not pay them.
    /// </summary>
    /// <remarks>
    /// Measured, not explained inside the runtime: in the native build, after a pause-free region, once large arrays of
    /// references (the digests' sort) have been freed by a background collection, the first young collection after an
    /// array of references is made in a large-object region of its own (32 MiB and more) spends 70-120 ms marking
    /// through cards, even with the array empty; later ones do not. A reload makes such an array (the new node table),
    /// and that collection was its one long pause: 54-119 ms on a million names, where the JIT build's took 5-14
    /// (bench/GcPauses compiled into the native build); bench/NativeCardRepro shows it without the server. Taken here,
    /// after the background collection, it costs one pause of 65-69 ms at start (the start's compaction before it takes
    /// 240), the first reload's longest wait was 11-18 ms in four runs, and one more background collection gives the
    /// array's 40 MiB back (the steady size unchanged). An array of bytes, enough in the small program, was not in the
    /// server: the reload's collection still took 58 ms.
    /// </remarks>
    private static void TakeFirstLargeRegion(long backgroundBefore)
    {
        WaitForBackgroundCollection(backgroundBefore);
        try
        {
            GC.KeepAlive(new object[FirstLargeRegionReferences]);
        }
        catch (OutOfMemoryException)
        {
            return; // under a memory limit that tight, a reload's pause is the lesser worry
        }
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        CollectInBackground();
    }

    /// <summary>40 MiB of references: more than a large-object region (32 MiB), so that the array takes one of its own.</summary>
    private const int FirstLargeRegionReferences = 40 << 20 >> 3;

    /// <summary>Waits, 30 s at most, for a background collection after the one numbered <paramref name="before"/> to end.</summary>
    private static void WaitForBackgroundCollection(long before)
    {
        for (int waited = 0;
             waited < 600 && BackgroundCollectionsOn
                 && GC.GetGCMemoryInfo(GCKind.Background).Index == before;
             waited++)
        {
            Thread.Sleep(50);
        }
    }

    private static void CollectCompacting()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    /// <summary>
    /// Past this many zones loaded at once (a start with thousands of zones), the line per zone loaded is Debug and one
    /// line sums them up: tens of thousands of lines overflow the console logger's queue, which then drops lines,
    /// "answering as" among them. Errors, warnings and removals keep their line each.
    /// </summary>
    private const int ZoneLinesAtMost = 100;

    private void Log(ZoneChange change, bool summarized)
    {
        var loadedLevel = summarized ? LogLevel.Debug : LogLevel.Information;
        foreach (var message in change.Messages)
        {
            if (message.Contains(": error: ", StringComparison.Ordinal) || change.Kind == ZoneChangeKind.Failed)
            {
                LogZoneError(_logger, message);
            }
            else
            {
                LogZoneWarning(_logger, message);
            }
        }
        switch (change.Kind)
        {
            case ZoneChangeKind.Added:
                LogAdded(_logger, loadedLevel, change.Origin, change.After!.Serial, change.After.RecordCount, change.Path);
                break;
            case ZoneChangeKind.Updated:
                LogUpdated(_logger, loadedLevel, change.Origin, change.Before!.Serial, change.After!.Serial, change.After.RecordCount, change.Path);
                break;
            case ZoneChangeKind.Removed:
                LogRemoved(_logger, change.Origin, change.Path);
                break;
            case ZoneChangeKind.Unchanged:
                LogUnchanged(_logger, change.Origin, change.Path);
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "no zone loaded from {Folder}: every query will be REFUSED")]
    private static partial void LogNoZone(ILogger logger, string folder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "watching {Folder}: {Error}; reloading")]
    private static partial void LogWatchOverflow(ILogger logger, string folder, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "reloading zones: {Reason}")]
    private static partial void LogReloading(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "reloading zones from {Folder} failed: {Error}; still serving the previous zones")]
    private static partial void LogReloadFailed(ILogger logger, string folder, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Message}")]
    private static partial void LogZoneError(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Message}")]
    private static partial void LogZoneWarning(ILogger logger, string message);

    [LoggerMessage(Message = "zone {Origin} serial {Serial}: {Records} records from {Path}")]
    private static partial void LogAdded(ILogger logger, LogLevel level, DnsName origin, uint serial, int records, string path);

    [LoggerMessage(Message = "zone {Origin} serial {Before} -> {Serial}: {Records} records from {Path}")]
    private static partial void LogUpdated(ILogger logger, LogLevel level, DnsName origin, uint before, uint serial, int records, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Zones} zones loaded or updated, {Records} records (a line per zone at Debug level; GET /zones lists them)")]
    private static partial void LogLoadedSummary(ILogger logger, int zones, long records);

    [LoggerMessage(Level = LogLevel.Warning, Message = "zone {Origin} removed with {Path}")]
    private static partial void LogRemoved(ILogger logger, DnsName origin, string path);

    [LoggerMessage(Level = LogLevel.Debug, Message = "zone {Origin} unchanged in {Path}")]
    private static partial void LogUnchanged(ILogger logger, DnsName origin, string path);
}
