using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// Turns parsed records into a <see cref="Zone"/>, running the checks named-checkzone and kzonecheck run, and
/// verifying the zone's ZONEMD records when it has any (RFC 8976 §4). A zone with any error is not built at all:
/// never half a zone.
/// </summary>
public static class ZoneBuilder
{
    /// <summary>Builds the zone, or returns null and adds the reasons to <paramref name="diagnostics"/>.</summary>
    public static Zone? Build(DnsName origin, IReadOnlyList<ZoneRecord> records, List<ZoneDiagnostic> diagnostics, string source, ZoneLoadOptions? options = null)
    {
        var grouping = new Grouping(origin, CountOwnerRuns(records));
        foreach (var record in records)
        {
            grouping.Add(record);
        }
        return Build(grouping, diagnostics, source, options);
    }

    /// <summary>
    /// Builds the zone from records already grouped (<see cref="ZoneLoader"/> groups a large file's records while it is
    /// being read, and keeps no list of them besides).
    /// </summary>
    /// <remarks>
    /// The grouping holds every record as read (an object and an RDATA array each), about as much memory as the zone
    /// itself. So that a load's peak stays close to what it keeps, everything that reads the records as read (the zone
    /// rules, which point at file lines; the signature times) runs first, and each owner's records are let go as soon as
    /// its node holds them in final form: the grouping shrinks while the zone grows.
    /// </remarks>
    internal static Zone? Build(Grouping grouping, List<ZoneDiagnostic> diagnostics, string source, ZoneLoadOptions? options = null)
    {
        int errorsBefore = CountErrors(diagnostics);
        diagnostics.AddRange(grouping.Diagnostics);
        var origin = grouping.Origin;
        var nodes = grouping.Nodes;
        var owners = grouping.Owners;
        var zoneStart = new SourceLocation(source, 1, 1);

        OwnerData? apexData = nodes.TryGetValue(origin, out var apexNode) ? owners.Find(o => o.Node == apexNode) : null;
        if (apexData?.Find(RecordType.SOA) is not { } soa)
        {
            Error(diagnostics, zoneStart, $"no SOA record at the zone apex {origin}");
            return null;
        }
        if (soa.Records.Count > 1)
        {
            Error(diagnostics, soa.Records[1].Location, "more than one SOA record at the apex (RFC 1035 §5.2)");
        }
        if (apexData.Find(RecordType.NS) is null)
        {
            Error(diagnostics, soa.Records[0].Location, $"no NS records at the zone apex {origin}");
        }

        // Parents and empty non-terminals in one pass over the owners: every name between an owner and the apex exists
        // (RFC 4592 §2.2.2). A parent is probed as a wire suffix; a missing one becomes an empty non-terminal whose own
        // parent is looked for in turn. The new nodes wait in a table of their own and join the zone's table at once.
        var apex = apexData.Node;
        var nodeLookup = nodes.GetAlternateLookup<ReadOnlySpan<byte>>();
        var emptyNonTerminals = new Dictionary<DnsName, ZoneNode>(DnsNameComparer.Instance);
        var emptyLookup = emptyNonTerminals.GetAlternateLookup<ReadOnlySpan<byte>>();
        foreach (var owner in owners)
        {
            // Up from the owner until a parent that already exists: only a new empty non-terminal needs its own.
            for (var node = owner.Node; node != apex;)
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

        // The zone rules, on the records as read (so that each error names its line): the facts of each node that the
        // rules look at from other nodes (apex, cut, CNAME, DNAME) are set first. Name servers' addresses are checked
        // once the nodes hold their RRsets, from the NS records kept aside.
        var ownerArray = grouping.ReleaseOwners();
        foreach (var owner in ownerArray)
        {
            var node = owner.Node;
            node.IsApex = owner == apexData;
            node.IsDelegation = !node.IsApex && owner.Find(RecordType.NS) is not null;
            node.MarkTypes(owner.Find(RecordType.CNAME) is not null, owner.Find(RecordType.DNAME) is not null);
        }
        var nameServers = CheckNodes(origin, ownerArray, diagnostics);
        var signatureTimes = DnssecChecks.ScanSignatureTimes(ownerArray, options ?? ZoneLoadOptions.Default);
        var locations = new DnssecChecks.ApexLocations(
            apexData.Find(RecordType.SOA)!.Records[0].Location,
            apexData.Find(RecordType.NSEC3PARAM)?.Records[0].Location ?? soa.Records[0].Location);
        IReadOnlyList<ZoneRecord> zonemds = apexData.Find(RecordType.ZONEMD)?.Records ?? [];

        // Encoding the RRsets of a million owners is the longest step of a build, and each owner's stands alone: large
        // zones do it in two halves side by side, each with its own record store and warnings (added in order
        // afterwards, so they read as if made in one pass). Each owner's records are dropped once its node holds them.
        int parts = ownerArray.Length >= ParallelNodesFrom && Environment.ProcessorCount > 1 ? 2 : 1;
        var made = new (List<ZoneDiagnostic> Warnings, int Records, bool Dnssec)[parts];
        Parallel.For(0, parts, part =>
        {
            int from = (int)((long)ownerArray.Length * part / parts), to = (int)((long)ownerArray.Length * (part + 1) / parts);
            made[part] = MakeNodes(ownerArray.AsSpan(from, to - from));
        });
        int recordCount = 0;
        bool hasDnssecRecords = false;
        foreach (var (warnings, count, dnssec) in made)
        {
            diagnostics.AddRange(warnings);
            recordCount += count;
            hasDnssecRecords |= dnssec;
        }

        var zone = new Zone(origin, nodes, recordCount, source);
        // RFC 8976 §4: a zone that carries ZONEMD records is served only if one of them verifies it. The digest reads
        // names, RDATA and the apex only, which are final by now, so it runs beside the checks and the additional-section
        // targets (which set other fields): on a million names that hides most of its second.
        // Without ZONEMD records nothing decides whether the zone loads, so the digest is left until it is asked for
        // (Zone.Digest): the zone answers that much sooner.
        var digestDiagnostics = new List<ZoneDiagnostic>();
        var digesting = zonemds.Count == 0
            ? Task.FromResult((true, (byte[]?)null))
            : Task.Run(() => (ZonemdVerification.Verify(zone, zonemds, digestDiagnostics, out var sha384), (byte[]?)sha384));

        // The additional-section targets read names and RRsets only, which are final by now: they are found beside the
        // checks (which set other fields), and thrown away with the zone if a check fails.
        var resolving = Task.Run(() => ResolveAdditionalTargets(nodes));
        foreach (var ns in nameServers)
        {
            CheckNameServerAddresses(origin, nodes, ns, diagnostics);
        }
        MarkOccludedEmptyNonTerminals(nodes);
        bool checksPassed = CountErrors(diagnostics) == errorsBefore;
        resolving.GetAwaiter().GetResult();
        var (verified, digest) = digesting.GetAwaiter().GetResult();
        if (!checksPassed)
        {
            // As if the digest had never been taken: a zone that fails its checks says nothing about its ZONEMD.
            return null;
        }
        // DNSSEC: signatures per RRset, the NSEC/NSEC3 chains in order, and the checks of a signed zone.
        if (!DnssecChecks.Prepare(zone, locations, signatureTimes, diagnostics, hasDnssecRecords))
        {
            return null;
        }
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

    /// <summary>
    /// An empty non-terminal below a cut or a DNAME is occluded as owners there are, so that a lookup finding any
    /// node that is not occluded knows no cut or DNAME lies between it and the apex.
    /// </summary>
    private static void MarkOccludedEmptyNonTerminals(Dictionary<DnsName, ZoneNode> nodes)
    {
        foreach (var node in nodes.Values)
        {
            for (var up = node.Parent; node.IsEmptyNonTerminal && up is not null; up = up.Parent)
            {
                if (up.IsDelegation || up.Dname is not null)
                {
                    node.IsOccluded = true;
                    break;
                }
            }
        }
    }

    /// <summary>
    /// The zone rules, owner by owner, on the records as read (before the nodes hold their RRsets: the node facts they
    /// read across owners are set). Returns the NS RRsets whose name servers need addresses, checked once the nodes are
    /// made (<see cref="CheckNameServerAddresses"/>).
    /// </summary>
    private static List<RRsetData> CheckNodes(DnsName origin, OwnerData[] owners, List<ZoneDiagnostic> diagnostics)
    {
        var nameServers = new List<RRsetData>();
        foreach (var owner in owners)
        {
            var node = owner.Node;
            var first = owner.FirstLocation;

            if (!node.IsApex && owner.Find(RecordType.SOA) is not null)
            {
                Error(diagnostics, owner.Find(RecordType.SOA)!.Records[0].Location, $"SOA record at {owner.Name}, which is not the zone apex {origin}");
            }

            // RFC 1034 §3.6.2 and RFC 2181 §10.1: a CNAME stands alone (DNSSEC's RRSIG and NSEC may join it, RFC 4035 §2.5).
            if (owner.Find(RecordType.CNAME) is { } cname)
            {
                if (cname.Records.Count > 1)
                {
                    Error(diagnostics, cname.Records[1].Location, $"more than one CNAME record at {owner.Name} (RFC 2181 §10.1)");
                }
                foreach (var other in owner.Sets)
                {
                    if (other.Type is not (RecordType.CNAME or RecordType.RRSIG or RecordType.NSEC))
                    {
                        // Point at whichever of the two came second: that is the line that broke the rule.
                        var cnameAt = cname.Records[0].Location;
                        var otherAt = other.Records[0].Location;
                        var at = cnameAt.File == otherAt.File && cnameAt.Line > otherAt.Line ? cnameAt : otherAt;
                        Error(diagnostics, at, $"{owner.Name} has a CNAME and other data ({RecordTypeNames.ToText(other.Type)}) (RFC 1034 §3.6.2)");
                        break;
                    }
                }
            }
            if (owner.Find(RecordType.DNAME) is { } dname && dname.Records.Count > 1)
            {
                Error(diagnostics, dname.Records[1].Location, $"more than one DNAME record at {owner.Name} (RFC 6672 §2.4)");
            }

            // Where the node sits relative to cuts and DNAMEs above it.
            ZoneNode? cutAbove = null;
            ZoneNode? dnameAbove = null;
            for (var up = node.Parent; up is not null; up = up.Parent)
            {
                if (up.IsDelegation) cutAbove = up;
                if (up.HasDnameRecords) dnameAbove = up;
            }
            if (cutAbove is not null)
            {
                node.IsOccluded = true;
                foreach (var set in owner.Sets)
                {
                    if (set.Type is not (RecordType.A or RecordType.AAAA))
                    {
                        Error(diagnostics, set.Records[0].Location, $"{RecordTypeNames.ToText(set.Type)} record at {owner.Name} is below the delegation {cutAbove.Name}; only glue (A/AAAA) may be there");
                        break;
                    }
                }
            }
            else if (dnameAbove is not null)
            {
                node.IsOccluded = true;
                Warning(diagnostics, first, $"{owner.Name} is below the DNAME at {dnameAbove.Name} and can never be answered (RFC 6672 §2.4)");
            }

            if (node.IsDelegation)
            {
                foreach (var set in owner.Sets)
                {
                    if (set.Type is not (RecordType.NS or RecordType.DS or RecordType.A or RecordType.AAAA or RecordType.RRSIG or RecordType.NSEC))
                    {
                        Error(diagnostics, set.Records[0].Location, $"{RecordTypeNames.ToText(set.Type)} record at the delegation point {owner.Name}; the child zone owns that data");
                        break;
                    }
                }
            }
            else if (owner.Find(RecordType.DS) is { } ds && !node.IsOccluded)
            {
                Error(diagnostics, ds.Records[0].Location, $"DS record at {owner.Name}, which is not a delegation point (RFC 4035 §2.4)");
            }

            if (owner.Find(RecordType.NS) is { } ns && cutAbove is null)
            {
                nameServers.Add(ns);
            }
        }
        return nameServers;
    }

    /// <summary>
    /// Name servers inside this zone need addresses: below a cut that is glue the parent must serve
    /// (RFC 9471 §2.1), otherwise authoritative A/AAAA records.
    /// </summary>
    private static void CheckNameServerAddresses(DnsName origin, Dictionary<DnsName, ZoneNode> nodes, RRsetData ns, List<ZoneDiagnostic> diagnostics)
    {
        var lookup = nodes.GetAlternateLookup<ReadOnlySpan<byte>>();
        for (int i = 0; i < ns.Count; i++)
        {
            var record = ns[i];
            var target = RdataLayout.TargetName(RecordType.NS, record.Rdata);
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
                if (nodes.TryGetValue(probe, out var n) && n.IsDelegation && !probe.Equals(record.Owner))
                {
                    belowCut = true;
                    break;
                }
            }
            if (node is not null && node.Cname is not null)
            {
                Error(diagnostics, record.Location, $"name server {name} of {record.Owner} is a CNAME (RFC 2181 §10.3)");
            }
            else if (belowCut || name.IsSubdomainOf(record.Owner) && !record.Owner.Equals(origin))
            {
                Error(diagnostics, record.Location, $"missing glue: name server {name} of {record.Owner} has no A or AAAA record");
            }
            else
            {
                Error(diagnostics, record.Location, $"name server {name} of {record.Owner} has no A or AAAA record in the zone");
            }
        }
    }

    /// <summary>
    /// Resolves the in-zone nodes that NS, MX, SRV (RFC 1034 §4.3.2 step 6, RFC 2782) and SVCB/HTTPS (RFC 9460 §4.5)
    /// targets name. Glue counts: like Knot and NSD we hand out an address we hold even when it sits below a cut.
    /// </summary>
    private static void ResolveAdditionalTargets(Dictionary<DnsName, ZoneNode> nodes)
    {
        var lookup = nodes.GetAlternateLookup<ReadOnlySpan<byte>>();
        var targets = new List<ZoneNode>();
        foreach (var node in nodes.Values)
        {
            foreach (var rrset in node.RRsets)
            {
                if (rrset.Type is not (RecordType.NS or RecordType.MX or RecordType.SRV or RecordType.SVCB or RecordType.HTTPS))
                {
                    continue;
                }
                targets.Clear();
                for (int i = 0; i < rrset.Count; i++)
                {
                    var target = RdataLayout.TargetName(rrset.Type, rrset.Rdata(i));
                    if (target.IsEmpty || !lookup.TryGetValue(target, out var t))
                    {
                        continue;
                    }
                    bool useful = t.Get(RecordType.A) is not null || t.Get(RecordType.AAAA) is not null
                        || (rrset.Type is RecordType.SVCB or RecordType.HTTPS && t.Get(rrset.Type) is not null);
                    if (useful && !targets.Contains(t))
                    {
                        targets.Add(t);
                    }
                }
                rrset.AdditionalTargets = [.. targets];
            }
        }
    }

    /// <summary>Owners from which <see cref="MakeNodes"/> runs in two halves side by side.</summary>
    private const int ParallelNodesFrom = 50_000;

    /// <summary>
    /// Each owner's RRsets and node (<see cref="OwnerData.Node"/>); the warnings found, the records made, and whether any
    /// RRset is of a DNSSEC type (so that a zone without one skips the DNSSEC preparation without another walk).
    /// </summary>
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

    private static int CountErrors(List<ZoneDiagnostic> diagnostics)
    {
        int n = 0;
        foreach (var d in diagnostics)
        {
            if (d.Severity == Severity.Error) n++;
        }
        return n;
    }

    private static void Error(List<ZoneDiagnostic> diagnostics, SourceLocation at, string message) =>
        diagnostics.Add(new ZoneDiagnostic(at, Severity.Error, message));

    private static void Warning(List<ZoneDiagnostic> diagnostics, SourceLocation at, string message) =>
        diagnostics.Add(new ZoneDiagnostic(at, Severity.Warning, message));

    /// <summary>
    /// A zone's records gathered by owner and type as they come, each owner's node in the zone's table from its first
    /// record on. The first step of a build; the records that cannot be in a zone at all are errors here.
    /// </summary>
    internal sealed class Grouping
    {
        // Owners whose records do not stand together are met again: found by node, in a table made at the first such.
        private Dictionary<ZoneNode, OwnerData>? _ownerOfNode;
        private OwnerData? _previous;

        /// <param name="expectedOwners">About how many owners will come: the node table is made that large.</param>
        public Grouping(DnsName origin, int expectedOwners)
        {
            Origin = origin;
            // The owners' nodes go into the zone's own table as the records are grouped, so that a million names are
            // hashed into one table, not into an owner table first and a node table after.
            Nodes = new Dictionary<DnsName, ZoneNode>(expectedOwners, DnsNameComparer.Instance);
            Owners = new List<OwnerData>(expectedOwners);
        }

        public DnsName Origin { get; }

        public Dictionary<DnsName, ZoneNode> Nodes { get; }

        public List<OwnerData> Owners { get; }

        public List<ZoneDiagnostic> Diagnostics { get; } = new();

        public void Add(ZoneRecord record)
        {
            // The reader hands consecutive records of one owner the same DnsName: no need to check or hash it again.
            bool sameOwner = _previous is not null && ReferenceEquals(_previous.Name, record.Owner);
            if (!sameOwner && !record.Owner.IsSubdomainOf(Origin))
            {
                Error(Diagnostics, record.Location, $"{record.Owner} is outside the zone {Origin}");
                return;
            }
            if (record.Class != RecordClass.IN)
            {
                Error(Diagnostics, record.Location, $"class {RecordTypeNames.ToText(record.Class)} is not served; only IN zones are");
                return;
            }
            if (record.Type is RecordType.OPT or RecordType.TSIG or RecordType.TKEY or RecordType.ANY or RecordType.AXFR
                or RecordType.IXFR or RecordType.MAILA or RecordType.MAILB)
            {
                Error(Diagnostics, record.Location, $"{RecordTypeNames.ToText(record.Type)} is a meta-type and cannot appear in a zone (RFC 6895 §3.1)");
                return;
            }
            var owner = sameOwner ? _previous! : null;
            if (owner is null)
            {
                ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(Nodes, record.Owner, out bool known);
                if (!known)
                {
                    owner = new OwnerData(record.Owner);
                    slot = owner.Node;
                    Owners.Add(owner);
                    _ownerOfNode?.Add(owner.Node, owner);
                }
                else
                {
                    if (_ownerOfNode is null)
                    {
                        _ownerOfNode = new Dictionary<ZoneNode, OwnerData>(Owners.Count, ReferenceEqualityComparer.Instance);
                        foreach (var o in Owners)
                        {
                            _ownerOfNode.Add(o.Node, o);
                        }
                    }
                    owner = _ownerOfNode[slot!];
                }
            }
            owner.Add(record, Diagnostics);
            _previous = owner;
        }

        /// <summary>
        /// The owners, in the order first met, handed over: the grouping keeps no reference to them, so that the build
        /// can let each go once its node is made.
        /// </summary>
        public OwnerData[] ReleaseOwners()
        {
            var owners = Owners.ToArray();
            Owners.Clear();
            Owners.TrimExcess();
            _ownerOfNode = null;
            _previous = null;
            return owners;
        }

        /// <summary>
        /// Makes room for <paramref name="more"/> nodes (the empty non-terminals), and gives back what a guess of the
        /// owners' number (<see cref="ZoneLoader"/> guesses from the file's size) set aside beyond a quarter too many.
        /// </summary>
        public void FitNodeTable(int more)
        {
            int needed = Nodes.Count + more;
            if (Nodes.EnsureCapacity(needed) > needed + needed / 4)
            {
                Nodes.TrimExcess(needed);
            }
        }
    }

    /// <summary>Records of one owner, gathered by type, before they become a node.</summary>
    internal sealed class OwnerData(DnsName name)
    {
        // Most owners have one or two RRsets; this is made once per owner of a zone of millions.
        private RRsetData[] _sets = new RRsetData[2];
        private int _count;

        public DnsName Name { get; } = name;

        /// <summary>The node these records become, in the zone's table from the first record on.</summary>
        public ZoneNode Node { get; } = new(name, []);

        public ReadOnlySpan<RRsetData> Sets => _sets.AsSpan(0, _count);

        public SourceLocation FirstLocation => _sets[0][0].Location;

        public RRsetData? Find(RecordType type)
        {
            foreach (var s in Sets)
            {
                if (s.Type == type) return s;
            }
            return null;
        }

        public void Add(ZoneRecord record, List<ZoneDiagnostic> diagnostics)
        {
            var set = Find(record.Type);
            if (set is null)
            {
                if (_count == _sets.Length)
                {
                    Array.Resize(ref _sets, _count * 2);
                }
                set = _sets[_count++] = new RRsetData(record);
                return;
            }
            set.Add(record, diagnostics);
        }

        /// <summary>Lets the records go once the node holds them (an RRset some check still needs stays where it is kept).</summary>
        public void Release()
        {
            _sets = [];
            _count = 0;
        }

        /// <summary>The RRsets, written to <paramref name="rrsets"/> (as many as <see cref="Sets"/>).</summary>
        public void ToRRsets(RecordStore store, Span<RRset> rrsets, List<ZoneDiagnostic> diagnostics)
        {
            for (int i = 0; i < _count; i++)
            {
                rrsets[i] = _sets[i].ToRRset(store, diagnostics);
            }
        }
    }

    /// <summary>The records of one RRset in the order read, duplicates dropped; the first held without a list.</summary>
    internal sealed class RRsetData(ZoneRecord first) : IReadOnlyList<ZoneRecord>
    {
        // Up to this many records, duplicates are looked for one by one; a set is only worth it for larger RRsets.
        private const int LinearSearchLimit = 8;

        private List<ZoneRecord>? _more;
        private HashSet<byte[]>? _seen;

        public RecordType Type { get; } = first.Type;

        public IReadOnlyList<ZoneRecord> Records => this;

        public int Count => 1 + (_more?.Count ?? 0);

        public ZoneRecord this[int index] => index == 0 ? first : _more![index - 1];

        public void Add(ZoneRecord record, List<ZoneDiagnostic> diagnostics)
        {
            // RFC 2181 §5: an RRset holds each RR once; duplicates are dropped like BIND and Knot do.
            if (IsDuplicate(record.Rdata))
            {
                diagnostics.Add(new ZoneDiagnostic(record.Location, Severity.Warning, $"duplicate {RecordTypeNames.ToText(record.Type)} record at {record.Owner} dropped"));
                return;
            }
            (_more ??= new List<ZoneRecord>(3)).Add(record);
        }

        private bool IsDuplicate(byte[] rdata)
        {
            var comparer = CanonicalRdataComparer.ForType(Type);
            if (_seen is null && Count < LinearSearchLimit)
            {
                for (int i = 0; i < Count; i++)
                {
                    if (comparer.Equals(this[i].Rdata, rdata))
                    {
                        return true;
                    }
                }
                return false;
            }
            if (_seen is null)
            {
                _seen = new HashSet<byte[]>(Count * 2, comparer);
                for (int i = 0; i < Count; i++)
                {
                    _seen.Add(this[i].Rdata);
                }
            }
            return !_seen.Add(rdata);
        }

        public RRset ToRRset(RecordStore store, List<ZoneDiagnostic> diagnostics)
        {
            uint ttl = first.Ttl;
            // RRSIGs covering different types legitimately carry different TTLs (RFC 4034 §3).
            if (Type != RecordType.RRSIG)
            {
                for (int i = 1; i < Count; i++)
                {
                    if (this[i].Ttl != ttl)
                    {
                        // RFC 2181 §5.2: the TTLs of an RRset must match; use the first, as BIND does.
                        diagnostics.Add(new ZoneDiagnostic(this[i].Location, Severity.Warning,
                            $"TTL {this[i].Ttl} differs from {ttl} in the {RecordTypeNames.ToText(Type)} RRset at {this[i].Owner}; using {ttl} (RFC 2181 §5.2)"));
                        break;
                    }
                }
            }
            int octets = 0;
            for (int i = 0; i < Count; i++)
            {
                octets += 10 + this[i].Rdata.Length;
            }
            var (block, start) = store.Allocate(octets);
            var records = new RRset.RecordsWriter(Type, Count, block, start);
            for (int i = 0; i < Count; i++)
            {
                // Each RRSIG keeps its own TTL: it is the TTL of the RRset it covers (RFC 4034 §3), and the zone
                // digest hashes records with the TTL the zone gave them (RFC 8976 §3.3.1).
                records.Add(Type == RecordType.RRSIG ? this[i].Ttl : ttl, this[i].Rdata);
            }
            return records.ToRRset();
        }

        public IEnumerator<ZoneRecord> GetEnumerator()
        {
            for (int i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
