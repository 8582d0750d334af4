using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// Groups a large zone's records by owner on a thread of its own while they are still being read (a zone file, a
/// transfer): the reader publishes how many records are ready through a <see cref="RecordHandoff"/>, and once it is
/// done the grouping is all but finished. On a million names that hides most of the grouping behind the reading.
/// </summary>
internal sealed class GroupingThread : IDisposable
{
    private readonly RecordHandoff _handoff;
    private readonly ZoneGrouping _grouping;
    private readonly Thread _thread;
    private Exception? _failure;
    private bool _finished;

    /// <param name="served">A reload's: the node table of the version served (see <see cref="ZoneGrouping"/>).</param>
    public GroupingThread(RecordArena arena, RecordHandoff handoff, DnsName origin, int expectedOwners, Dictionary<DnsName, ZoneNode>? served = null)
    {
        _handoff = handoff;
        _grouping = new ZoneGrouping(arena, origin, expectedOwners, served);
        _thread = new Thread(Run) { IsBackground = true, Name = "zone grouping" };
        _thread.Start();
    }

    private void Run()
    {
        try
        {
            int done = 0;
            foreach (int ready in _handoff.Consume())
            {
                _grouping.Add(done, ready);
                done = ready;
            }
        }
        catch (Exception e)
        {
            _failure = e;
        }
    }

    /// <summary>The first <paramref name="count"/> records are all there are: waits for them to be grouped.</summary>
    public ZoneGrouping Finish(int count)
    {
        Stop(count);
        if (_failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_failure);
        }
        return _grouping;
    }

    private void Stop(int count)
    {
        if (!_finished)
        {
            _finished = true;
            _handoff.Complete(count);
            _thread.Join();
        }
    }

    /// <summary>Stops the thread where the records published so far end (a reading that failed).</summary>
    public void Dispose() => Stop(0);
}
