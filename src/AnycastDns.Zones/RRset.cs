using System.Buffers.Binary;
using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// All records of one owner, class and type (RFC 2181 §5). The records are held once, pre-encoded with TYPE, CLASS,
/// TTL and RDLENGTH, so that answering is a copy; the uncompressed RDATA is the tail of that form.
/// </summary>
public sealed class RRset
{
    // Every record as it follows an owner name on the wire (TYPE, CLASS, TTL, RDLENGTH, RDATA), back to back, from
    // _start on. A zone of millions of records cannot afford two arrays per record, nor a per-record TTL array (the
    // TTL each record was given is right there in its encoded form): a zone's RRsets share large blocks of a
    // RecordStore, so that most hold no array of their own.
    private readonly byte[] _records;
    private readonly int _start;

    // Where each record starts in _records; null for an RRset of one record (at _start) or none.
    private readonly int[]? _starts;
    private readonly bool _empty;

    /// <param name="ttls">Per-record TTLs where they differ (RRSIGs over different types, RFC 4034 §3), else null.</param>
    internal RRset(RecordType type, uint ttl, byte[][] rdata, uint[]? ttls = null)
    {
        int octets = 0;
        foreach (var r in rdata)
        {
            octets += 10 + r.Length;
        }
        var records = new RecordsWriter(type, rdata.Length, new byte[octets], 0);
        for (int i = 0; i < rdata.Length; i++)
        {
            records.Add(ttls is null ? ttl : ttls[i], rdata[i]);
        }
        (Type, _records, _start, _starts, _empty) = (type, records.Buffer, 0, records.Starts, rdata.Length == 0);
        IsCompressible = RdataLayout.IsCompressible(type);
    }

    private RRset(RecordType type, byte[] records, int start, int[]? starts, bool empty)
    {
        Type = type;
        _records = records;
        _start = start;
        _starts = starts;
        _empty = empty;
        IsCompressible = RdataLayout.IsCompressible(type);
    }

    public RecordType Type { get; }

    /// <summary>The RRset's TTL (RFC 2181 §5.2); for RRSIGs, the TTL of the first record (see <see cref="RecordTtl"/>).</summary>
    public uint Ttl => _empty ? 0 : BinaryPrimitives.ReadUInt32BigEndian(_records.AsSpan(_start + 4));

    /// <summary>
    /// The TTL of record <paramref name="index"/> as the zone gave it. It equals <see cref="Ttl"/> except among RRSIGs,
    /// whose records each take the TTL of the RRset they cover (RFC 4034 §3).
    /// </summary>
    public uint RecordTtl(int index) => BinaryPrimitives.ReadUInt32BigEndian(Encoded(index)[4..]);

    public int Count => _starts is not null ? _starts.Length : _empty ? 0 : 1;

    /// <summary>True when names inside the RDATA are compressed on the wire (RFC 3597 §4), so the pre-encoded form cannot be used.</summary>
    public bool IsCompressible { get; }

    /// <summary>Uncompressed RDATA of record <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Rdata(int index) => Encoded(index)[10..];

    /// <summary>TYPE, CLASS, TTL, RDLENGTH and RDATA of record <paramref name="index"/>, ready to follow an owner name.</summary>
    public ReadOnlySpan<byte> Encoded(int index)
    {
        int start = _starts is not null ? _starts[index] : (uint)index < (uint)Count ? _start : ThrowIndex(index);
        return _records.AsSpan(start, 10 + BinaryPrimitives.ReadUInt16BigEndian(_records.AsSpan(start + 8)));
    }

    /// <summary>The block the records lie in (shared with the zone's other RRsets), for the tests of how they are packed.</summary>
    internal byte[] Storage => _records;

    /// <summary>
    /// A hint that the records are about to be read (the zone digest walks RRsets in an order unrelated to where they
    /// lie in memory). It only names an address, which the processor may ignore, so it cannot fault.
    /// </summary>
    internal unsafe void PrefetchRecords()
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported && _start < _records.Length)
        {
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(System.Runtime.CompilerServices.Unsafe.AsPointer(ref _records[_start]));
        }
    }

    private static int ThrowIndex(int index) => throw new ArgumentOutOfRangeException(nameof(index), index, "no such record in the RRset");

    /// <summary>
    /// Nodes in the same zone holding data for the names this RRset points at (NS, MX, SRV, SVCB and HTTPS targets):
    /// resolved at load so that additional-section processing (RFC 1034 §4.3.2 step 6) does no lookup.
    /// </summary>
    public ZoneNode[] AdditionalTargets { get; internal set; } = [];

    /// <summary>
    /// The same records (their octets shared, not copied) with other additional-section targets: for the next version
    /// of a zone whose target nodes changed (<see cref="ZoneUpdate"/>); this one, served, is left as it is.
    /// </summary>
    internal RRset WithTargets(ZoneNode[] targets) =>
        new(Type, _records, _start, _starts, _empty) { AdditionalTargets = targets, Signatures = Signatures };

    /// <summary>The RRSIGs at this owner that cover this RRset (RFC 4034 §3), found at load; null when unsigned.</summary>
    public CoveringSignatures? Signatures { get; internal set; }

    /// <summary>Writes TYPE, CLASS IN, TTL, RDLENGTH and RDATA: a record as it follows its owner name on the wire.</summary>
    internal static void WriteRecord(Span<byte> destination, RecordType type, uint ttl, ReadOnlySpan<byte> rdata)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)type);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)RecordClass.IN);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], ttl);
        BinaryPrimitives.WriteUInt16BigEndian(destination[8..], (ushort)rdata.Length);
        rdata.CopyTo(destination[10..]);
    }

    /// <summary>
    /// Writes the encoded records of one RRset, record by record, into <paramref name="buffer"/> from
    /// <paramref name="start"/> on; the caller made room for exactly <paramref name="capacity"/> records of the
    /// sizes it adds (10 + RDLENGTH each).
    /// </summary>
    internal struct RecordsWriter(RecordType type, int capacity, byte[] buffer, int start)
    {
        private readonly int _start = start;
        private int _used = start;
        private int _count;

        // Offsets are kept only for RRsets of more than one record: most never need them.
        private readonly int[]? _starts = capacity > 1 ? new int[capacity] : null;

        public readonly byte[] Buffer => buffer;

        public readonly int[]? Starts => _starts is null ? null : _count == _starts.Length ? _starts : _starts[.._count];

        public void Add(uint ttl, ReadOnlySpan<byte> rdata)
        {
            int length = 10 + rdata.Length;
            if (_starts is not null)
            {
                _starts[_count] = _used;
            }
            WriteRecord(buffer.AsSpan(_used, length), type, ttl, rdata);
            _used += length;
            _count++;
        }

        public readonly RRset ToRRset() => new(type, buffer, _start, Starts, _count == 0);
    }
}

/// <summary>
/// The encoded records of a zone's RRsets, packed into shared blocks while the zone is built. Blocks stay below the
/// large-object threshold (85,000 octets), so the GC can compact them with everything else. The first block is small
/// and each next one twice the last, up to 64 KiB: a provider's PoP serves tens of thousands of zones of ten records,
/// and a fixed 64 KiB block each (what a million-name zone wants) cost them 64 KiB apiece for a few hundred octets.
/// </summary>
internal sealed class RecordStore(int expectedOctets = 0)
{
    private const int FirstBlockSize = 512;

    private const int BlockSize = 64 * 1024;

    /// <summary>The least first block made for an expected size (a zone of one SOA and one NS takes about 90 octets).</summary>
    private const int SmallestFirstBlock = 64;

    private byte[] _block = [];
    private int _used;

    /// <summary>
    /// The first block's size: what the records are expected to take when the builder knows it (a ten-record zone's
    /// records take about 210 octets, and a 512-octet block left 3 MiB unused over 10,000 such zones), else 512.
    /// </summary>
    private int FirstBlock => expectedOctets > 0 ? Math.Clamp(expectedOctets, SmallestFirstBlock, BlockSize) : FirstBlockSize;

    /// <summary>Room for <paramref name="octets"/> octets: the block and where in it they start.</summary>
    public (byte[] Block, int Start) Allocate(int octets)
    {
        if (octets > BlockSize / 4)
        {
            // A large RRset gets an array of its own rather than leave most of a block unused.
            return (new byte[octets], 0);
        }
        if (_block.Length - _used < octets)
        {
            int size = _block.Length == 0 ? FirstBlock : Math.Min(_block.Length * 2, BlockSize);
            _block = new byte[Math.Max(size, octets)];
            _used = 0;
        }
        int start = _used;
        _used += octets;
        return (_block, start);
    }
}
