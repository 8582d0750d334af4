using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// Sets the node state answering relies on: each node's parent, the empty non-terminals, wildcard children, the apex,
/// cut and CNAME/DNAME marks, occlusion below cuts and DNAMEs, the additional-section targets, and a signed zone's
/// covering signatures and denial chains. Reports nothing: what is wrong with a zone is <see cref="ZoneChecks"/>'s to
/// say, and an answer never depends on a check having run (as Knot keeps adjust.c apart from semantic-check.c).
/// </summary>
internal static class ZoneAdjust
{
    /// <summary>
    /// The name tree, on the records as read (before the nodes hold their RRsets): parents and empty non-terminals,
    /// wildcard children, the apex, cut and CNAME/DNAME marks, and occlusion. The checks read these marks.
    /// </summary>
    public static void NameTree(ZoneGrouping grouping, ZoneNode apex)
    {
        LinkParents(grouping, apex);
        bool cutsOrDnames = false;
        foreach (var owner in grouping.Owners)
        {
            var node = owner.Node;
            node.IsApex = node == apex;
            node.IsDelegation = !node.IsApex && owner.Find(RecordType.NS) is not null;
            node.MarkTypes(owner.Find(RecordType.CNAME) is not null, owner.Find(RecordType.DNAME) is not null);
            cutsOrDnames |= node.IsDelegation || node.HasDnameRecords;
        }
        if (cutsOrDnames)
        {
            MarkOccluded(grouping.Nodes);
        }
    }

    /// <summary>
    /// Parents and empty non-terminals in one pass over the owners: every name between an owner and the apex exists
    /// (RFC 4592 §2.2.2). A parent is probed as a wire suffix; a missing one becomes an empty non-terminal whose own
    /// parent is looked for in turn. The new nodes wait in a table of their own and join the zone's table at once.
    /// </summary>
    private static void LinkParents(ZoneGrouping grouping, ZoneNode apex)
    {
        var origin = grouping.Origin;
        var nodes = grouping.Nodes;
        var nodeLookup = nodes.GetAlternateLookup<ReadOnlySpan<byte>>();
        var emptyNonTerminals = new Dictionary<DnsName, ZoneNode>(DnsNameComparer.Instance);
        var emptyLookup = emptyNonTerminals.GetAlternateLookup<ReadOnlySpan<byte>>();
        for (int i = 0; i < grouping.OwnerCount; i++)
        {
            // Up from the owner until a parent that already exists: only a new empty non-terminal needs its own.
            for (var node = grouping.OwnerNode(i); node != apex;)
            {
                // Most names sit right below the apex: a parent as long as the origin is the apex.
                var parentWire = node.Name.Wire[(node.Name.Wire[0] + 1)..];
                ZoneNode? parent = parentWire.Length == origin.Length ? apex
                    : nodeLookup.TryGetValue(parentWire, out var found) || emptyLookup.TryGetValue(parentWire, out found) ? found
                    : null;
                bool created = parent is null;
                if (parent is null)
                {
                    var name = DnsName.FromWire(parentWire);
                    emptyNonTerminals.Add(name, parent = new ZoneNode(name, []));
                }
                node.Parent = parent;
                if (node.IsWildcard)
                {
                    parent.WildcardChild = node;
                }
                node = created ? parent : apex;
            }
        }
        grouping.FitNodeTable(emptyNonTerminals.Count);
        foreach (var (name, node) in emptyNonTerminals)
        {
            nodes.Add(name, node);
        }
    }

    /// <summary>
    /// Every node below a cut or a DNAME, owner or empty non-terminal, is occluded (RFC 1034 §4.2.1, RFC 6672 §2.4): its
    /// data is glue or unreachable. So a lookup that finds a node not occluded knows no cut or DNAME lies between it and
    /// the apex, and answers from it alone.
    /// </summary>
    private static void MarkOccluded(Dictionary<DnsName, ZoneNode> nodes)
    {
        foreach (var node in nodes.Values)
        {
            for (var up = node.Parent; up is not null; up = up.Parent)
            {
                if (up.IsDelegation || up.HasDnameRecords)
                {
                    node.IsOccluded = true;
                    break;
                }
            }
        }
    }

    /// <summary>
    /// Resolves the in-zone nodes that NS, MX, SRV (RFC 1034 §4.3.2 step 6, RFC 2782) and SVCB/HTTPS (RFC 9460 §4.5)
    /// targets name, once the nodes hold their RRsets. Glue counts: like Knot and NSD we hand out an address we hold even
    /// when it sits below a cut.
    /// </summary>
    public static void AdditionalTargets(Dictionary<DnsName, ZoneNode> nodes)
    {
        var lookup = nodes.GetAlternateLookup<ReadOnlySpan<byte>>();
        var targets = new List<ZoneNode>();
        foreach (var node in nodes.Values)
        {
            foreach (var rrset in node.RRsets)
            {
                if (!HasTargets(rrset.Type))
                {
                    continue;
                }
                rrset.AdditionalTargets = FindTargets(rrset, lookup, targets);
            }
        }
    }

    /// <summary>The types whose records name a target that additional-section processing looks up.</summary>
    public static bool HasTargets(RecordType type) =>
        type is RecordType.NS or RecordType.MX or RecordType.SRV or RecordType.SVCB or RecordType.HTTPS;

    /// <summary>The nodes holding useful data for <paramref name="rrset"/>'s targets, each once, in record order.</summary>
    public static ZoneNode[] FindTargets(RRset rrset, Dictionary<DnsName, ZoneNode>.AlternateLookup<ReadOnlySpan<byte>> lookup, List<ZoneNode> scratch)
    {
        scratch.Clear();
        for (int i = 0; i < rrset.Count; i++)
        {
            var target = RdataLayout.TargetName(rrset.Type, rrset.Rdata(i));
            if (target.IsEmpty || !lookup.TryGetValue(target, out var t))
            {
                continue;
            }
            bool useful = t.Get(RecordType.A) is not null || t.Get(RecordType.AAAA) is not null
                || (rrset.Type is RecordType.SVCB or RecordType.HTTPS && t.Get(rrset.Type) is not null);
            if (useful && !scratch.Contains(t))
            {
                scratch.Add(t);
            }
        }
        return scratch.Count == 0 ? [] : [.. scratch];
    }

    /// <summary>
    /// A signed zone, once the nodes hold their RRsets: each RRset learns the RRSIGs that cover it, the NSEC chain and
    /// the NSEC3 chain the apex NSEC3PARAM names are built in order (the NSEC3 owners marked as outside the namespace),
    /// and the zone learns whether it is signed (RFC 4035 §2.1, §2.2) and when its first signature expires. The builder
    /// says whether any record is of a DNSSEC type (<see cref="DnssecChecks.IsDnssecType"/>): a zone without one has
    /// nothing to adjust, and no walk over every node is made for it.
    /// </summary>
    public static void Dnssec(Zone zone, bool hasDnssecRecords, DateTimeOffset? earliestSignatureExpiry)
    {
        zone.EarliestSignatureExpiry = earliestSignatureExpiry;
        if (!hasDnssecRecords)
        {
            return;
        }
        foreach (var node in zone.Nodes)
        {
            CoveringSignatures.Attach(node);
        }
        zone.IsSigned = zone.Soa.Signatures is not null && zone.Apex.Get(RecordType.DNSKEY) is not null;
        zone.Nsec = NsecChain.Build(zone);
        var nsec3param = zone.Apex.Get(RecordType.NSEC3PARAM);
        zone.Nsec3 = Nsec3Chain.Build(zone, nsec3param is null ? default : nsec3param.Rdata(0));
    }
}
