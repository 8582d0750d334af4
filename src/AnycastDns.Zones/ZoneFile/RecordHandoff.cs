using System.Collections.Concurrent;

namespace AnycastDns.Zones;

/// <summary>
/// Records passed from the reader of a large zone file to the builder while the file is still being read, so that the
/// builder groups them by owner on a second core instead of after the reading (on a million names that hides most of
/// the grouping). One thread adds, one consumes; records go over in chunks to keep the hand-over cheap.
/// </summary>
internal sealed class RecordHandoff : IDisposable
{
    private const int ChunkSize = 4096;

    private readonly BlockingCollection<ZoneRecord[]> _chunks = new();
    private ZoneRecord[] _chunk = new ZoneRecord[ChunkSize];
    private int _count;

    public void Add(ZoneRecord record)
    {
        _chunk[_count++] = record;
        if (_count == ChunkSize)
        {
            _chunks.Add(_chunk);
            _chunk = new ZoneRecord[ChunkSize];
            _count = 0;
        }
    }

    /// <summary>No more records (the reading ended, well or not): the consumer gets the rest and then stops.</summary>
    public void Complete()
    {
        if (_chunks.IsAddingCompleted)
        {
            return;
        }
        if (_count > 0)
        {
            _chunks.Add(_chunk[.._count]);
        }
        _chunks.CompleteAdding();
    }

    /// <summary>The records in the order read, waiting for each chunk until <see cref="Complete"/>.</summary>
    public IEnumerable<ZoneRecord> Consume()
    {
        foreach (var chunk in _chunks.GetConsumingEnumerable())
        {
            foreach (var record in chunk)
            {
                yield return record;
            }
        }
    }

    public void Dispose() => _chunks.Dispose();
}
