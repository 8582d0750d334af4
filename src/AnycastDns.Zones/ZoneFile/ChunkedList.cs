namespace AnycastDns.Zones;

/// <summary>
/// A list that grows by adding chunks, never by copying: the first chunk small, each next twice the last up to a most,
/// then all of that size. A million entries are not copied into an array twice as large (and the old one left as
/// garbage) each time they outgrow one, and an entry stays where it is, so a reader on another thread may look at those
/// published to it while more are added. The chunks are arrays here, native memory in <see cref="NativeChunkedList{T}"/>.
/// </summary>
/// <remarks>
/// Chunk 0 holds entries [0, F); chunk k >= 1 holds [F·2^(k-1), F·2^k), up to M entries a chunk; past M, each chunk M
/// entries (F = 2^first shift, M = 2^most shift).
/// </remarks>
internal abstract class ChunkTable<TChunk>
{
    private readonly int _firstShift;
    private readonly int _mostShift;
    private TChunk[] _chunks = new TChunk[4];
    private int _capacity;

    /// <param name="firstChunkShift">The first chunk holds 2^this entries.</param>
    /// <param name="mostChunkShift">No chunk holds more than 2^this entries.</param>
    protected ChunkTable(int firstChunkShift, int mostChunkShift)
    {
        _firstShift = firstChunkShift;
        _mostShift = mostChunkShift;
    }

    public int Count { get; private set; }

    /// <summary>The entries of the largest chunk the list makes.</summary>
    public int MostChunkEntries => 1 << _mostShift;

    /// <summary>Chunks made so far.</summary>
    protected int ChunkCount { get; private set; }

    /// <summary>The table of chunks as a reader on another thread may see it.</summary>
    protected TChunk[] Chunks => Volatile.Read(ref _chunks);

    /// <summary>The chunk that holds entry <paramref name="index"/>.</summary>
    public int ChunkOf(int index) => Locate(index, out _);

    /// <summary>The chunk that holds entry <paramref name="index"/>, and where in it.</summary>
    protected int Locate(int index, out uint offset)
    {
        uint i = (uint)index;
        if (i < 1u << _firstShift)
        {
            offset = i;
            return 0;
        }
        if (i < 1u << _mostShift)
        {
            int k = System.Numerics.BitOperations.Log2(i) - _firstShift + 1;
            offset = i - (1u << (_firstShift + k - 1));
            return k;
        }
        offset = i & ((1u << _mostShift) - 1);
        return _mostShift - _firstShift + (int)(i >> _mostShift);
    }

    /// <summary>Entries chunk <paramref name="k"/> holds.</summary>
    protected int ChunkSize(int k) => 1 << (k == 0 ? _firstShift : Math.Min(_firstShift + k - 1, _mostShift));

    /// <summary>A new chunk of <paramref name="entries"/> entries.</summary>
    protected abstract TChunk NewChunk(int entries);

    /// <summary>Room for one more entry; returns its index, which the caller writes before counting it (<see cref="Counted"/>).</summary>
    protected int Reserve()
    {
        if (Count == _capacity)
        {
            int size = ChunkSize(ChunkCount);
            ChunkTable.Put(ref _chunks, ChunkCount, NewChunk(size));
            ChunkCount++;
            _capacity += size;
        }
        return Count;
    }

    protected void Counted() => Count++;

    protected ref TChunk Slot(int k) => ref _chunks[k];

    /// <summary>Empties the list: a new table, nothing in it.</summary>
    protected void Reset()
    {
        _chunks = new TChunk[4];
        ChunkCount = 0;
        Count = 0;
        _capacity = 0;
    }
}

/// <summary>The table of chunks or blocks that a reader on another thread may be looking at while it grows.</summary>
internal static class ChunkTable
{
    /// <summary>
    /// Puts <paramref name="item"/> at <paramref name="k"/> of <paramref name="table"/>. A reader on another thread may be
    /// looking at the table: when it is full, it gets a new one, with every item where it was.
    /// </summary>
    public static void Put<TItem>(ref TItem[] table, int k, TItem item)
    {
        if (k == table.Length)
        {
            var larger = new TItem[table.Length * 2];
            table.CopyTo(larger, 0);
            larger[k] = item;
            Volatile.Write(ref table, larger);
        }
        else
        {
            table[k] = item;
        }
    }
}

/// <summary>A <see cref="ChunkTable{TChunk}"/> of arrays: for entries that hold references (names, nodes).</summary>
internal sealed class ChunkedList<T>(int firstChunkShift, int mostChunkShift) : ChunkTable<T[]>(firstChunkShift, mostChunkShift)
{
    /// <summary>Arrays from this size lie in the GC's large object heap.</summary>
    private const int LargeObjectSize = 85_000;

    /// <summary>
    /// A list of entries holding references: chunks under the large object heap's threshold when they point at new
    /// objects, up to 2^14 entries when every reference goes to objects the GC already holds old.
    /// </summary>
    /// <remarks>
    /// An array in the large object heap counts as old to the GC from the start, so each reference to a new object
    /// stored in it marks a card, and the marks outlive the array: the next large arrays put where it was are scanned whole
    /// by the next young-generation collection. The first load of a million names left its owner chunks so, and the
    /// first reload's first young collection then took 45-86 ms against 5-7 (traced with bench/GcPauses: the time went
    /// to marking through cards, which found almost nothing). Small chunks are young while a load fills them and mark
    /// nothing. A reload that takes the served names and nodes stores only old references, which mark nothing either:
    /// its chunks are large, since small ones that lived through the reload would be copied from one generation to the
    /// next (a young collection every few MiB, 5-44 ms each, measured).
    /// </remarks>
    public static ChunkedList<T> ForReferences(int firstChunkShift, bool toOldObjects)
    {
        int small = System.Numerics.BitOperations.Log2((uint)(LargeObjectSize / System.Runtime.CompilerServices.Unsafe.SizeOf<T>()));
        return new ChunkedList<T>(firstChunkShift, toOldObjects ? Math.Max(small, 14) : small);
    }

    public ref T this[int index]
    {
        get
        {
            int k = Locate(index, out uint offset);
            return ref Chunks[k][offset];
        }
    }

    public void Add(in T item)
    {
        this[Reserve()] = item;
        Counted();
    }

    protected override T[] NewChunk(int entries) => new T[entries];

    public void Clear() => Reset();
}

/// <summary>
/// A <see cref="ChunkTable{TChunk}"/> whose chunks lie in <see cref="ArenaMemory"/>: each can be freed on its own once
/// nothing will read its entries again, and all of them when the list is disposed (or, failing that, finalized). An
/// entry read in a chunk already freed throws, as one past the end does: never memory given back.
/// </summary>
internal sealed unsafe class NativeChunkedList<T>(int firstChunkShift, int mostChunkShift)
    : ChunkTable<nint>(firstChunkShift, mostChunkShift), IDisposable where T : unmanaged
{
    public ref T this[int index]
    {
        get
        {
            int k = Locate(index, out uint offset);
            nint chunk = Chunks[k];
            if (chunk == 0)
            {
                ThrowFreed(index);
            }
            return ref ((T*)chunk)[offset];
        }
    }

    /// <summary>Chunks made and not yet given back.</summary>
    public int ChunksKept
    {
        get
        {
            int kept = 0;
            for (int k = 0; k < ChunkCount; k++)
            {
                kept += Chunks[k] != 0 ? 1 : 0;
            }
            return kept;
        }
    }

    public void Add(in T item)
    {
        this[Reserve()] = item;
        Counted();
    }

    protected override nint NewChunk(int entries) => (nint)ArenaMemory.Allocate(entries * sizeof(T));

    /// <summary>Gives chunk <paramref name="k"/> back; nothing may read its entries after. Safe from several threads.</summary>
    public void Free(int k)
    {
        nint chunk = Interlocked.Exchange(ref Slot(k), 0);
        if (chunk != 0)
        {
            ArenaMemory.Free((byte*)chunk, ChunkSize(k) * sizeof(T));
        }
    }

    /// <summary>Gives every chunk back; the list is empty after.</summary>
    public void Dispose()
    {
        FreeAll();
        Reset();
        GC.SuppressFinalize(this);
    }

    private void FreeAll()
    {
        for (int k = 0; k < ChunkCount; k++)
        {
            Free(k);
        }
    }

    ~NativeChunkedList() => FreeAll();

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowFreed(int index) =>
        throw new InvalidOperationException($"entry {index} was read after its memory was given back");
}
