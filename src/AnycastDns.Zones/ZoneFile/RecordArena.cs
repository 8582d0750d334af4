using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// The records of a zone as read, before they become a zone, held without an object or an array per record: a struct
/// each in large chunks, the RDATA packed back to back in large blocks, each owner name once per run of records that
/// share it (the reader hands such a run one <see cref="DnsName"/>), each file name once. A million-name zone read into
/// objects (a record, its RDATA array, its place in the file) took about as much memory as the zone itself, on top of
/// it, until the zone was built; here its records take 36 octets each plus their RDATA, in a few hundred allocations.
/// Those chunks and blocks lie outside the GC heap (<see cref="ArenaMemory"/>), and the build gives each back as soon
/// as it has copied every record held there (<see cref="Hold"/>, <see cref="Consume"/>): the zone grows as they go.
/// </summary>
/// <remarks>
/// One thread adds records (the reader); another may read those already published to it, through a
/// <see cref="RecordHandoff"/> (<see cref="ZoneLoader"/> groups a large file's records while it is being read). Chunks
/// never move once made, and the table of chunks is replaced, never changed in place where a reader could look, so a
/// published record stays where it was. The grouping links each record to the next of its RRset (<see cref="Entry.Next"/>).
/// </remarks>
internal sealed unsafe class RecordArena : IDisposable
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

    private readonly NativeChunkedList<Entry> _records = new(firstChunkShift: 6, mostChunkShift: 15);
    private readonly ChunkedList<DnsName> _owners;
    private readonly List<string> _files = new(1);
    private RdataBlock[] _rdataBlocks = new RdataBlock[4];
    private int _rdataBlockCount;
    private byte* _rdata;
    private int _rdataLength;
    private int _rdataUsed;

    // The records of each chunk and each RDATA block that the grouping put in an RRset, less those the build has
    // copied: at zero the chunk or block goes back. Records dropped (duplicates, errors) are never held.
    private int[] _heldInChunk = [];
    private int[] _heldInBlock = [];
    private DnsName? _lastOwner;
    private string? _lastFile;
    private int _lastFileIndex;

    /// <param name="servedNames">
    /// True for a reload whose reader takes the owner names from the version served (<see cref="ZoneFileParser.ServedNames"/>):
    /// names old to the GC, whose chunks can be large (<see cref="ChunkedList{T}.ForReferences"/>).
    /// </param>
    public RecordArena(bool servedNames = false)
    {
        _owners = ChunkedList<DnsName>.ForReferences(firstChunkShift: 4, toOldObjects: servedNames);
    }

    /// <summary>When set, the records are published to it every few thousand, for a reader on another thread.</summary>
    public RecordHandoff? Handoff { get; init; }

    /// <summary>The records added.</summary>
    public int Count => _records.Count;

    /// <summary>Runs of records with one owner name: the owners, when each owner's records stand together as they usually do.</summary>
    public int OwnerRuns => _owners.Count;

    /// <summary>The octets of RDATA of every record added: with ten octets per record, their encoded size in a zone.</summary>
    public long RdataOctets { get; private set; }

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

    /// <summary>A block of RDATA in <see cref="ArenaMemory"/>: zero once given back.</summary>
    private struct RdataBlock
    {
        public nint Pointer;
        public int Length;
    }

    private (ushort Block, int Offset) StoreRdata(ReadOnlySpan<byte> rdata)
    {
        if (_rdataLength - _rdataUsed < rdata.Length || _rdataBlockCount == 0)
        {
            if (_rdataBlockCount > ushort.MaxValue)
            {
                // The reader reports it at the line reached, as it does a file that cannot be read on.
                throw new InvalidDataException("more RDATA than a zone may hold (64 GiB)");
            }
            int size = _rdataLength == 0 ? RdataBlockFirst : Math.Min(_rdataLength * 2, RdataBlockMost);
            _rdataLength = Math.Max(size, rdata.Length);
            _rdata = ArenaMemory.Allocate(_rdataLength);
            _rdataUsed = 0;
            ChunkTable.Put(ref _rdataBlocks, _rdataBlockCount, new RdataBlock { Pointer = (nint)_rdata, Length = _rdataLength });
            _rdataBlockCount++;
        }
        int offset = _rdataUsed;
        rdata.CopyTo(new Span<byte>(_rdata + offset, rdata.Length));
        _rdataUsed += rdata.Length;
        RdataOctets += rdata.Length;
        return ((ushort)(_rdataBlockCount - 1), offset);
    }

    /// <summary>Record <paramref name="index"/>: the reader's to write until published, the grouping's after.</summary>
    public ref Entry this[int index] => ref _records[index];

    public DnsName Owner(int index) => _owners[_records[index].Owner];

    public ReadOnlySpan<byte> Rdata(int index)
    {
        ref readonly var entry = ref _records[index];
        nint block = Volatile.Read(ref _rdataBlocks)[entry.RdataBlock].Pointer;
        if (block == 0)
        {
            throw new InvalidOperationException($"the RDATA of record {index} was read after its memory was given back");
        }
        return new ReadOnlySpan<byte>((byte*)block + entry.RdataOffset, entry.RdataLength);
    }

    /// <summary>Chunks of records and blocks of RDATA not yet given back (for tests).</summary>
    internal int MemoryKept
    {
        get
        {
            int kept = _records.ChunksKept;
            for (int block = 0; block < _rdataBlockCount; block++)
            {
                kept += _rdataBlocks[block].Pointer != 0 ? 1 : 0;
            }
            return kept;
        }
    }

    /// <summary>
    /// Record <paramref name="index"/> is in an RRset: its chunk and RDATA block stay until the build has copied it
    /// (<see cref="Consume"/>). Called by the grouping, on one thread, once per record.
    /// </summary>
    public void Hold(int index)
    {
        CountOne(ref _heldInChunk, _records.ChunkOf(index));
        CountOne(ref _heldInBlock, _records[index].RdataBlock);
    }

    private static void CountOne(ref int[] counts, int at)
    {
        if (at >= counts.Length)
        {
            Array.Resize(ref counts, Math.Max(at + 1, counts.Length * 2));
        }
        counts[at]++;
    }

    /// <summary>
    /// The build has copied record <paramref name="index"/>, which was held (<see cref="Hold"/>), and will not read it
    /// again: the last record of a chunk or RDATA block to go gives it back. Safe from the build's threads side by side.
    /// </summary>
    public void Consume(int index)
    {
        int block = _records[index].RdataBlock;
        if (Interlocked.Decrement(ref _heldInBlock[block]) == 0)
        {
            FreeBlock(block);
        }
        int chunk = _records.ChunkOf(index);
        if (Interlocked.Decrement(ref _heldInChunk[chunk]) == 0)
        {
            _records.Free(chunk);
        }
    }

    private void FreeBlock(int block)
    {
        ref var slot = ref _rdataBlocks[block];
        nint pointer = Interlocked.Exchange(ref slot.Pointer, 0);
        if (pointer != 0)
        {
            ArenaMemory.Free((byte*)pointer, slot.Length);
        }
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
    public void Release() => Dispose();

    /// <summary>Gives back every chunk and block still held; reading a record after throws.</summary>
    public void Dispose()
    {
        _records.Dispose();
        FreeBlocks();
        _owners.Clear();
        _rdataBlocks = [];
        _rdataBlockCount = 0;
        _rdata = null;
        _rdataLength = 0;
        _rdataUsed = 0;
        _lastOwner = null;
        GC.SuppressFinalize(this);
    }

    private void FreeBlocks()
    {
        for (int block = 0; block < _rdataBlockCount; block++)
        {
            FreeBlock(block);
        }
    }

    /// <summary>An arena nobody released (a transfer that failed half way): its blocks go back with it.</summary>
    ~RecordArena() => FreeBlocks();
}
