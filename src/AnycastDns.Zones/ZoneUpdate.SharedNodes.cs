using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// The next version made by sharing every node the update leaves alone (as Knot applies an IXFR to the nodes it
/// changes): a copy of the node table, new nodes for the owners changed, for the apex (its SOA) and for the owners of
/// RRsets whose additional-section targets changed, nothing else. Applying one changed record to a million-name zone
/// then costs the table copy, not a build of every record again.
/// </summary>
/// <remarks>
/// Only for the changes whose effects stay at the owners changed, so that the checks and marks a whole build makes
/// elsewhere in the zone cannot change: an unsigned zone without ZONEMD; no change at the apex but its SOA; owners
/// that are not wildcards, cuts, CNAMEs, DNAMEs nor below a cut or DNAME; records of no type that makes or checks
/// structure (SOA, NS, DS, CNAME, DNAME, ZONEMD, DNSSEC); no name server's address changed. Anything else, and any
/// error in the records, takes the whole build (<see cref="BuildWhole"/>), which says what is wrong.
/// </remarks>
public sealed partial class ZoneUpdate
{
    /// <summary>Owners left empty (gone, unless they have children) that a version may look for children of, one walk of the zone each.</summary>
    private const int MostEmptied = 8;

    /// <summary>Changed owners past which the whole build is as quick (a quarter of the zone's names, at least 64).</summary>
    private int MostChangedOwners => Math.Max(64, _current.NodeCount / 4);

    private Zone? BuildSharingNodes(List<ZoneDiagnostic> diagnostics, string source, (uint Ttl, byte[] Rdata) soa)
    {
        var current = _current;
        var origin = current.Origin;
        if (current.HasDnssecRecords || current.Apex.Get(RecordType.ZONEMD) is not null || _changed.Count > MostChangedOwners
            || (_changed.TryGetValue(origin, out var apexRecords) && !SameAsServed(current.Apex, apexRecords)))
        {
            return null;
        }

        // The changed owners' RRsets, grouped and encoded as a whole build would make them.
        var location = new SourceLocation(source, 1, 1);
        var arena = new RecordArena();
        int emptied = 0;
        foreach (var (owner, list) in _changed)
        {
            if (owner.Equals(origin))
            {
                continue;
            }
            if (!CanShareAround(current, owner))
            {
                return null;
            }
            foreach (var record in list)
            {
                if (!IsPlainType(record.Type))
                {
                    return null;
                }
            }
            emptied += list.Count == 0 ? 1 : 0;
            AddChanged(arena, owner, list, location);
        }
        if (emptied > MostEmptied)
        {
            return null;
        }
        var grouping = new ZoneGrouping(arena, origin, _changed.Count);
        grouping.Add(0, arena.Count);
        if (ZoneChecks.CountErrors(grouping.Diagnostics) > 0)
        {
            return null;
        }

        var nodes = new Dictionary<DnsName, ZoneNode>(current.NodeTable, DnsNameComparer.Instance);
        var store = new RecordStore();
        var warnings = new List<ZoneDiagnostic>(grouping.Diagnostics);
        int records = current.RecordCount;
        var rrsets = new List<RRset>();
        var made = new HashSet<ZoneNode>(ReferenceEqualityComparer.Instance);
        foreach (var owner in grouping.Owners)
        {
            rrsets.Clear();
            foreach (var set in owner.Sets)
            {
                var rrset = set.ToRRset(store, warnings);
                rrsets.Add(rrset);
                records += rrset.Count;
            }
            var before = current.Find(owner.Name);
            records -= before is null ? 0 : CountRecords(before);
            var node = owner.Node;
            node.CopyRRsets(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(rrsets));
            node.WildcardChild = before?.WildcardChild;
            nodes[before?.Name ?? owner.Name] = node;
            made.Add(node);
        }

        // Owners left without records: gone, with the empty non-terminals above them that nothing else needs; an owner
        // with names below it stays, empty (RFC 4592 §2.2.2).
        var gone = new HashSet<DnsName>(DnsNameComparer.Instance);
        foreach (var (owner, list) in _changed)
        {
            if (list.Count > 0 || owner.Equals(origin) || current.Find(owner) is not { } before)
            {
                continue;
            }
            records -= CountRecords(before);
            nodes[before.Name] = before.With([]);
            for (var name = before.Name; !name.Equals(origin) && nodes[name].IsEmptyNonTerminal && !HasChild(nodes, name); name = name.Parent())
            {
                nodes.Remove(name);
                gone.Add(name);
            }
        }

        // The apex takes the new SOA.
        var apexSets = new List<RRset>();
        foreach (var rrset in current.Apex.RRsets)
        {
            apexSets.Add(rrset.Type == RecordType.SOA ? new RRset(RecordType.SOA, soa.Ttl, [soa.Rdata]) : rrset);
        }
        nodes[origin] = current.Apex.With(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(apexSets));

        // Parents for the new nodes: the names between each and the nearest one already there are empty non-terminals.
        foreach (var node in made)
        {
            var child = node;
            while (true)
            {
                var parentName = child.Name.Parent();
                if (nodes.TryGetValue(parentName, out var parent))
                {
                    child.Parent = parent;
                    break;
                }
                parent = new ZoneNode(parentName, []);
                nodes.Add(parentName, parent);
                child.Parent = parent;
                child = parent;
            }
        }

        // The RRsets pointing at a changed owner find their targets again (RFC 1034 §4.3.2 step 6), in new nodes, so that
        // the version served keeps its own.
        if (!Retarget(nodes, made, gone))
        {
            return null;
        }

        diagnostics.AddRange(warnings);
        var zone = new Zone(origin, nodes, records, source);
        zone.SetDigest(() => ZoneDigest.Compute(zone, ZonemdHashAlgorithm.Sha384));
        return zone;
    }

    /// <summary>
    /// The next version of <paramref name="current"/> from a reload of its file, when the differences stay at their
    /// owners: each owner read is compared with the node served, and only those that differ (and those gone) are
    /// changed, sharing every other node (<see cref="BuildSharingNodes"/>). Null when they do not stay there, when the
    /// records read have errors, or when too many owners differ: the caller builds the whole zone from
    /// <paramref name="grouping"/>, which reports what is wrong. Reloading one edited record of a million names then
    /// makes a handful of nodes, not a million.
    /// </summary>
    internal static Zone? FromReload(Zone current, ZoneGrouping grouping, List<ZoneDiagnostic> diagnostics, string source)
    {
        var origin = current.Origin;
        // The apex as a whole build checks it first (one SOA, NS records): anything wrong is left to that build to say.
        var problems = new List<ZoneDiagnostic>(grouping.Diagnostics);
        if (!origin.Equals(grouping.Origin) || current.HasDnssecRecords
            || ZoneChecks.Apex(grouping, source, problems) is not { } apex || ZoneChecks.CountErrors(problems) > 0)
        {
            return null;
        }
        var soa = apex.Find(RecordType.SOA)!.Value[0];
        var update = new ZoneUpdate(current) { _soa = (soa.Ttl, soa.Rdata.ToArray()) };
        // False once too many owners differ for sharing to be quicker than the whole build.
        bool MarkChanged(DnsName name, List<Change> records)
        {
            update._changed[name] = records;
            return update._changed.Count <= update.MostChangedOwners;
        }
        foreach (var owner in grouping.Owners)
        {
            var before = owner.ServedNode ?? current.Find(owner.Name);
            if (before is not null && SameRecords(before, owner))
            {
                continue;
            }
            var records = new List<Change>();
            foreach (var set in owner.Sets)
            {
                if (set.Type == RecordType.SOA && before is { IsApex: true })
                {
                    continue; // the new SOA is set above
                }
                uint ttl = set[0].Ttl;
                foreach (var record in set)
                {
                    records.Add(new Change(set.Type, RRsetData.ServedTtl(set.Type, ttl, record.Ttl), record.Rdata.ToArray()));
                }
            }
            if (!MarkChanged(before?.Name ?? owner.Name, records))
            {
                return null;
            }
        }
        foreach (var node in current.Nodes)
        {
            if (!node.IsEmptyNonTerminal && !grouping.Nodes.ContainsKey(node.Name) && !MarkChanged(node.Name, []))
            {
                return null;
            }
        }
        var zone = update.BuildSharingNodes(problems, source, update._soa.Value);
        if (zone is not null)
        {
            diagnostics.AddRange(problems);
        }
        return zone;
    }

    /// <summary>
    /// True when the owner read holds exactly the records the node serves, TTLs as the RRset keeps them and in the same
    /// order; the apex's SOA apart (the new one is set whatever it is).
    /// </summary>
    private static bool SameRecords(ZoneNode node, OwnerData owner)
    {
        int sets = 0;
        foreach (var set in owner.Sets)
        {
            sets++;
            if (node.IsApex && set.Type == RecordType.SOA)
            {
                continue;
            }
            if (node.Get(set.Type) is not { } served || served.Count != set.Count)
            {
                return false;
            }
            uint ttl = set[0].Ttl;
            int i = 0;
            foreach (var record in set)
            {
                if (served.RecordTtl(i) != RRsetData.ServedTtl(set.Type, ttl, record.Ttl) || !served.Rdata(i).SequenceEqual(record.Rdata))
                {
                    return false;
                }
                i++;
            }
        }
        return sets == node.RRsets.Length;
    }

    /// <summary>
    /// Every RRset with targets whose target is a changed owner, or that a changed owner's new node holds (<paramref name="made"/>:
    /// its RRsets are new, their targets not found yet), finds its targets in the new version; its node is replaced
    /// when it was shared. False when a name server's address changed: the whole build checks that every in-zone name
    /// server still has one.
    /// </summary>
    private bool Retarget(Dictionary<DnsName, ZoneNode> nodes, HashSet<ZoneNode> made, HashSet<DnsName> gone)
    {
        var changed = new HashSet<DnsName>(_changed.Keys, DnsNameComparer.Instance);
        changed.UnionWith(gone);
        var changedLookup = changed.GetAlternateLookup<ReadOnlySpan<byte>>();
        var lookup = nodes.GetAlternateLookup<ReadOnlySpan<byte>>();
        var scratch = new List<ZoneNode>();
        var replace = new List<(DnsName Name, ZoneNode Node)>();
        foreach (var (name, node) in nodes)
        {
            bool isNew = made.Contains(node);
            RRset[]? sets = null;
            var held = node.RRsets;
            for (int s = 0; s < held.Length; s++)
            {
                var rrset = held[s];
                if (!ZoneAdjust.HasTargets(rrset.Type))
                {
                    continue;
                }
                bool pointsAtChange = false;
                for (int i = 0; i < rrset.Count && !pointsAtChange; i++)
                {
                    pointsAtChange = changedLookup.Contains(RdataLayout.TargetName(rrset.Type, rrset.Rdata(i)));
                }
                if (!pointsAtChange && !isNew)
                {
                    continue;
                }
                if (rrset.Type == RecordType.NS)
                {
                    return false;
                }
                sets ??= held.ToArray();
                sets[s] = rrset.WithTargets(ZoneAdjust.FindTargets(rrset, lookup, scratch));
            }
            if (sets is not null)
            {
                replace.Add((name, node.With(sets)));
            }
        }
        foreach (var (name, node) in replace)
        {
            nodes[name] = node;
        }
        return true;
    }

    /// <summary>
    /// True when a change at <paramref name="owner"/> stays there: its node (or, for a new name, the nearest name above it
    /// that the zone has) is no wildcard, cut, CNAME or DNAME and lies below none, and no new name is a wildcard.
    /// </summary>
    private static bool CanShareAround(Zone current, DnsName owner)
    {
        if (owner.IsWildcard)
        {
            return false;
        }
        var node = current.Find(owner);
        if (node is not null)
        {
            return !node.IsApex && !node.IsDelegation && !node.IsOccluded && !node.IsNsec3Owner && node.Cname is null && node.Dname is null;
        }
        for (var name = owner.Parent(); name.LabelCount >= current.Origin.LabelCount; name = name.Parent())
        {
            if (current.Find(name) is { } above)
            {
                return !above.IsDelegation && !above.IsOccluded && !above.IsWildcard && above.Dname is null && above.Cname is null;
            }
            if (name.IsWildcard)
            {
                return false;
            }
        }
        return false;
    }

    /// <summary>Types whose records change nothing beyond their owner (and the targets that point at it, found again).</summary>
    private static bool IsPlainType(RecordType type) =>
        type is not (RecordType.SOA or RecordType.NS or RecordType.DS or RecordType.CNAME or RecordType.DNAME or RecordType.ZONEMD)
        && !DnssecChecks.IsDnssecType(type);

    /// <summary>True when the apex's records as changed are still the ones served, its SOA apart.</summary>
    private static bool SameAsServed(ZoneNode apex, List<Change> records)
    {
        int served = 0;
        foreach (var rrset in apex.RRsets)
        {
            if (rrset.Type == RecordType.SOA)
            {
                continue;
            }
            for (int i = 0; i < rrset.Count; i++, served++)
            {
                if (IndexOf(records, rrset.Type, rrset.Rdata(i)) is var at && (at < 0 || records[at].Ttl != rrset.RecordTtl(i)))
                {
                    return false;
                }
            }
        }
        return served == records.Count;
    }

    private static int CountRecords(ZoneNode node)
    {
        int count = 0;
        foreach (var rrset in node.RRsets)
        {
            count += rrset.Count;
        }
        return count;
    }

    /// <summary>True when the zone has a name one label below <paramref name="name"/>: a walk of every name.</summary>
    private static bool HasChild(Dictionary<DnsName, ZoneNode> nodes, DnsName name)
    {
        int labels = name.LabelCount + 1;
        foreach (var other in nodes.Keys)
        {
            if (other.LabelCount == labels && other.IsSubdomainOf(name))
            {
                return true;
            }
        }
        return false;
    }
}
