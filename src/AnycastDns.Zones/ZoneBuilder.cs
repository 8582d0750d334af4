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
        var grouping = new ZoneGrouping(origin, CountOwnerRuns(records));
        foreach (var record in records)
        {
            grouping.Add(record);
        }
        return Build(grouping, diagnostics, source, options);
    }

    /// <summary>
    /// Builds the zone from records already grouped (<see cref="ZoneLoader"/> groups a large file's records while it is
    /// being read, and keeps no list of them besides): group, adjust, check, freeze.
    /// </summary>
    /// <remarks>
    /// The grouping holds every record as read (an object and an RDATA array each), about as much memory as the zone
    /// itself. So that a load's peak stays close to what it keeps, what reads the records as read runs first (the name
    /// tree's adjustment, the zone rules, which point at file lines, and the signature times), and each owner's records
    /// are let go as soon as its node holds them in final form: the grouping shrinks while the zone grows. What reads
    /// the RRsets (additional-section targets, name servers' addresses, DNSSEC) is adjusted and checked after that.
    /// </remarks>
    internal static Zone? Build(ZoneGrouping grouping, List<ZoneDiagnostic> diagnostics, string source, ZoneLoadOptions? options = null)
    {
        int errorsBefore = ZoneChecks.CountErrors(diagnostics);
        diagnostics.AddRange(grouping.Diagnostics);
        var origin = grouping.Origin;
        var nodes = grouping.Nodes;
        // The owners are handed over: the grouping keeps no reference to them, so that each can go once its node is made.
        var owners = grouping.ReleaseOwners();
        if (ZoneChecks.Apex(grouping, owners, source, diagnostics) is not { } apexData)
        {
            return null;
        }

        // Adjust, then check, on the records as read: the checks read the marks the adjustment sets (apex, cut, CNAME,
        // DNAME, occlusion). Name servers' addresses are checked once the nodes hold their RRsets, from the NS records
        // kept aside.
        ZoneAdjust.NameTree(grouping, owners, apexData.Node);
        var nameServers = ZoneChecks.Owners(origin, owners, diagnostics);
        var signatureTimes = DnssecChecks.ScanSignatureTimes(owners, options ?? ZoneLoadOptions.Default);
        var soa = apexData.Find(RecordType.SOA)!;
        var locations = new DnssecChecks.ApexLocations(
            soa.Records[0].Location,
            apexData.Find(RecordType.NSEC3PARAM)?.Records[0].Location ?? soa.Records[0].Location);
        IReadOnlyList<ZoneRecord> zonemds = apexData.Find(RecordType.ZONEMD)?.Records ?? [];

        var (recordCount, hasDnssecRecords) = MakeNodes(owners, diagnostics);
        var zone = new Zone(origin, nodes, recordCount, source);

        // RFC 8976 §4: a zone that carries ZONEMD records is served only if one of them verifies it. The digest reads
        // names, RDATA and the apex only, which are final by now, so it runs beside the additional-section targets and
        // the checks (which set other fields, or none): on a million names that hides most of its second.
        // Without ZONEMD records nothing decides whether the zone loads, so the digest is left until it is asked for
        // (Zone.Digest): the zone answers that much sooner.
        var digestDiagnostics = new List<ZoneDiagnostic>();
        var digesting = zonemds.Count == 0
            ? Task.FromResult((true, (byte[]?)null))
            : Task.Run(() => (ZonemdVerification.Verify(zone, zonemds, digestDiagnostics, out var sha384), (byte[]?)sha384));

        // The additional-section targets read names and RRsets only, which are final by now: they are found beside the
        // checks, and thrown away with the zone if a check fails.
        var resolving = Task.Run(() => ZoneAdjust.AdditionalTargets(nodes));
        foreach (var ns in nameServers)
        {
            ZoneChecks.NameServerAddresses(origin, nodes, ns, diagnostics);
        }
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
    /// Each owner's node takes its RRsets (<see cref="OwnerData.Node"/>), and the owner's records as read are let go
    /// (the array's slot cleared). Returns the records made, and whether any RRset is of a DNSSEC type (so that a zone
    /// without one skips the DNSSEC adjustment and checks without another walk).
    /// </summary>
    /// <remarks>
    /// Encoding the RRsets of a million owners is the longest step of a build, and each owner's stands alone: large
    /// zones do it in two halves side by side, each with its own record store and warnings (added in order
    /// afterwards, so they read as if made in one pass).
    /// </remarks>
    private static (int Records, bool Dnssec) MakeNodes(OwnerData[] owners, List<ZoneDiagnostic> diagnostics)
    {
        int parts = owners.Length >= ParallelNodesFrom && Environment.ProcessorCount > 1 ? 2 : 1;
        var made = new (List<ZoneDiagnostic> Warnings, int Records, bool Dnssec)[parts];
        Parallel.For(0, parts, part =>
        {
            int from = (int)((long)owners.Length * part / parts), to = (int)((long)owners.Length * (part + 1) / parts);
            made[part] = MakeNodes(owners.AsSpan(from, to - from));
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

    private static (List<ZoneDiagnostic> Warnings, int Records, bool Dnssec) MakeNodes(Span<OwnerData> owners)
    {
        var warnings = new List<ZoneDiagnostic>();
        var store = new RecordStore();
        var scratch = new RRset[8];
        int records = 0;
        bool dnssec = false;
        for (int i = 0; i < owners.Length; i++)
        {
            var owner = owners[i];
            if (scratch.Length < owner.Sets.Length)
            {
                scratch = new RRset[owner.Sets.Length];
            }
            var rrsets = scratch.AsSpan(0, owner.Sets.Length);
            owner.ToRRsets(store, rrsets, warnings);
            owner.Node.CopyRRsets(rrsets);
            foreach (var rrset in rrsets)
            {
                records += rrset.Count;
                dnssec |= DnssecChecks.IsDnssecType(rrset.Type);
            }
            // The node holds the records now: the records as read (objects and RDATA arrays) may go.
            owner.Release();
            owners[i] = null!;
        }
        return (warnings, records, dnssec);
    }

    /// <summary>
    /// Owners in a row of records (the reader gives consecutive records of one owner the same DnsName): the number of
    /// distinct owners when each owner's records stand together, as they do in most files, so the node table is
    /// made at about its final size instead of growing through a million names.
    /// </summary>
    private static int CountOwnerRuns(IReadOnlyList<ZoneRecord> records)
    {
        int runs = 0;
        DnsName? last = null;
        for (int i = 0; i < records.Count; i++)
        {
            if (!ReferenceEquals(records[i].Owner, last))
            {
                runs++;
                last = records[i].Owner;
            }
        }
        return runs;
    }
}
