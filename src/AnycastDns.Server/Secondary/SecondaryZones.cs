using System.Net;
using AnycastDns.Protocol;
using AnycastDns.Protocol.Tsig;
using AnycastDns.Zones;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server.Secondary;

/// <summary>
/// The secondary zones (<c>Secondary:Zones</c>): each has a refresh loop that follows RFC 1034 §4.3.5 (SOA check
/// every REFRESH, every RETRY after a failure, not served once EXPIRE passes without a successful refresh) and RFC
/// 1996 (a NOTIFY from one of the zone's primaries checks at once). A check asks the primaries in order for the SOA
/// over TCP; a newer serial is fetched by IXFR (RFC 1995), by AXFR when the primary refuses IXFR or for the first
/// version. A new version goes through the zone checks, is written to the state folder, then published into the one
/// snapshot with the file zones (<see cref="ZoneReloader.PublishSecondaryAsync"/>). A failure keeps the previous
/// version serving and is one log line.
/// <para>
/// Catalog zones (<c>Secondary:Catalogs</c>, RFC 9432) are refreshed by the same loop, but not served; each new
/// version that is a correct catalog changes the set of member zones at once: members added get a refresh loop,
/// members removed stop and lose their kept state (§5.3), a member whose unique id changed starts again from nothing
/// (§5.4). The set is replaced whole, never half of it.
/// </para>
/// </summary>
internal sealed partial class SecondaryZones : Authority.IZoneExpiry, IDisposable
{
    /// <summary>How soon a zone never transferred is tried again (it has no SOA RETRY yet).</summary>
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(5);

    private readonly SecondaryOptions _options;
    /// <summary>Refreshes under way, at most <see cref="SecondaryOptions.MaxConcurrentRefreshes"/>.</summary>
    private readonly SemaphoreSlim _refreshes;
    private readonly ZoneLoadOptions _loadOptions;
    private readonly Func<TsigKeyring> _keys;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];

    /// <summary>Changes to the set of zones (catalog members) take this lock; readers take <see cref="_registry"/> as it is.</summary>
    private readonly Lock _gate = new();

    /// <summary>Groups named by a catalog but not configured, each logged once ("catalog group").</summary>
    private readonly HashSet<string> _unknownGroups = new(StringComparer.Ordinal);

    /// <summary>Every zone, replaced whole on a change, so that the answer path and the status pages read it without a lock.</summary>
    private Registry _registry;
    private Func<ZoneChange?, bool, Task>? _publish;
    private long _notifiesAccepted;
    private long _notifiesRefused;
    private int _disposed;

    public SecondaryZones(SecondaryOptions options, ZoneLoadOptions loadOptions, Func<TsigKeyring> keys, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _refreshes = new SemaphoreSlim(options.MaxConcurrentRefreshes, options.MaxConcurrentRefreshes);
        _loadOptions = loadOptions;
        _keys = keys;
        _logger = logger;
        var byOrigin = new Dictionary<DnsName, SecondaryZone>(DnsNameComparer.Instance);
        var all = new List<SecondaryZone>();
        foreach (var zone in options.Zones)
        {
            all.Add(byOrigin[zone.Origin] = new SecondaryZone(zone));
        }
        foreach (var catalog in options.Catalogs)
        {
            all.Add(byOrigin[catalog.Origin] = new SecondaryZone(catalog.Zone, catalog));
        }
        _registry = new Registry(byOrigin, all);
    }

    /// <summary>The zones and a list of them in order: configured zones, catalogs, then catalog members as they came.</summary>
    private sealed record Registry(Dictionary<DnsName, SecondaryZone> ByOrigin, List<SecondaryZone> All);

    /// <summary>Every secondary zone: configured zones in configuration order, catalogs, then catalog members.</summary>
    public IReadOnlyList<SecondaryZone> Zones => Volatile.Read(ref _registry).All;

    /// <summary>
    /// True for an origin that a zone file serves here: such a member is not taken from a catalog (RFC 9432 §5.2: the
    /// zone configured otherwise stays). Set by the server once file zones are known.
    /// </summary>
    public Func<DnsName, bool>? IsFileZone { get; set; }

    public SecondaryZone? Find(DnsName origin) => Volatile.Read(ref _registry).ByOrigin.GetValueOrDefault(origin);

    /// <inheritdoc/>
    public bool IsExpired(DnsName origin) => Find(origin) is { } zone && zone.Expired;

    /// <inheritdoc/>
    public long SecondsToExpiry(Zone zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        // The version served must be this zone's: a file zone of the same origin wins over a secondary one.
        return Find(zone.Origin) is { } secondary && ReferenceEquals(secondary.Current, zone)
            ? secondary.SecondsToExpiry(DateTimeOffset.UtcNow)
            : -1;
    }

    /// <summary>
    /// The self-check's reason to withdraw, or null: "secondary zone X expired: ..." for the first expired zone, or
    /// "secondary zone X expires at T, withdrawn ahead of it: ..." for the first within its withdraw margin of the SOA EXPIRE
    /// (<see cref="WithdrawMargin"/>). The PoP withdraws before it stops answering, as on shutdown: the route is gone
    /// from its peers by the time the zone would answer SERVFAIL, and the zone is served until then for the clients
    /// whose routers have not yet moved. A refresh that succeeds in the margin announces it again.
    /// </summary>
    public string? ExpiryProblem(TimeSpan drain)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var zone in Zones)
        {
            // An expired catalog only stops being read (RFC 9432 §5.1); its members expire by their own SOA.
            if (zone.CatalogOptions is not null)
            {
                continue;
            }
            string since = $"not refreshed since {zone.LastRefresh:O} ({zone.LastError ?? "no refresh succeeded"})";
            if (zone.Expired)
            {
                return $"secondary zone {zone.Options.Origin} expired: {since}";
            }
            if (zone.ExpiresAt is { } at && zone.Current is { } current
                && at - now <= WithdrawMargin(TransferClient.SoaTimers(current.Soa.Rdata(0)).Expire, drain))
            {
                // The same text through the margin (the expiry time, not the seconds left): the lifecycle logs a
                // transition whenever the reason changes.
                return $"secondary zone {zone.Options.Origin} expires at {at:O}, withdrawn ahead of it: {since}";
            }
        }
        return null;
    }

    /// <summary>
    /// How long before a zone's expiry the PoP withdraws: the drain time (<c>Anycast:DrainSeconds</c>, what the
    /// operator gives BGP to move clients away) and 2 s for the once-a-second self-check and the speaker, but never more
    /// than half the SOA EXPIRE, so that a zone with a short EXPIRE (a test's seconds) is not withdrawn right after
    /// each refresh. With the EXPIRE of real zones (days to weeks, RFC 1912 §2.2) the first term decides.
    /// </summary>
    internal static TimeSpan WithdrawMargin(uint expireSeconds, TimeSpan drain) =>
        TimeSpan.FromTicks(Math.Min((drain + TimeSpan.FromSeconds(2)).Ticks, TimeSpan.FromSeconds(expireSeconds / 2.0).Ticks));

    public long NotifiesAccepted => Interlocked.Read(ref _notifiesAccepted);

    public long NotifiesRefused => Interlocked.Read(ref _notifiesRefused);

    /// <summary>
    /// Reads the kept versions from the state folder (creating it), before the first snapshot: a restart serves the
    /// last good version at once, and expiry goes on counting from its last refresh.
    /// </summary>
    public void LoadState()
    {
        string folder = _options.StateFolder!;
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"Secondary:StateFolder: cannot create '{folder}': {e.Message}");
        }
        foreach (var zone in Zones.ToList())
        {
            LoadKept(zone);
            // RFC 9432 §5.1: a restart serves the members of the last good catalog version, before any primary answers.
            if (zone.CatalogOptions is not null && zone.Current is { } catalog)
            {
                // A kept version that is broken: the members of the last version processed (RFC 9432 §5.1).
                var plan = ApplyCatalog(zone, catalog)
                    ?? (ZoneStateFile.LoadCatalog(folder, zone.Options.Origin, _loadOptions) is { } good ? ApplyCatalog(zone, good) : null);
                foreach (var member in plan?.Added ?? [])
                {
                    LoadKept(member);
                }
            }
        }
    }

    /// <summary>Takes a zone's kept version and last refresh from the state folder, when there is one.</summary>
    private void LoadKept(SecondaryZone zone)
    {
        var kept = ZoneStateFile.Load(_options.StateFolder!, zone.Options.Origin, _loadOptions, out string? problem);
        if (problem is not null)
        {
            LogStateUnreadable(_logger, zone.Options.Origin.ToString(), problem);
        }
        if (kept is not { } k)
        {
            return;
        }
        zone.Current = k.Zone;
        zone.LastRefresh = k.Refreshed;
        zone.Source = "the state folder";
        zone.Expired = zone.ExpiresAt <= DateTimeOffset.UtcNow;
        LogFromState(_logger, zone.Options.Origin.ToString(), k.Zone.Serial, k.Zone.RecordCount, k.Refreshed, zone.Expired ? " (expired: not served until a refresh)" : "");
    }

    /// <summary>Starts one refresh loop per zone; <paramref name="publish"/> puts a new version into the served snapshot.</summary>
    public void Start(Func<ZoneChange?, bool, Task> publish)
    {
        lock (_gate)
        {
            _publish = publish;
            foreach (var zone in Zones)
            {
                StartLoop(zone);
            }
        }
    }

    /// <summary>Starts a zone's refresh loop, which ends on <see cref="Dispose"/> or on the zone's own stop (a member removed).</summary>
    private void StartLoop(SecondaryZone zone)
    {
        if (zone.Loop is not null)
        {
            return;
        }
        var stop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, zone.Stop.Token);
        zone.Loop = Task.Run(async () =>
        {
            try
            {
                await RunAsync(zone, stop.Token).ConfigureAwait(false);
            }
            finally
            {
                stop.Dispose();
            }
        });
        _loops.Add(zone.Loop);
    }

    /// <summary>The refresh loop of one zone (RFC 1034 §4.3.5).</summary>
    private async Task RunAsync(SecondaryZone zone, CancellationToken cancellationToken)
    {
        var next = zone.Current is null || zone.LastRefresh is null
            ? DateTimeOffset.UtcNow
            : zone.LastRefresh.Value.AddSeconds(TransferClient.SoaTimers(zone.Current.Soa.Rdata(0)).Refresh);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var now = DateTimeOffset.UtcNow;
                var wakeAt = zone.ExpiresAt is { } expires && !zone.Expired && expires < next ? expires : next;
                bool notified = await zone.WaitAsync(wakeAt - now, cancellationToken).ConfigureAwait(false);
                now = DateTimeOffset.UtcNow;
                await CheckExpiryAsync(zone, now).ConfigureAwait(false);
                if (!notified && now < next)
                {
                    continue;
                }
                bool refreshed = await RefreshBeforeExpiryAsync(zone, cancellationToken).ConfigureAwait(false);
                now = DateTimeOffset.UtcNow;
                if (zone.Current is null)
                {
                    next = now + FirstRetry;
                }
                else
                {
                    var timers = TransferClient.SoaTimers(zone.Current.Soa.Rdata(0));
                    next = now.AddSeconds(refreshed ? timers.Refresh : timers.Retry);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The state folder could not be written: the version is served, the next refresh writes it again.
                LogStateNotWritten(_logger, zone.Options.Origin.ToString(), e.Message);
                next = DateTimeOffset.UtcNow + FirstRetry;
            }
            catch (Exception e)
            {
                // A bug here must not end the loop in silence: the zone would never refresh again and, once expired,
                // keep the PoP withdrawn with nothing in the log saying why. One line per attempt, then the retry.
                LogLoopFailed(_logger, zone.Options.Origin.ToString(), e);
                next = DateTimeOffset.UtcNow + FirstRetry;
            }
        }
    }

    /// <summary>Stops serving a zone whose EXPIRE passed since its last successful refresh (RFC 1034 §4.3.5).</summary>
    private async Task CheckExpiryAsync(SecondaryZone zone, DateTimeOffset now)
    {
        if (zone.Expired || zone.ExpiresAt is not { } at || at > now)
        {
            return;
        }
        zone.Expired = true;
        if (zone.CatalogOptions is not null)
        {
            LogCatalogExpired(_logger, zone.Options.Origin.ToString(), zone.Current!.Serial, zone.LastRefresh!.Value);
            return; // never served, so nothing leaves the snapshot; its members keep their own timers
        }
        LogExpired(_logger, zone.Options.Origin.ToString(), zone.Current!.Serial, zone.LastRefresh!.Value);
        await _publish!(new ZoneChange(ZoneChangeKind.Removed, zone.Options.Origin, "expiry", zone.Current, null, []), false).ConfigureAwait(false);
    }

    /// <summary>
    /// <see cref="RefreshAsync"/>, cut short at the served version's expiry. A primary that drops packets silently holds
    /// each attempt for the whole transfer timeout, per primary, and the loop checks the expiry only between attempts:
    /// without the cut, the zone would be served (and the PoP announced) up to that long after its EXPIRE, which RFC 1034
    /// §4.3.5 does not allow. Cancelled, nothing is half-applied: a version is kept and served only after its exchange.
    /// </summary>
    private async Task<bool> RefreshBeforeExpiryAsync(SecondaryZone zone, CancellationToken cancellationToken)
    {
        // The longest a refresh can take: SOA, IXFR and AXFR from each primary, each bounded by the transfer timeout.
        // Beyond it no cut is needed, and none could be set beyond CancelAfter's limit (about 24.8 days): Knot's
        // generated catalogs carry an EXPIRE of 2^31 - 2 s.
        var longest = _options.TransferTimeout * (3 * Math.Max(1, zone.Options.Primaries.Count));
        var left = zone.ExpiresAt is { } at ? at - DateTimeOffset.UtcNow : TimeSpan.MaxValue;
        if (zone.Expired || left >= longest || left.TotalMilliseconds >= int.MaxValue)
        {
            return await RefreshAsync(zone, cancellationToken).ConfigureAwait(false);
        }
        var expiresAt = zone.ExpiresAt!.Value;
        using var untilExpiry = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        untilExpiry.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        try
        {
            return await RefreshAsync(zone, untilExpiry.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            string problem = $"no answer from the primaries before the expiry at {expiresAt:O}";
            LogRefreshFailed(_logger, zone.Options.Origin.ToString(), problem);
            zone.LastError = problem;
            zone.Failures++;
            return false;
        }
    }

    /// <summary>One check of the primaries, in order, until one gives an answer; true when the zone is now current.</summary>
    private async Task<bool> RefreshAsync(SecondaryZone zone, CancellationToken cancellationToken)
    {
        // A turn first: waiting for it counts towards the cut at the expiry, as a slow primary does.
        await _refreshes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RefreshInTurnAsync(zone, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _refreshes.Release();
        }
    }

    private async Task<bool> RefreshInTurnAsync(SecondaryZone zone, CancellationToken cancellationToken)
    {
        var origin = zone.Options.Origin;
        string? problem = null;
        foreach (var primary in zone.Options.Primaries)
        {
            try
            {
                var key = KeyFor(primary);
                var soa = await TransferClient.QuerySoaAsync(primary.EndPoint, key, origin, _options.TransferTimeout, cancellationToken).ConfigureAwait(false);
                uint serial = TransferClient.SoaSerial(soa.Rdata(0));
                var current = zone.Current;
                if (current is not null && !SerialNumber.IsGreater(serial, current.Serial))
                {
                    await RefreshedAsync(zone, current, null, null, wholeZone: false).ConfigureAwait(false);
                    return true;
                }
                var (next, how, whole) = await TransferAsync(zone, primary, key, cancellationToken).ConfigureAwait(false);
                await RefreshedAsync(zone, next ?? current!, next is null ? null : how, current, whole).ConfigureAwait(false);
                return true;
            }
            catch (TransferException e)
            {
                problem = e.Message;
                LogRefreshFailed(_logger, origin.ToString(), e.Message);
            }
        }
        zone.LastError = problem;
        zone.Failures++;
        return false;
    }

    /// <summary>
    /// IXFR from the version served (AXFR-form answers accepted), AXFR when there is none or IXFR is refused. Whole:
    /// the version came as the whole zone, every record an object of its own, rather than as differences.
    /// </summary>
    private async Task<(Zone? Zone, string How, bool Whole)> TransferAsync(SecondaryZone zone, Transfers.NotifyTarget primary, TsigKey? key, CancellationToken cancellationToken)
    {
        var origin = zone.Options.Origin;
        var current = zone.Current;
        if (current is not null)
        {
            var currentSoa = new ResourceRecord(origin, RecordType.SOA, RecordClass.IN, current.Soa.RecordTtl(0), current.Soa.Rdata(0).ToArray());
            try
            {
                var answer = await TransferClient.ExchangeAsync(primary.EndPoint, key, origin, RecordType.IXFR, currentSoa, _options.TransferTimeout, cancellationToken).ConfigureAwait(false);
                string source = $"IXFR from {primary.EndPoint}";
                if (answer.Count == 1)
                {
                    return (null, source, false); // RFC 1995 §4: the SOA alone, the version served is current
                }
                // Built on the load threads, below the priority of the threads that answer (BackgroundLoads).
                return TransferredZone.IsIncremental(answer)
                    ? (await BackgroundLoads.Run(() => TransferredZone.ApplyIxfr(current, answer, source, _loadOptions)).ConfigureAwait(false), source, false)
                    : (await BackgroundLoads.Run(() => TransferredZone.FromAxfr(origin, answer, source + " (whole zone)", _loadOptions)).ConfigureAwait(false), source + " (whole zone)", true);
            }
            catch (TransferException e) when (e.Refused)
            {
                LogIxfrRefused(_logger, origin.ToString(), primary.EndPoint.ToString(), e.Message);
            }
        }
        var axfr = await TransferClient.ExchangeAsync(primary.EndPoint, key, origin, RecordType.AXFR, null, _options.TransferTimeout, cancellationToken).ConfigureAwait(false);
        string how = $"AXFR from {primary.EndPoint}";
        return (await BackgroundLoads.Run(() => TransferredZone.FromAxfr(origin, axfr, how, _loadOptions)).ConfigureAwait(false), how, true);
    }

    /// <summary>
    /// A successful refresh: the timers restart; a new version is served, then kept. Served first: writing a million
    /// names takes seconds, and a crash before it is written costs only a restart from the version kept before (its
    /// timers, written after the zone, still name it), which the next refresh brings up to date.
    /// </summary>
    private async Task RefreshedAsync(SecondaryZone zone, Zone version, string? source, Zone? before, bool wholeZone)
    {
        var now = DateTimeOffset.UtcNow;
        if (zone.Stop.IsCancellationRequested)
        {
            return; // a member removed while it refreshed: its state is being deleted, nothing of it is written again
        }
        bool wasExpired = zone.Expired;
        zone.Current = version;
        zone.LastRefresh = now;
        zone.LastError = null;
        zone.Expired = false;
        if (source is not null)
        {
            zone.Source = source;
        }
        if (zone.CatalogOptions is not null)
        {
            // Not served (RFC 9432 §4.1: catalogs are for server management, not for queries), so not published; a
            // new version, or one fresh again after expiry (§5.1), is read for its members.
            if (source is not null || wasExpired)
            {
                await ApplyCatalogAsync(zone, version).ConfigureAwait(false);
            }
        }
        else if (source is not null)
        {
            var kind = before is null || wasExpired ? ZoneChangeKind.Added : ZoneChangeKind.Updated;
            await _publish!(new ZoneChange(kind, zone.Options.Origin, source, wasExpired ? null : before, version, []), wholeZone).ConfigureAwait(false);
        }
        else if (wasExpired)
        {
            await _publish!(new ZoneChange(ZoneChangeKind.Added, zone.Options.Origin, zone.Source ?? "refresh", null, version, []), false).ConfigureAwait(false);
        }
        string folder = _options.StateFolder!;
        if (source is not null && !zone.Stop.IsCancellationRequested)
        {
            // On the load threads, below the priority of those that answer (BackgroundLoads).
            await BackgroundLoads.Run(() => ZoneStateFile.SaveZone(folder, version)).ConfigureAwait(false);
        }
        if (!zone.Stop.IsCancellationRequested)
        {
            ZoneStateFile.SaveTimers(folder, zone.Options.Origin, version.Serial, now);
        }
    }

    private TsigKey? KeyFor(Transfers.NotifyTarget primary)
    {
        if (primary.KeyName is null)
        {
            return null;
        }
        var key = _keys().Find(primary.KeyName);
        if (key is null)
        {
            throw new TransferException($"primary {primary.EndPoint}: TSIG key {primary.KeyName} is not in the keys file");
        }
        if (!key.CanSign)
        {
            throw new TransferException($"primary {primary.EndPoint}: TSIG key {key} cannot sign requests (HMAC-SHA1)");
        }
        return key;
    }

    /// <summary>True when <paramref name="query"/> is a NOTIFY (RFC 1996 §3): the one opcode this class answers.</summary>
    public static bool IsNotify(ReadOnlySpan<byte> query) => query.Length >= Header.Length && ((query[2] >> 3) & 0xF) == (int)Opcode.Notify && (query[2] & 0x80) == 0;

    /// <summary>
    /// Answers a NOTIFY (RFC 1996 §3.7): accepted only for a secondary zone, from the address of one of its primaries,
    /// signed with that primary's key when it has one (RFC 8945); then the zone checks its primaries at once. Refused
    /// otherwise, counted, never logged per packet. Returns the reply's length (0: no reply).
    /// </summary>
    public int AnswerNotify(ReadOnlySpan<byte> query, Span<byte> response, IPAddress client, out Authority.ResponseDecision decision)
    {
        decision = default;
        DnsMessage message;
        try
        {
            message = DnsMessage.Parse(query);
        }
        catch (DnsFormatException)
        {
            Interlocked.Increment(ref _notifiesRefused);
            return 0;
        }
        if (message.Questions.Count != 1)
        {
            Interlocked.Increment(ref _notifiesRefused);
            return 0;
        }
        var question = message.Questions[0];
        var zone = Find(question.Name);
        Transfers.NotifyTarget? from = zone?.Options.Primaries.FirstOrDefault(p => p.EndPoint.Address.Equals(client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client));
        TsigKey? key = null;
        byte[]? requestMac = null;
        bool accepted = zone is not null && from is not null && question.Type == RecordType.SOA;
        if (accepted && from!.KeyName is not null)
        {
            Span<byte> keyName = stackalloc byte[DnsName.MaxLength];
            Span<byte> algorithm = stackalloc byte[DnsName.MaxLength];
            accepted = TsigRecord.Find(query, keyName, algorithm, out var tsig) == TsigPresence.Present
                && TsigVerifier.Verify(query, tsig, _keys(), TsigVerifier.Now(), out key) == TsigVerdict.Verified
                && key is not null && key.Name == from.KeyName && key.CanSign;
            if (accepted)
            {
                requestMac = tsig.Mac.ToArray();
            }
        }
        var reply = new DnsMessage { Id = message.Id, Opcode = Opcode.Notify, IsResponse = true, AuthoritativeAnswer = accepted };
        reply.Questions.Add(question);
        reply.ResponseCode = accepted ? ResponseCode.NoError : ResponseCode.Refused;
        byte[] encoded = reply.Encode();
        if (encoded.Length > response.Length)
        {
            return 0;
        }
        encoded.CopyTo(response);
        int length = encoded.Length;
        if (key is not null && requestMac is not null)
        {
            using var signer = new TsigSigner(key, requestMac);
            length = signer.Sign(response, length, TsigVerifier.Now());
        }
        decision.Rcode = (ushort)reply.ResponseCode;
        decision.QType = (ushort)question.Type;
        decision.Length = length;
        if (accepted)
        {
            Interlocked.Increment(ref _notifiesAccepted);
            LogNotified(_logger, zone!.Options.Origin.ToString(), from!.EndPoint.Address.ToString());
            zone.Wake();
        }
        else
        {
            Interlocked.Increment(ref _notifiesRefused);
        }
        return length;
    }

    public void Dispose()
    {
        // The host disposes the DnsServer that owns this twice (as its singleton and as the hosted service its factory
        // returned): the second time, _stop is already disposed and Cancel would throw out of the host at exit.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        _stop.Cancel();
        Task[] loops;
        lock (_gate)
        {
            loops = [.. _loops];
        }
        try
        {
            Task.WaitAll(loops, TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loops end on cancellation; anything else was logged by them.
        }
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "secondary zone {Origin}: refresh failed: {Problem}; the previous version keeps serving")]
    private static partial void LogRefreshFailed(ILogger logger, string origin, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "secondary zone {Origin}: internal error in its refresh; trying again in 5 s")]
    private static partial void LogLoopFailed(ILogger logger, string origin, Exception error);

    [LoggerMessage(Level = LogLevel.Information, Message = "secondary zone {Origin}: {Primary} refused IXFR ({Problem}); asking AXFR")]
    private static partial void LogIxfrRefused(ILogger logger, string origin, string primary, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "secondary zone {Origin} serial {Serial} expired: not refreshed since {Refreshed:O}; answering SERVFAIL for it")]
    private static partial void LogExpired(ILogger logger, string origin, uint serial, DateTimeOffset refreshed);

    [LoggerMessage(Level = LogLevel.Debug, Message = "secondary zone {Origin}: NOTIFY from {Primary}; checking now")]
    private static partial void LogNotified(ILogger logger, string origin, string primary);

    [LoggerMessage(Level = LogLevel.Error, Message = "secondary zone {Origin}: {Problem}; waiting for a transfer")]
    private static partial void LogStateUnreadable(ILogger logger, string origin, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "secondary zone {Origin} serial {Serial}: {Records} records from the state folder, last refreshed {Refreshed:O}{Expired}")]
    private static partial void LogFromState(ILogger logger, string origin, uint serial, int records, DateTimeOffset refreshed, string expired);

    [LoggerMessage(Level = LogLevel.Error, Message = "secondary zone {Origin}: the state folder: {Error}")]
    private static partial void LogStateNotWritten(ILogger logger, string origin, string error);
}
