using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// The records of a zone as read, before they become a zone, held without an object or an array per record: a struct
/// each in large chunks, the RDATA packed back to back in large blocks, each owner name once per run of records that
/// share it (the reader hands such a run one <see cref="DnsName"/>), each file name once. A million-name zone read into
/// objects (a record, its RDATA array, its place in the file) took about as much memory as the zone itself, on top of
/// it, until the zone was built; here its records take 36 octets each plus their RDATA, in a few hundred allocations.
/// </summary>
/// <remarks>
/// One thread adds records (the reader); another may read those already published to it, through a
/// <see cref="RecordHandoff"/> (<see cref="ZoneLoader"/> groups a large file's records while it is being read). Chunks
/// never move once made, and the table of chunks is replaced, never changed in place where a reader could look, so a
/// published record stays where it was. The grouping links each record to the next of its RRset (<see cref="Entry.Next"/>).
/// </remarks>
internal sealed class RecordArena
{
    /// <summary>Records handed over at a time to a reader on another thread.</summary>
    private const int PublishEvery = 4096;

    /// <summary>RDATA blocks: the first small (a provider's PoP loads a hundred thousand zones of ten records side by side), then twice the last up to this.</summary>
    private const int RdataBlockMost = 1 << 20;

    private const int RdataBlockFirst = 256;

    /// <summary>One record as read: everything but its RDATA, which lies in a block (<see cref="RdataBlock"/>).</summary>
    internal struct Entry
    {
        /// <summary>The owner name, as an index into the arena's owner names.</summary>
        public int Owner;
        public uint Ttl;
        public int Line;
        public int Column;
        public int RdataOffset;

        /// <summary>The next record of the same RRset, in the order read, or -1: set by <see cref="ZoneGrouping"/>.</summary>
        public int Next;

        /// <summary>The file the record was read from, as an index into the arena's file names.</summary>
        public int File;
        public RecordType Type;
        public RecordClass Class;
        public ushort RdataLength;
        public ushort RdataBlock;
    }

    private readonly ChunkedList<Entry> _records = new(firstChunkShift: 6, mostChunkShift: 15);
    private readonly ChunkedList<DnsName> _owners = new(firstChunkShift: 4, mostChunkShift: 14);
    private readonly List<string> _files = new(1);
    private byte[][] _rdataBlocks = new byte[4][];
    private int _rdataBlockCount;
    private byte[] _rdata = [];
    private int _rdataUsed;
    private DnsName? _lastOwner;
    private string? _lastFile;
    private int _lastFileIndex;

    /// <summary>When set, the records are published to it every few thousand, for a reader on another thread.</summary>
    public RecordHandoff? Handoff { get; init; }

    /// <summary>The records added.</summary>
    public int Count => _records.Count;

    /// <summary>Runs of records with one owner name: the owners, when each owner's records stand together as they usually do.</summary>
    public int OwnerRuns => _owners.Count;

    public void Add(DnsName owner, RecordType type, RecordClass recordClass, uint ttl, ReadOnlySpan<byte> rdata, in SourceLocation location)
    {
        if (!ReferenceEquals(owner, _lastOwner))
        {
            _owners.Add(owner);
            _lastOwner = owner;
        }
        if (!ReferenceEquals(location.File, _lastFile))
        {
            _lastFileIndex = FileIndex(location.File);
            _lastFile = location.File;
        }
        var (block, offset) = StoreRdata(rdata);
        _records.Add(new Entry
        {
            Owner = _owners.Count - 1,
            Ttl = ttl,
            Line = location.Line,
            Column = location.Column,
            RdataOffset = offset,
            Next = -1,
            File = _lastFileIndex,
            Type = type,
            Class = recordClass,
            RdataLength = (ushort)rdata.Length,
            RdataBlock = block,
        });
        if (Handoff is not null && _records.Count % PublishEvery == 0)
        {
            Handoff.Publish(_records.Count);
        }
    }

    private int FileIndex(string file)
    {
        for (int i = _files.Count - 1; i >= 0; i--)
        {
            if (_files[i] == file)
            {
                return i;
            }
        }
        _files.Add(file);
        return _files.Count - 1;
    }

    private (ushort Block, int Offset) StoreRdata(ReadOnlySpan<byte> rdata)
    {
        if (_rdata.Length - _rdataUsed < rdata.Length || _rdataBlockCount == 0)
        {
            if (_rdataBlockCount > ushort.MaxValue)
            {
                // The reader reports it at the line reached, as it does a file that cannot be read on.
                throw new InvalidDataException("more RDATA than a zone may hold (64 GiB)");
            }
            int size = _rdata.Length == 0 ? RdataBlockFirst : Math.Min(_rdata.Length * 2, RdataBlockMost);
            _rdata = new byte[Math.Max(size, rdata.Length)];
            _rdataUsed = 0;
            if (_rdataBlockCount == _rdataBlocks.Length)
            {
                // A reader on another thread may be looking at the table: it gets a new one, with every block where it was.
                var larger = new byte[_rdataBlocks.Length * 2][];
                _rdataBlocks.CopyTo(larger, 0);
                larger[_rdataBlockCount] = _rdata;
                Volatile.Write(ref _rdataBlocks, larger);
            }
            else
            {
                _rdataBlocks[_rdataBlockCount] = _rdata;
            }
            _rdataBlockCount++;
        }
        int offset = _rdataUsed;
        rdata.CopyTo(_rdata.AsSpan(offset));
        _rdataUsed += rdata.Length;
        return ((ushort)(_rdataBlockCount - 1), offset);
    }

    /// <summary>Record <paramref name="index"/>: the reader's to write until published, the grouping's after.</summary>
    public ref Entry this[int index] => ref _records[index];

    public DnsName Owner(int index) => _owners[_records[index].Owner];

    public ReadOnlySpan<byte> Rdata(int index)
    {
        ref readonly var entry = ref _records[index];
        return Volatile.Read(ref _rdataBlocks)[entry.RdataBlock].AsSpan(entry.RdataOffset, entry.RdataLength);
    }

    public SourceLocation Location(int index)
    {
        ref readonly var entry = ref _records[index];
        return new SourceLocation(_files[entry.File], entry.Line, entry.Column);
    }

    /// <summary>The record as the reader's public form has it (for the few callers that want one, such as ZONEMD's).</summary>
    public ZoneRecord ToZoneRecord(int index)
    {
        ref readonly var entry = ref _records[index];
        return new ZoneRecord(Owner(index), entry.Type, entry.Class, entry.Ttl, Rdata(index).ToArray(), Location(index));
    }

    /// <summary>Lets every record go (the zone holds them now), though something may still hold the arena.</summary>
    public void Release()
    {
        _records.Clear();
        _owners.Clear();
        _rdataBlocks = [];
        _rdataBlockCount = 0;
        _rdata = [];
        _lastOwner = null;
    }
}

/// <summary>
/// A list that grows by adding chunks, never by copying: the first chunk small, each next twice the last up to a most,
/// then all of that size. A million entries are not copied into an array twice as large (and the old one left as
/// garbage) each time they outgrow one, and an entry stays where it is, so a reader on another thread may look at those
/// published to it while more are added.
/// </summary>
internal sealed class ChunkedList<T>
{
    private readonly int _firstShift;
    private readonly int _mostShift;
    private T[][] _chunks = new T[4][];
    private int _count;
    private int _capacity;

    /// <param name="firstChunkShift">The first chunk holds 2^this entries.</param>
    /// <param name="mostChunkShift">No chunk holds more than 2^this entries.</param>
    public ChunkedList(int firstChunkShift, int mostChunkShift)
    {
        _firstShift = firstChunkShift;
        _mostShift = mostChunkShift;
    }

    public int Count => _count;

    public ref T this[int index]
    {
        get
        {
            // Chunk 0 holds [0, F); chunk k >= 1 holds [F·2^(k-1), F·2^k) up to M entries; past M, each chunk M entries.
            var chunks = Volatile.Read(ref _chunks);
            uint i = (uint)index;
            if (i < 1u << _firstShift)
            {
                return ref chunks[0][i];
            }
            if (i < 1u << _mostShift)
            {
                int k = System.Numerics.BitOperations.Log2(i) - _firstShift + 1;
                return ref chunks[k][i - (1u << (_firstShift + k - 1))];
            }
            return ref chunks[_mostShift - _firstShift + (int)(i >> _mostShift)][i & ((1u << _mostShift) - 1)];
        }
    }

    public void Add(in T item)
    {
        if (_count == _capacity)
        {
            Grow();
        }
        int index = _count;
        this[index] = item;
        _count = index + 1;
    }

    private void Grow()
    {
        int k = ChunkCount();
        int size = 1 << (k == 0 ? _firstShift : Math.Min(_firstShift + k - 1, _mostShift));
        var chunk = new T[size];
        if (k == _chunks.Length)
        {
            // A reader on another thread may be looking at the table: it gets a new one, with every chunk where it was.
            var larger = new T[_chunks.Length * 2][];
            _chunks.CopyTo(larger, 0);
            larger[k] = chunk;
            Volatile.Write(ref _chunks, larger);
        }
        else
        {
            _chunks[k] = chunk;
        }
        _capacity += size;
    }

    private int ChunkCount()
    {
        int k = 0;
        while (k < _chunks.Length && _chunks[k] is not null)
        {
            k++;
        }
        return k;
    }

    public void Clear()
    {
        _chunks = new T[4][];
        _count = 0;
        _capacity = 0;
    }
}
