using System.Buffers;

namespace AnycastDns.Zones;

/// <summary>
/// What loading a zone file will take of the memory the runtime may use, asked before the load starts. Under a memory
/// limit (a container's, or DOTNET_GCHeapHardLimit) a load that runs the heap into the limit does not fail cleanly: the
/// allocation that fails may be on any thread, also inside the runtime's native code, which then aborts the process
/// (seen in CI: "terminate called after throwing an instance of 'PAL_SEHException'", exit 134). So when memory is
/// tight, loads run one at a time and a file whose load would not fit in what is free is refused before anything is
/// allocated; catching OutOfMemoryException in <see cref="ZoneLoader"/> stays as the backstop for a wrong estimate.
/// </summary>
public static class ZoneLoadMemory
{
    /// <summary>
    /// Heap at a load's peak: a fixed part, and so much per record and per octet of file. Measured with
    /// <c>anycastdns check</c> under DOTNET_GCHeapHardLimit, bisected to 4 MiB, with the records as read outside the heap
    /// (<see cref="ArenaMemory"/>) and given back while the nodes are made: 163,643 records in 4.4 MiB (unsigned,
    /// bench/gen.py) need 45 MiB; 1,636,371 records in 45.8 MiB 363 MiB; 490,934 records in 54 MiB (signed by
    /// ldns-signzone, ECDSA P-256 and NSEC) 102 MiB; a three-record zone 7 MiB (with the records as read in the heap:
    /// 49, 428, 169 and 7). 10 MiB, 215 per record and half an octet per octet of file give 46, 368, 138 and 10 MiB:
    /// each a little over, so a refused load would not have fitted, and close enough that the 1 M-name zone loads in
    /// a container of 1.3 times Knot's memory for it (508 MiB: a heap of 381). The records as read take about 40
    /// octets each and their RDATA besides, outside the heap, while the file is read (a container's limit leaves the
    /// runtime a quarter beside the heap).
    /// </summary>
    private const long PeakHeapFixed = 10 << 20;

    private const long PeakHeapPerRecord = 215;

    private const double PeakHeapPerOctet = 0.5;

    /// <summary>The most heap per octet of file a load takes (a zone of short unsigned records, one per line: about 10).</summary>
    private const long MostPeakHeapPerOctet = 12;

    /// <summary>A file whose largest possible need is under this share of what is free loads without being looked at.</summary>
    private const int PlentifulShare = 4;

    private static readonly Lock TightLoads = new();

    /// <summary>
    /// Runs <paramref name="load"/> for a file of <paramref name="size"/> octets when it fits, else returns the
    /// estimate that says why not (and <paramref name="load"/> is not run).
    /// </summary>
    public static ZoneLoadResult LoadIfItFits(string path, long size, Func<ZoneLoadResult> load, Func<Estimate, ZoneLoadResult> doesNotFit)
    {
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (size * MostPeakHeapPerOctet < (available - GC.GetTotalMemory(forceFullCollection: false)) / PlentifulShare)
        {
            return load();
        }
        // Tight: one such load at a time, each measured against what the previous ones left.
        lock (TightLoads)
        {
            var estimate = Measure(path, size);
            return estimate.Fits ? load() : doesNotFit(estimate);
        }
    }

    /// <summary>What is free and what loading the file needs; collects garbage first, so it is for the tight case.</summary>
    public static Estimate Measure(string path, long size)
    {
        long inUse = GC.GetTotalMemory(forceFullCollection: true);
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        long records = CountRecords(path);
        return new Estimate(available, inUse, size, records, PeakHeapFixed + records * PeakHeapPerRecord + (long)(size * PeakHeapPerOctet));
    }

    /// <param name="Available">The memory the runtime may use (a container's limit, DOTNET_GCHeapHardLimit, or the machine's).</param>
    /// <param name="InUse">The heap the zones already loaded (and the rest of the server) use.</param>
    /// <param name="Records">Entries in the file, -1 when it could not be read.</param>
    /// <param name="Need">The heap the load takes at its peak.</param>
    public readonly record struct Estimate(long Available, long InUse, long Size, long Records, long Need)
    {
        public bool Fits => Records < 0 || InUse + Need <= Available;
    }

    private static readonly SearchValues<byte> Significant = SearchValues.Create("\n\"();\\"u8);

    /// <summary>
    /// The entries in a zone file: lines that are not blank nor only a comment and that do not continue a parenthesized
    /// entry (RFC 1035 section 5.1), so a signature written over several lines counts once. Directives count as
    /// entries, and files named by <c>$INCLUDE</c> are not read: an estimate.
    /// </summary>
    public static long CountRecords(string path)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1, FileOptions.SequentialScan);
            var counter = new EntryCounter();
            int read;
            while ((read = file.Read(buffer, 0, buffer.Length)) > 0)
            {
                counter.Add(buffer.AsSpan(0, read));
            }
            return counter.Finish();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1; // the load says what is wrong with the file
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Counts entries as text arrives in pieces; quotes, escapes, comments and parentheses as the lexer reads them.</summary>
    public struct EntryCounter
    {
        private long _entries;
        private int _depth;
        private bool _quoted;
        private bool _comment;
        private bool _escaped;
        private bool _content;
        private bool _continues;

        public void Add(ReadOnlySpan<byte> text)
        {
            while (!text.IsEmpty)
            {
                if (_escaped)
                {
                    _escaped = false;
                    _content = true;
                    if (text[0] != (byte)'\n')
                    {
                        text = text[1..];
                        continue;
                    }
                }
                if (_comment)
                {
                    int end = text.IndexOf((byte)'\n');
                    if (end < 0)
                    {
                        return;
                    }
                    text = text[end..];
                    _comment = false;
                }
                int next = text.IndexOfAny(Significant);
                var plain = next < 0 ? text : text[..next];
                if (!_content && plain.IndexOfAnyExcept(" \t\r"u8) >= 0)
                {
                    _content = true;
                }
                if (next < 0)
                {
                    return;
                }
                byte c = text[next];
                text = text[(next + 1)..];
                switch (c)
                {
                    case (byte)'\n':
                        EndLine();
                        break;
                    case (byte)'\\':
                        _escaped = true;
                        break;
                    case (byte)'"':
                        _quoted = !_quoted;
                        _content = true;
                        break;
                    case (byte)';' when !_quoted:
                        _comment = true;
                        break;
                    case (byte)'(' when !_quoted:
                        _depth++;
                        _content = true;
                        break;
                    case (byte)')' when !_quoted:
                        _depth = Math.Max(0, _depth - 1);
                        break;
                    default:
                        _content = true;
                        break;
                }
            }
        }

        public long Finish()
        {
            EndLine();
            return _entries;
        }

        private void EndLine()
        {
            if (_content && !_continues)
            {
                _entries++;
            }
            // A quoted string does not span lines in practice; a stray quote must not swallow the rest of the count.
            _quoted = false;
            _comment = false;
            _content = false;
            _continues = _depth > 0;
        }
    }
}
