using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// The zone rules named-checkzone and kzonecheck apply: each problem is reported with the file line that broke it, and
/// nothing is changed. The marks the rules read across owners (apex, cut, CNAME, DNAME, occlusion) are set by
/// <see cref="ZoneAdjust"/> first; answering never depends on a check having run.
/// </summary>
internal static class ZoneChecks
{
    /// <summary>
    /// The apex's records as read: its SOA (without which there is no zone to build, and null is returned), one SOA
    /// only (RFC 1035 §5.2), and NS records.
    /// </summary>
    public static OwnerData? Apex(ZoneGrouping grouping, string source, List<ZoneDiagnostic> diagnostics)
    {
        var origin = grouping.Origin;
        OwnerData? apex = null;
        if (grouping.Nodes.TryGetValue(origin, out var apexNode))
        {
            foreach (var owner in grouping.Owners)
            {
                if (owner.Node == apexNode)
                {
                    apex = owner;
                    break;
                }
            }
        }
        if (apex?.Find(RecordType.SOA) is not { } soa)
        {
            Error(diagnostics, new SourceLocation(source, 1, 1), $"no SOA record at the zone apex {origin}");
            return null;
        }
        if (soa.Count > 1)
        {
            Error(diagnostics, soa[1].Location, "more than one SOA record at the apex (RFC 1035 §5.2)");
        }
        if (apex.Value.Find(RecordType.NS) is null)
        {
            Error(diagnostics, soa[0].Location, $"no NS records at the zone apex {origin}");
        }
        return apex;
    }

    /// <summary>
    /// The zone rules, owner by owner, on the records as read (before the nodes hold their RRsets, so that each error
    /// names its line). Returns the NS RRsets whose name servers need addresses, checked once the nodes are made
    /// (<see cref="NameServerAddresses"/>).
    /// </summary>
    public static NameServerSets Owners(ZoneGrouping grouping, List<ZoneDiagnostic> diagnostics)
    {
        var origin = grouping.Origin;
        var nameServers = new NameServerSets();
        foreach (var owner in grouping.Owners)
        {
            var node = owner.Node;

            if (!node.IsApex && owner.Find(RecordType.SOA) is { } soa)
            {
                Error(diagnostics, soa[0].Location, $"SOA record at {owner.Name}, which is not the zone apex {origin}");
            }

            // RFC 1034 §3.6.2 and RFC 2181 §10.1: a CNAME stands alone (DNSSEC's RRSIG and NSEC may join it, RFC 4035 §2.5).
            if (owner.Find(RecordType.CNAME) is { } cname)
            {
                CnameStandsAlone(owner, cname, diagnostics);
            }
            if (owner.Find(RecordType.DNAME) is { } dname && dname.Count > 1)
            {
                Error(diagnostics, dname[1].Location, $"more than one DNAME record at {owner.Name} (RFC 6672 §2.4)");
            }

            // Where the node sits relative to cuts and DNAMEs above it: looked up only for the few occluded nodes.
            var (cutAbove, dnameAbove) = node.IsOccluded ? OcclusionAbove(node) : default;
            if (cutAbove is not null)
            {
                foreach (var set in owner.Sets)
                {
                    if (set.Type is not (RecordType.A or RecordType.AAAA))
                    {
                        Error(diagnostics, set[0].Location, $"{RecordTypeNames.ToText(set.Type)} record at {owner.Name} is below the delegation {cutAbove.Name}; only glue (A/AAAA) may be there");
                        break;
                    }
                }
            }
            else if (dnameAbove is not null)
            {
                Warning(diagnostics, owner.FirstLocation, $"{owner.Name} is below the DNAME at {dnameAbove.Name} and can never be answered (RFC 6672 §2.4)");
            }

            if (node.IsDelegation)
            {
                foreach (var set in owner.Sets)
                {
                    if (set.Type is not (RecordType.NS or RecordType.DS or RecordType.A or RecordType.AAAA or RecordType.RRSIG or RecordType.NSEC))
                    {
                        Error(diagnostics, set[0].Location, $"{RecordTypeNames.ToText(set.Type)} record at the delegation point {owner.Name}; the child zone owns that data");
                        break;
                    }
                }
            }
            else if (owner.Find(RecordType.DS) is { } ds && !node.IsOccluded)
            {
                Error(diagnostics, ds[0].Location, $"DS record at {owner.Name}, which is not a delegation point (RFC 4035 §2.4)");
            }

            if (owner.Find(RecordType.NS) is { } ns && cutAbove is null)
            {
                nameServers.Add(owner.Node, ns);
            }
        }
        return nameServers;
    }

    private static void CnameStandsAlone(OwnerData owner, RRsetData cname, List<ZoneDiagnostic> diagnostics)
    {
        if (cname.Count > 1)
        {
            Error(diagnostics, cname[1].Location, $"more than one CNAME record at {owner.Name} (RFC 2181 §10.1)");
        }
        foreach (var other in owner.Sets)
        {
            if (other.Type is not (RecordType.CNAME or RecordType.RRSIG or RecordType.NSEC))
            {
                // Point at whichever of the two came second: that is the line that broke the rule.
                var cnameAt = cname[0].Location;
                var otherAt = other[0].Location;
                var at = cnameAt.File == otherAt.File && cnameAt.Line > otherAt.Line ? cnameAt : otherAt;
                Error(diagnostics, at, $"{owner.Name} has a CNAME and other data ({RecordTypeNames.ToText(other.Type)}) (RFC 1034 §3.6.2)");
                break;
            }
        }
    }

    /// <summary>The highest cut and the highest DNAME above an occluded node, for the messages that name them.</summary>
    private static (ZoneNode? Cut, ZoneNode? Dname) OcclusionAbove(ZoneNode node)
    {
        ZoneNode? cut = null, dname = null;
        for (var up = node.Parent; up is not null; up = up.Parent)
        {
            if (up.IsDelegation) cut = up;
            if (up.HasDnameRecords) dname = up;
        }
        return (cut, dname);
    }

    /// <summary>
    /// Name servers inside this zone need addresses: below a cut that is glue the parent must serve
    /// (RFC 9471 §2.1), otherwise authoritative A/AAAA records. Runs once the nodes hold their RRsets.
    /// </summary>
    public static void NameServerAddresses(DnsName origin, Dictionary<DnsName, ZoneNode> nodes, NameServerSets sets, List<ZoneDiagnostic> diagnostics)
    {
        var lookup = nodes.GetAlternateLookup<ReadOnlySpan<byte>>();
        for (int s = 0; s < sets.Count; s++)
        {
            var (owner, ns) = sets[s];
            for (int i = 0; i < ns.Count; i++)
            {
                var target = RdataLayout.TargetName(RecordType.NS, ns.Rdata(i));
                if (target.IsEmpty)
                {
                    continue;
                }
                // The usual case, a name server with an address in the zone, is settled without making a DnsName.
                lookup.TryGetValue(target, out var node);
                if (node is not null && (node.Get(RecordType.A) is not null || node.Get(RecordType.AAAA) is not null))
                {
                    continue;
                }
                var name = DnsName.FromWire(target);
                if (!name.IsSubdomainOf(origin))
                {
                    continue;
                }
                bool belowCut = false;
                for (var probe = name; probe.LabelCount > origin.LabelCount; probe = probe.Parent())
                {
                    if (nodes.TryGetValue(probe, out var n) && n.IsDelegation && !probe.Equals(owner.Name))
                    {
                        belowCut = true;
                        break;
                    }
                }
                var at = sets.Location(s, i);
                if (node is not null && node.Cname is not null)
                {
                    Error(diagnostics, at, $"name server {name} of {owner.Name} is a CNAME (RFC 2181 §10.3)");
                }
                else if (belowCut || name.IsSubdomainOf(owner.Name) && !owner.Name.Equals(origin))
                {
                    Error(diagnostics, at, $"missing glue: name server {name} of {owner.Name} has no A or AAAA record");
                }
                else
                {
                    Error(diagnostics, at, $"name server {name} of {owner.Name} has no A or AAAA record in the zone");
                }
            }
        }
    }

    public static int CountErrors(List<ZoneDiagnostic> diagnostics)
    {
        int n = 0;
        foreach (var d in diagnostics)
        {
            if (d.Severity == Severity.Error) n++;
        }
        return n;
    }

    public static void Error(List<ZoneDiagnostic> diagnostics, SourceLocation at, string message) =>
        diagnostics.Add(new ZoneDiagnostic(at, Severity.Error, message));

    private static void Warning(List<ZoneDiagnostic> diagnostics, SourceLocation at, string message) =>
        diagnostics.Add(new ZoneDiagnostic(at, Severity.Warning, message));
}

/// <summary>
/// The NS RRsets whose name servers need addresses (<see cref="ZoneChecks.NameServerAddresses"/>): each owner's node,
/// whose NS RRset is read once made, and where its records were read, for the errors (the records as read are given
/// back while the nodes are made, <see cref="RecordArena.Consume"/>).
/// </summary>
internal sealed class NameServerSets
{
    private readonly List<(ZoneNode Node, int First)> _sets = new();
    private readonly List<SourceLocation> _locations = new();

    public int Count => _sets.Count;

    /// <summary>Set <paramref name="index"/>: its owner and the NS RRset the owner holds (once the nodes are made).</summary>
    public (ZoneNode Owner, RRset NameServers) this[int index] =>
        (_sets[index].Node, _sets[index].Node.Get(RecordType.NS) ?? throw new InvalidOperationException($"{_sets[index].Node.Name} has no NS RRset yet"));

    /// <summary>Where record <paramref name="record"/> of set <paramref name="index"/> was read, in the order read.</summary>
    public SourceLocation Location(int index, int record) => _locations[_sets[index].First + record];

    public void Add(ZoneNode owner, RRsetData ns)
    {
        _sets.Add((owner, _locations.Count));
        foreach (var record in ns)
        {
            _locations.Add(record.Location);
        }
    }
}
