using System.Collections.Concurrent;

namespace AnycastDns.Zones;

/// <summary>
/// Records passed from the reader of a large zone file to the grouping while the file is still being read, so that
/// they are grouped by owner on a second core instead of after the reading (on a million names that hides most of the
/// grouping). The records stay in the <see cref="RecordArena"/>: what goes over is how many of them are ready, every few
/// thousand, which also orders the reader's writes before the grouping's reads.
/// </summary>
internal sealed class RecordHandoff : IDisposable
{
    private readonly BlockingCollection<int> _published = new();

    /// <summary>The first <paramref name="count"/> records are written and are the consumer's from now on.</summary>
    public void Publish(int count) => _published.Add(count);

    /// <summary>No more records (the reading ended, well or not): the consumer gets the rest and then stops.</summary>
    public void Complete(int count)
    {
        if (_published.IsAddingCompleted)
        {
            return;
        }
        _published.Add(count);
        _published.CompleteAdding();
    }

    /// <summary>How many records are ready, rising, waiting for each until <see cref="Complete"/>.</summary>
    public IEnumerable<int> Consume() => _published.GetConsumingEnumerable();

    public void Dispose() => _published.Dispose();
}
