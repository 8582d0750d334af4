using System.Buffers.Binary;
using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// All records of one owner, class and type (RFC 2181 §5). RDATA is stored uncompressed and, for types
/// whose RDATA is never compressed, pre-encoded with TYPE, CLASS, TTL and RDLENGTH so that answering is a copy.
/// </summary>
public sealed class RRset
{
    private readonly byte[][] _rdata;
    private readonly byte[][] _encoded;
    private readonly uint[]? _ttls;

    /// <param name="ttls">Per-record TTLs where they differ (RRSIGs over different types, RFC 4034 §3), else null.</param>
    internal RRset(RecordType type, uint ttl, byte[][] rdata, uint[]? ttls = null)
    {
        Type = type;
        Ttl = ttl;
        _rdata = rdata;
        _ttls = ttls;
        _encoded = new byte[rdata.Length][];
        for (int i = 0; i < rdata.Length; i++)
        {
            var e = new byte[10 + rdata[i].Length];
            BinaryPrimitives.WriteUInt16BigEndian(e, (ushort)type);
            BinaryPrimitives.WriteUInt16BigEndian(e.AsSpan(2), (ushort)RecordClass.IN);
            BinaryPrimitives.WriteUInt32BigEndian(e.AsSpan(4), ttls is null ? ttl : ttls[i]);
            BinaryPrimitives.WriteUInt16BigEndian(e.AsSpan(8), (ushort)rdata[i].Length);
            rdata[i].CopyTo(e, 10);
            _encoded[i] = e;
        }
        IsCompressible = RdataLayout.IsCompressible(type);
    }

    public RecordType Type { get; }

    /// <summary>The RRset's TTL (RFC 2181 §5.2); for RRSIGs, the TTL of the first record (see <see cref="RecordTtl"/>).</summary>
    public uint Ttl { get; }

    /// <summary>
    /// The TTL of record <paramref name="index"/> as the zone gave it. It equals <see cref="Ttl"/> except among RRSIGs,
    /// whose records each take the TTL of the RRset they cover (RFC 4034 §3).
    /// </summary>
    public uint RecordTtl(int index) => _ttls is null ? Ttl : _ttls[index];

    public int Count => _rdata.Length;

    /// <summary>True when names inside the RDATA are compressed on the wire (RFC 3597 §4), so the pre-encoded form cannot be used.</summary>
    public bool IsCompressible { get; }

    /// <summary>Uncompressed RDATA of record <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Rdata(int index) => _rdata[index];

    /// <summary>TYPE, CLASS, TTL, RDLENGTH and RDATA of record <paramref name="index"/>, ready to follow an owner name.</summary>
    public ReadOnlySpan<byte> Encoded(int index) => _encoded[index];

    /// <summary>
    /// Nodes in the same zone holding data for the names this RRset points at (NS, MX, SRV, SVCB and HTTPS targets):
    /// resolved at load so that additional-section processing (RFC 1034 §4.3.2 step 6) does no lookup.
    /// </summary>
    public ZoneNode[] AdditionalTargets { get; internal set; } = [];

    /// <summary>The RRSIGs at this owner that cover this RRset (RFC 4034 §3), found at load; null when unsigned.</summary>
    public CoveringSignatures? Signatures { get; internal set; }
}
