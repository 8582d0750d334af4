using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// Turns parsed records into a <see cref="Zone"/>: the records are grouped by owner and type
/// (<see cref="ZoneGrouping"/>), the node state answering relies on is set (<see cref="ZoneAdjust"/>), the zone rules
/// named-checkzone and kzonecheck apply are checked (<see cref="ZoneChecks"/>, <see cref="DnssecChecks"/>), and the zone
/// is frozen with its digest, its ZONEMD records verified when it has any (RFC 8976 §4). A zone with any error is not
/// built at all: never half a zone.
/// </summary>
public static class ZoneBuilder
{
    /// <summary>Builds the zone, or returns null and adds the reasons to <paramref name="diagnostics"/>.</summary>
    public static Zone? Build(DnsName origin, IReadOnlyList<ZoneRecord> records, List<ZoneDiagnostic> diagnostics, string source, ZoneLoadOptions? options = null)
    {
        // Records from elsewhere (a transfer, a test) are built the way a zone file's are: put into an arena, grouped.
        var arena = new RecordArena();
        foreach (var record in records)
        {
            arena.Add(record.Owner, record.Type, record.Class, record.Ttl, record.Rdata, record.Location);
        }
        return Build(origin, arena, diagnostics, source, options);
    }

    /// <summary>
    /// Builds the zone from the first <paramref name="count"/> of the records received (a transfer, RFC 5936): they are
    /// in an arena already, as a zone file's are.
    /// </summary>
    public static Zone? Build(DnsName origin, TransferRecords records, int count, List<ZoneDiagnostic> diagnostics, string source, ZoneLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, records.Count);
        var grouping = new ZoneGrouping(records.Arena, origin, records.Arena.OwnerRuns);
        grouping.Add(0, count);
        return Build(grouping, diagnostics, source, options);
    }

    private static Zone? Build(DnsName origin, RecordArena arena, List<ZoneDiagnostic> diagnostics, string source, ZoneLoadOptions? options)
    {
        var grouping = new ZoneGrouping(arena, origin, arena.OwnerRuns);
        grouping.Add(0, arena.Count);
        return Build(grouping, diagnostics, source, options);
    }

    /// <summary>
    /// Builds the zone from records already grouped (<see cref="ZoneLoader"/> groups a large file's records while it is
    /// being read): adjust, check, freeze.
    /// </summary>
    /// <remarks>
    /// What reads the records as read runs first (the name tree's adjustment, the zone rules, which point at file lines,
    /// and the signature times); then each owner's node takes its RRsets in final form, and the records as read go back
    /// as they are copied (a chunk of them once its last record is in the zone), so that on a million names the zone
    /// grows into the memory they leave. The name servers' addresses are checked on the RRsets made, with the NS
    /// records' places kept for the errors. What reads the RRsets (additional-section targets, DNSSEC) is adjusted and
    /// checked after that.
    /// </remarks>
    internal static Zone? Build(ZoneGrouping grouping, List<ZoneDiagnostic> diagnostics, string source, ZoneLoadOptions? options = null)
    {
        int errorsBefore = ZoneChecks.CountErrors(diagnostics);
        diagnostics.AddRange(grouping.Diagnostics);
        // A reload's owners may be grouped under the served nodes (a reload that shares nodes needs no others): the
        // build fills nodes of its own.
        grouping.MakeOwnNodes();
        var origin = grouping.Origin;
        var nodes = grouping.Nodes;
        if (ZoneChecks.Apex(grouping, source, diagnostics) is not { } apexData)
        {
            return null;
        }

        // Adjust, then check, on the records as read: the checks read the marks the adjustment sets (apex, cut, CNAME,
        // DNAME, occlusion). Name servers' addresses are checked once the nodes hold their RRsets.
        ZoneAdjust.NameTree(grouping, apexData.Node);
        var nameServers = ZoneChecks.Owners(grouping, diagnostics);
        var signatureTimes = DnssecChecks.ScanSignatureTimes(grouping, options ?? ZoneLoadOptions.Default);
        var soa = apexData.Find(RecordType.SOA)!.Value;
        var locations = new DnssecChecks.ApexLocations(
            soa[0].Location,
            apexData.Find(RecordType.NSEC3PARAM)?[0].Location ?? soa[0].Location);
        IReadOnlyList<ZoneRecord> zonemds = apexData.Find(RecordType.ZONEMD)?.ToZoneRecords() ?? [];

        var (recordCount, hasDnssecRecords) = MakeNodes(grouping, diagnostics);
        var zone = new Zone(origin, nodes, recordCount, source) { HasDnssecRecords = hasDnssecRecords };

        // RFC 8976 §4: a zone that carries ZONEMD records is served only if one of them verifies it. The digest reads
        // names, RDATA and the apex only, which are final by now, so it runs beside the additional-section targets and
        // the checks (which set other fields, or none): on a million names that hides most of its second.
        // Without ZONEMD records nothing decides whether the zone loads, so the digest is left until it is asked for
        // (Zone.Digest): the zone answers that much sooner.
        var digestDiagnostics = new List<ZoneDiagnostic>();
        var digesting = zonemds.Count == 0
            ? Task.FromResult((true, (byte[]?)null))
            : Beside(() => (ZonemdVerification.Verify(zone, zonemds, digestDiagnostics, out var sha384), (byte[]?)sha384));

        // The additional-section targets read names and RRsets only, which are final by now: they are found beside the
        // checks, and thrown away with the zone if a check fails.
        var resolving = Beside(() => ZoneAdjust.AdditionalTargets(nodes));
        ZoneChecks.NameServerAddresses(origin, nodes, nameServers, diagnostics);
        // Nothing reads the records as read any more (most went back as their nodes were made): the DNSSEC chains and
        // the digest are made without them.
        grouping.Release();
        bool checksPassed = ZoneChecks.CountErrors(diagnostics) == errorsBefore;
        resolving.GetAwaiter().GetResult();
        var (verified, digest) = digesting.GetAwaiter().GetResult();
        if (!checksPassed)
        {
            // As if the digest had never been taken: a zone that fails its checks says nothing about its ZONEMD.
            return null;
        }

        // DNSSEC: signatures per RRset and the NSEC/NSEC3 chains in order, then the checks of a signed zone.
        ZoneAdjust.Dnssec(zone, hasDnssecRecords, signatureTimes.EarliestExpiry);
        if (!DnssecChecks.Check(zone, locations, signatureTimes, diagnostics, hasDnssecRecords))
        {
            return null;
        }

        // Freeze: the zone is served only with a digest that verified, or one computed when first asked.
        diagnostics.AddRange(digestDiagnostics);
        if (!verified)
        {
            return null;
        }
        if (digest is null)
        {
            zone.SetDigest(() => ZoneDigest.Compute(zone, ZonemdHashAlgorithm.Sha384));
        }
        else
        {
            zone.SetDigest(digest);
        }
        return zone;
    }

    /// <summary>Owners from which <see cref="MakeNodes"/> runs in two halves side by side.</summary>
    private const int ParallelNodesFrom = 50_000;

    /// <summary>
    /// Work beside the build, on the scheduler the build runs on: a reload's threads of lower priority (the server's
    /// BackgroundLoads), which Task.Run would leave for the thread pool, or the pool itself.
    /// </summary>
    private static Task Beside(Action work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Current);

    private static Task<T> Beside<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Current);

    /// <summary>
    /// Each owner's node takes its RRsets (<see cref="OwnerData.Node"/>). Returns the records made, and whether any RRset
    /// is of a DNSSEC type (so that a zone without one skips the DNSSEC adjustment and checks without another walk).
    /// </summary>
    /// <remarks>
    /// Encoding the RRsets of a million owners is the longest step of a build, and each owner's stands alone: large
    /// zones do it in two halves side by side, each with its own record store and warnings (added in order
    /// afterwards, so they read as if made in one pass).
    /// </remarks>
    private static (int Records, bool Dnssec) MakeNodes(ZoneGrouping grouping, List<ZoneDiagnostic> diagnostics)
    {
        int owners = grouping.OwnerCount;
        int parts = owners >= ParallelNodesFrom && Environment.ProcessorCount > 1 ? 2 : 1;
        var made = new (List<ZoneDiagnostic> Warnings, int Records, bool Dnssec)[parts];
        // The encoded records take TYPE, CLASS, TTL and RDLENGTH (10 octets) and the RDATA each: the records as read
        // say how much (a little more where duplicates are dropped), so that a small zone's one block fits it.
        long encoded = grouping.Arena.Count * 10L + grouping.Arena.RdataOctets;
        Parallel.For(0, parts, part =>
        {
            int from = (int)((long)owners * part / parts), to = (int)((long)owners * (part + 1) / parts);
            made[part] = MakeNodes(grouping, from, to, (int)Math.Min(encoded / parts, int.MaxValue));
        });
        int records = 0;
        bool dnssec = false;
        foreach (var (warnings, count, dnssecTypes) in made)
        {
            diagnostics.AddRange(warnings);
            records += count;
            dnssec |= dnssecTypes;
        }
        return (records, dnssec);
    }

    private static (List<ZoneDiagnostic> Warnings, int Records, bool Dnssec) MakeNodes(ZoneGrouping grouping, int from, int to, int expectedOctets)
    {
        var warnings = new List<ZoneDiagnostic>();
        var store = new RecordStore(expectedOctets);
        var scratch = new RRset[8];
        int records = 0;
        bool dnssec = false;
        for (int i = from; i < to; i++)
        {
            var owner = grouping.Owner(i);
            int count = 0;
            foreach (var set in owner.Sets)
            {
                if (count == scratch.Length)
                {
                    Array.Resize(ref scratch, count * 2);
                }
                var rrset = scratch[count++] = set.ToRRset(store, warnings);
                set.Consume();
                records += rrset.Count;
                dnssec |= DnssecChecks.IsDnssecType(rrset.Type);
            }
            owner.Node.CopyRRsets(scratch.AsSpan(0, count));
        }
        return (warnings, records, dnssec);
    }
}
