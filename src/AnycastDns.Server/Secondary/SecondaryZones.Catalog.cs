using AnycastDns.Protocol;
using AnycastDns.Zones;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server.Secondary;

/// <summary>The catalog consumer (RFC 9432): a catalog version's members become, stay, or stop being secondary zones.</summary>
internal sealed partial class SecondaryZones
{
    /// <summary>How long a removed member's refresh loop may take to end (its transfer is cancelled) before its state goes.</summary>
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(10);

    /// <summary>
    /// What one catalog version changes: zones stopped whose state goes (removed, or reset by a new unique id), zones
    /// stopped whose state is taken over (their primaries or catalog changed), and zones started.
    /// </summary>
    private sealed record CatalogChange(List<SecondaryZone> Removed, List<SecondaryZone> Replaced, List<SecondaryZone> Added, List<string> LeftOut);

    /// <summary>Reads a new catalog version and applies it: the new member set at once, then the loops stopped and started.</summary>
    private async Task ApplyCatalogAsync(SecondaryZone catalog, Zone version)
    {
        var change = ApplyCatalog(catalog, version);
        if (change is null)
        {
            return;
        }
        string folder = _options.StateFolder!;
        foreach (var zone in change.Removed.Concat(change.Replaced))
        {
            await zone.Stop.CancelAsync().ConfigureAwait(false);
            if (zone.Loop is { } loop)
            {
                await Task.WhenAny(loop, Task.Delay(StopWait)).ConfigureAwait(false);
            }
        }
        foreach (var zone in change.Removed)
        {
            // RFC 9432 §5.3: a member removed from the catalog that configured it loses its data and state.
            ZoneStateFile.Delete(folder, zone.Options.Origin);
            if (zone.Served is { } served)
            {
                await _publish!(new ZoneChange(ZoneChangeKind.Removed, zone.Options.Origin, $"catalog {catalog.Options.Origin}", served, null, []), false).ConfigureAwait(false);
            }
        }
        var fromState = new List<SecondaryZone>();
        lock (_gate)
        {
            foreach (var zone in change.Added)
            {
                if (zone.Current is null)
                {
                    // Kept by an earlier run (a member removed while this server was down and listed again since).
                    LoadKept(zone);
                    if (zone.Current is not null)
                    {
                        fromState.Add(zone);
                    }
                }
                StartLoop(zone);
            }
        }
        foreach (var zone in fromState.Where(z => z.Served is not null))
        {
            await _publish!(new ZoneChange(ZoneChangeKind.Added, zone.Options.Origin, zone.Source ?? "the state folder", null, zone.Served, []), false).ConfigureAwait(false);
        }
        if (change.Added.Count > 0)
        {
            // Members not transferred yet: in the snapshot as not ready (SERVFAIL, as for any secondary zone) until they are.
            await _publish!(null, false).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads <paramref name="version"/> of <paramref name="catalog"/> and puts its member set in place of the previous
    /// one (one swap of the registry); null when the catalog is broken (RFC 9432 §5.1: nothing changes). Logs one line
    /// per member left out and one for the version.
    /// </summary>
    private CatalogChange? ApplyCatalog(SecondaryZone catalog, Zone version)
    {
        var options = catalog.CatalogOptions!;
        string origin = options.Origin.ToString();
        var leftOut = new List<string>();
        var members = CatalogZone.Read(version, leftOut, out string? broken);
        if (members is null)
        {
            catalog.CatalogProblem = broken;
            LogCatalogBroken(_logger, origin, version.Serial, broken!);
            return null;
        }
        var change = new CatalogChange([], [], [], leftOut);
        lock (_gate)
        {
            var registry = _registry;
            var byOrigin = new Dictionary<DnsName, SecondaryZone>(registry.ByOrigin, DnsNameComparer.Instance);
            var listed = new HashSet<DnsName>(DnsNameComparer.Instance);
            foreach (var member in members)
            {
                listed.Add(member.Zone);
                var primaries = PrimariesOf(options, member);
                var existing = byOrigin.GetValueOrDefault(member.Zone);
                if (existing is null)
                {
                    if (IsFileZone?.Invoke(member.Zone) == true)
                    {
                        leftOut.Add($"member {member.Zone} (id {member.Id}): a zone file serves it here; not taken (RFC 9432 §5.2)");
                        continue;
                    }
                    var taken = new SecondaryZone(new SecondaryZoneOptions(member.Zone, primaries), catalog: options.Origin) { Member = member };
                    byOrigin[member.Zone] = taken;
                    change.Added.Add(taken);
                }
                else if (existing.Catalog == options.Origin)
                {
                    if (existing.Member?.Id != member.Id)
                    {
                        // RFC 9432 §5.4: a new unique id is the removal of the member with all its state, then a new member.
                        var fresh = new SecondaryZone(new SecondaryZoneOptions(member.Zone, primaries), catalog: options.Origin) { Member = member };
                        byOrigin[member.Zone] = fresh;
                        change.Removed.Add(existing);
                        change.Added.Add(fresh);
                        LogMemberReset(_logger, origin, member.Zone.ToString(), existing.Member?.Id ?? "?", member.Id);
                    }
                    else if (!existing.Options.Primaries.SequenceEqual(primaries))
                    {
                        var moved = TakeOver(existing, new SecondaryZoneOptions(member.Zone, primaries), options.Origin, member);
                        byOrigin[member.Zone] = moved;
                        change.Replaced.Add(existing);
                        change.Added.Add(moved);
                    }
                    else
                    {
                        existing.Member = member;
                    }
                }
                else if (existing.Catalog is { } owner && existing.Member?.ChangeOfOwnership == options.Origin)
                {
                    // RFC 9432 §4.4.1: the old catalog's coo names this one and still does: the member moves here; its
                    // state goes with it only when its unique id is the same in both.
                    var moved = existing.Member.Id == member.Id
                        ? TakeOver(existing, new SecondaryZoneOptions(member.Zone, primaries), options.Origin, member)
                        : new SecondaryZone(new SecondaryZoneOptions(member.Zone, primaries), catalog: options.Origin) { Member = member };
                    byOrigin[member.Zone] = moved;
                    (existing.Member.Id == member.Id ? change.Replaced : change.Removed).Add(existing);
                    change.Added.Add(moved);
                    LogMemberMoved(_logger, member.Zone.ToString(), owner.ToString(), origin);
                }
                else
                {
                    string what = existing.CatalogOptions is not null ? "a catalog zone"
                        : existing.Catalog is { } other ? $"a member of catalog {other}"
                        : "a zone of Secondary:Zones";
                    leftOut.Add($"member {member.Zone} (id {member.Id}): already {what}; not taken (RFC 9432 §5.2)");
                }
            }
            foreach (var zone in registry.All)
            {
                if (zone.Catalog == options.Origin && !listed.Contains(zone.Options.Origin) && byOrigin.GetValueOrDefault(zone.Options.Origin) == zone)
                {
                    byOrigin.Remove(zone.Options.Origin);
                    change.Removed.Add(zone);
                }
            }
            var gone = new HashSet<SecondaryZone>(change.Removed.Concat(change.Replaced));
            var all = new List<SecondaryZone>(registry.All.Count + change.Added.Count);
            all.AddRange(registry.All.Where(z => !gone.Contains(z)));
            all.AddRange(change.Added);
            Volatile.Write(ref _registry, new Registry(byOrigin, all));
            catalog.MemberCount = all.Count(z => z.Catalog == options.Origin);
            catalog.CatalogProblem = null;
        }
        foreach (string line in leftOut)
        {
            LogMemberLeftOut(_logger, origin, version.Serial, line);
        }
        try
        {
            ZoneStateFile.SaveCatalog(_options.StateFolder!, version);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The members are applied; only a restart after a broken version would miss this one.
            LogCatalogNotKept(_logger, origin, e.Message);
        }
        int removed = change.Removed.Count(z => !change.Added.Any(a => a.Options.Origin == z.Options.Origin));
        int added = change.Added.Count(a => !change.Removed.Concat(change.Replaced).Any(z => z.Options.Origin == a.Options.Origin));
        LogCatalogApplied(_logger, origin, version.Serial, catalog.MemberCount, added, removed, leftOut.Count);
        return change;
    }

    /// <summary>A member with other options (primaries, catalog) keeping the version it serves and its timers.</summary>
    private static SecondaryZone TakeOver(SecondaryZone old, SecondaryZoneOptions options, DnsName catalog, CatalogMember member) =>
        new(options, catalog: catalog)
        {
            Member = member,
            Current = old.Current,
            LastRefresh = old.LastRefresh,
            Source = old.Source,
            Expired = old.Expired,
        };

    /// <summary>The primaries of a member: those of its group in <c>Groups</c>, else the catalog's (an unknown group logged once).</summary>
    private IReadOnlyList<Transfers.NotifyTarget> PrimariesOf(CatalogOptions catalog, CatalogMember member)
    {
        if (member.Group is not { } group)
        {
            return catalog.Primaries;
        }
        if (catalog.Groups.TryGetValue(group, out var primaries))
        {
            return primaries;
        }
        // RFC 9432 §4.4.2: a value the consumer does not understand is ignored.
        if (_unknownGroups.Add($"{catalog.Origin} {group}"))
        {
            LogUnknownGroup(_logger, catalog.Origin.ToString(), group, member.Zone.ToString());
        }
        return catalog.Primaries;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "catalog {Catalog} serial {Serial} is not processed: {Problem}; the previous members stay")]
    private static partial void LogCatalogBroken(ILogger logger, string catalog, uint serial, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "catalog {Catalog} serial {Serial}: {Problem}")]
    private static partial void LogMemberLeftOut(ILogger logger, string catalog, uint serial, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "catalog {Catalog} serial {Serial}: {Members} members ({Added} added, {Removed} removed, {LeftOut} left out)")]
    private static partial void LogCatalogApplied(ILogger logger, string catalog, uint serial, int members, int added, int removed, int leftOut);

    [LoggerMessage(Level = LogLevel.Information, Message = "catalog {Catalog}: member {Zone} changed unique id {Old} -> {New}; its state is reset and it is transferred again (RFC 9432 §5.4)")]
    private static partial void LogMemberReset(ILogger logger, string catalog, string zone, string old, string @new);

    [LoggerMessage(Level = LogLevel.Information, Message = "member {Zone} moves from catalog {Old} to catalog {New} (coo, RFC 9432 §4.4.1)")]
    private static partial void LogMemberMoved(ILogger logger, string zone, string old, string @new);

    [LoggerMessage(Level = LogLevel.Warning, Message = "catalog {Catalog}: group '{Group}' (member {Zone}) is not in Groups; its members use the catalog's primaries")]
    private static partial void LogUnknownGroup(ILogger logger, string catalog, string group, string zone);

    [LoggerMessage(Level = LogLevel.Error, Message = "catalog {Catalog}: the state folder: {Error}")]
    private static partial void LogCatalogNotKept(ILogger logger, string catalog, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "catalog {Catalog} serial {Serial} expired: not refreshed since {Refreshed:O}; its members stay as they are until it is fresh again (RFC 9432 §5.1)")]
    private static partial void LogCatalogExpired(ILogger logger, string catalog, uint serial, DateTimeOffset refreshed);
}
