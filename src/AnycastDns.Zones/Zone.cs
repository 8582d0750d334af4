using System.Buffers.Binary;
using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// One loaded zone: immutable after <see cref="ZoneBuilder"/> made it. Lookups take uncompressed wire names
/// as spans and allocate nothing.
/// </summary>
public sealed class Zone
{
    private readonly Dictionary<DnsName, ZoneNode> _nodes;
    private readonly Dictionary<DnsName, ZoneNode>.AlternateLookup<ReadOnlySpan<byte>> _lookup;

    internal Zone(DnsName origin, Dictionary<DnsName, ZoneNode> nodes, int recordCount, string source)
    {
        Origin = origin;
        _nodes = nodes;
        _lookup = nodes.GetAlternateLookup<ReadOnlySpan<byte>>();
        Apex = nodes[origin];
        Soa = Apex.Get(RecordType.SOA) ?? throw new InvalidOperationException("zone without SOA");
        var soa = Soa.Rdata(0);
        int fixedAt = soa.Length - 20;
        Serial = BinaryPrimitives.ReadUInt32BigEndian(soa[fixedAt..]);
        uint minimum = BinaryPrimitives.ReadUInt32BigEndian(soa[(fixedAt + 16)..]);
        NegativeTtl = Math.Min(Soa.Ttl, minimum);
        RecordCount = recordCount;
        Source = source;
        foreach (var node in nodes.Values)
        {
            HasCutsOrDnames |= node.IsDelegation || node.Dname is not null;
        }
    }

    public DnsName Origin { get; }

    public ZoneNode Apex { get; }

    public RRset Soa { get; }

    public uint Serial { get; }

    /// <summary>TTL of the SOA in negative answers: min(SOA TTL, MINIMUM) (RFC 2308 §3, §5).</summary>
    public uint NegativeTtl { get; }

    public int RecordCount { get; }

    /// <summary>The file the zone came from.</summary>
    public string Source { get; }

    /// <summary>False for the common zone without delegations or DNAMEs, so lookups can skip the walk from the apex.</summary>
    public bool HasCutsOrDnames { get; }

    public int NodeCount => _nodes.Count;

    /// <summary>True when the apex has a DNSKEY RRset and a signed SOA (RFC 4035 §2): DO queries then get RRSIGs and denial proofs.</summary>
    public bool IsSigned { get; internal set; }

    /// <summary>
    /// When the first of the zone's RRSIGs expires (RFC 4034 §3.1.5), null when it has none. Past it, validators reject
    /// that data (RFC 4035 §5.3.1): a zone that is never reloaded ages toward it, so the server exports it as a metric.
    /// </summary>
    public DateTimeOffset? EarliestSignatureExpiry { get; internal set; }

    /// <summary>The NSEC chain in canonical order (RFC 4034 §4), when the zone denies with NSEC.</summary>
    public NsecChain? Nsec { get; internal set; }

    /// <summary>The NSEC3 chain the apex NSEC3PARAM names (RFC 5155 §4), when the zone denies with NSEC3.</summary>
    public Nsec3Chain? Nsec3 { get; internal set; }

    // Set once by the builder before the zone is published: the digest itself (a byte[]), or how to compute it when
    // first asked (a Func<byte[]>, replaced by its result). One field instead of a Lazy holding the digest and its
    // hexadecimal form: a provider's PoP holds tens of thousands of small zones, and the text (a 96-character string)
    // and the Lazy cost more than the digest itself; the few callers that want text (the status endpoint, CHAOS
    // answers, the snapshot summary) make it when they ask.
    private object _digest = null!;

    /// <summary>
    /// The zone's identity: its RFC 8976 digest, scheme SIMPLE with SHA-384 (§3.3.1), over every record except the
    /// apex ZONEMD RRset and its signatures. Two loads of the same data, however written, agree. A zone with ZONEMD
    /// records has it from its load, which verified them; for any other zone it is computed when first asked (by a
    /// reload's comparison, the status endpoint, or <see cref="ComputeDigest"/> after the zone is served), because on
    /// a million names it costs more than a second that the first answer need not wait for.
    /// </summary>
    public ReadOnlyMemory<byte> Digest => Volatile.Read(ref _digest) as byte[] ?? ComputeOnce();

    /// <summary><see cref="Digest"/> in lower-case hexadecimal, as a ZONEMD record would show it (made on each call).</summary>
    public string DigestHex => Convert.ToHexStringLower(Digest.Span);

    /// <summary>Computes <see cref="Digest"/> now if it was left for later, so that no later caller waits for it.</summary>
    public void ComputeDigest() => _ = Digest;

    internal void SetDigest(byte[] sha384) => _digest = sha384;

    internal void SetDigest(Func<byte[]> sha384) => _digest = sha384;

    /// <summary>
    /// Runs the computation left for later once: callers that ask at the same time wait for the first (on a million
    /// names it takes a second), each zone on its own computation's lock, so one zone's digest never waits for another's.
    /// </summary>
    private byte[] ComputeOnce()
    {
        var state = Volatile.Read(ref _digest);
        if (state is not Func<byte[]> compute)
        {
            return (byte[])state;
        }
        lock (compute)
        {
            if (Volatile.Read(ref _digest) is byte[] done)
            {
                return done;
            }
            byte[] sha384 = compute();
            Volatile.Write(ref _digest, sha384);
            return sha384;
        }
    }

    public IEnumerable<ZoneNode> Nodes => _nodes.Values;

    /// <summary>The table of nodes by name, for an update that makes the next version sharing this one's nodes (<see cref="ZoneUpdate"/>).</summary>
    internal Dictionary<DnsName, ZoneNode> NodeTable => _nodes;

    /// <summary>True when any RRset is of a DNSSEC type (<see cref="DnssecChecks.IsDnssecType"/>): its chains and signatures are made over the whole zone.</summary>
    internal bool HasDnssecRecords { get; set; }

    /// <summary>The node owning exactly this name (case-insensitive), or null.</summary>
    public ZoneNode? Find(ReadOnlySpan<byte> name) => _lookup.TryGetValue(name, out var node) ? node : null;

    public ZoneNode? Find(DnsName name) => _nodes.GetValueOrDefault(name);

    public override string ToString() => Origin.ToString();
}
