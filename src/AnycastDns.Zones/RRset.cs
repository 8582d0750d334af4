using System.Buffers.Binary;
using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// All records of one owner, class and type (RFC 2181 §5). The records are held once, pre-encoded with TYPE, CLASS,
/// TTL and RDLENGTH, so that answering is a copy; the uncompressed RDATA is the tail of that form.
/// </summary>
public sealed class RRset
{
    // Every record as it follows an owner name on the wire (TYPE, CLASS, TTL, RDLENGTH, RDATA), back to back, in one
    // array: a zone of millions of records cannot afford two arrays per record, nor a per-record TTL array, since the
    // TTL each record was given is right there in its encoded form.
    private readonly byte[] _records;

    // Where each record starts in _records; null for the common RRset of a single record, which starts at 0.
    private readonly int[]? _starts;

    /// <param name="ttls">Per-record TTLs where they differ (RRSIGs over different types, RFC 4034 §3), else null.</param>
    internal RRset(RecordType type, uint ttl, byte[][] rdata, uint[]? ttls = null)
    {
        int octets = 0;
        foreach (var r in rdata)
        {
            octets += 10 + r.Length;
        }
        var records = new RecordsWriter(type, rdata.Length, octets);
        for (int i = 0; i < rdata.Length; i++)
        {
            records.Add(ttls is null ? ttl : ttls[i], rdata[i]);
        }
        (Type, _records, _starts) = (type, records.ToArray(), records.Starts);
        IsCompressible = RdataLayout.IsCompressible(type);
    }

    private RRset(RecordType type, byte[] records, int[]? starts)
    {
        Type = type;
        _records = records;
        _starts = starts;
        IsCompressible = RdataLayout.IsCompressible(type);
    }

    public RecordType Type { get; }

    /// <summary>The RRset's TTL (RFC 2181 §5.2); for RRSIGs, the TTL of the first record (see <see cref="RecordTtl"/>).</summary>
    public uint Ttl => _records.Length == 0 ? 0 : BinaryPrimitives.ReadUInt32BigEndian(_records.AsSpan(4));

    /// <summary>
    /// The TTL of record <paramref name="index"/> as the zone gave it. It equals <see cref="Ttl"/> except among RRSIGs,
    /// whose records each take the TTL of the RRset they cover (RFC 4034 §3).
    /// </summary>
    public uint RecordTtl(int index) => BinaryPrimitives.ReadUInt32BigEndian(Encoded(index)[4..]);

    public int Count => _starts is null ? (_records.Length == 0 ? 0 : 1) : _starts.Length;

    /// <summary>True when names inside the RDATA are compressed on the wire (RFC 3597 §4), so the pre-encoded form cannot be used.</summary>
    public bool IsCompressible { get; }

    /// <summary>Uncompressed RDATA of record <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Rdata(int index) => Encoded(index)[10..];

    /// <summary>TYPE, CLASS, TTL, RDLENGTH and RDATA of record <paramref name="index"/>, ready to follow an owner name.</summary>
    public ReadOnlySpan<byte> Encoded(int index)
    {
        int start = _starts is null ? (index == 0 ? 0 : throw new ArgumentOutOfRangeException(nameof(index))) : _starts[index];
        return _records.AsSpan(start, 10 + BinaryPrimitives.ReadUInt16BigEndian(_records.AsSpan(start + 8)));
    }

    /// <summary>
    /// Nodes in the same zone holding data for the names this RRset points at (NS, MX, SRV, SVCB and HTTPS targets):
    /// resolved at load so that additional-section processing (RFC 1034 §4.3.2 step 6) does no lookup.
    /// </summary>
    public ZoneNode[] AdditionalTargets { get; internal set; } = [];

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
    /// Builds the encoded records of one RRset, record by record, into one array: of the exact size when
    /// <paramref name="octets"/> (10 + RDLENGTH per record) and <paramref name="capacity"/> (records) are right.
    /// </summary>
    internal struct RecordsWriter(RecordType type, int capacity, int octets)
    {
        private byte[] _buffer = new byte[octets];
        private int _used;
        private int _count;
        private int[]? _starts;

        public readonly int Count => _count;

        public readonly int[]? Starts => _count > 1 ? _starts![.._count] : null;

        public void Add(uint ttl, ReadOnlySpan<byte> rdata)
        {
            int length = 10 + rdata.Length;
            if (_buffer.Length < _used + length)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _used + length));
            }
            if (_count > 0)
            {
                // Offsets are kept only once a second record arrives: most RRsets never need them.
                _starts ??= new int[Math.Max(capacity, 2)];
                if (_starts.Length == _count)
                {
                    Array.Resize(ref _starts, _count * 2);
                }
            }
            if (_starts is not null)
            {
                _starts[_count] = _used;
            }
            WriteRecord(_buffer.AsSpan(_used, length), type, ttl, rdata);
            _used += length;
            _count++;
        }

        public readonly byte[] ToArray() => _buffer.Length == _used ? _buffer : _buffer[.._used];

        public readonly RRset ToRRset() => new(type, ToArray(), Starts);
    }
}
