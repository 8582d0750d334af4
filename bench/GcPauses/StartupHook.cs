using System.Diagnostics.Tracing;
using System.Text;

/// <summary>
/// Writes every garbage-collection pause of the process it is loaded into to the file named by <c>GCPAUSES_FILE</c>,
/// for finding which collections make answers wait (bench/pause.py measures the waits from outside; this says what
/// the runtime did then). Loaded by the runtime before Main, the JIT build only (a native build has no startup hooks):
/// <code>
/// dotnet build -c Release bench/GcPauses
/// DOTNET_STARTUP_HOOKS=$PWD/bench/GcPauses/bin/Release/net10.0/GcPauses.dll GCPAUSES_FILE=/tmp/gc.txt \
///     dotnet src/AnycastDns/bin/Release/net10.0/anycastdns.dll serve ...
/// </code>
/// The environment reaches the servers <c>bench/compare.sh</c> starts, so the same two variables before it trace its
/// runs. One line per pause: <c>start_ms pause_ms suspend_ms generation reason promoted_kib cards_ms type</c>:
/// start in ms of the Unix epoch; suspend: the part spent stopping the threads; generation -1 for a pause in which no
/// collection started (the second, final-marking pause of a background collection); the reason as the runtime numbers
/// it (0 a small allocation, 1 induced, 4 a large allocation, 7 induced but not forced, 17 a no-GC region's end);
/// promoted: what the collection found alive in generations 0 and 1; cards: the time it spent marking from the older
/// generations' card table (with <c>GCPAUSES_DETAIL=1</c>, else -1); type: 0 a blocking collection, 1 a background
/// one's first pause, 2 a young collection during a background one.
/// </summary>
/// <remarks>
/// <para>
/// <c>GCPAUSES_DETAIL=1</c> turns on the runtime's verbose GC events: the cards column, and after each line one
/// starting <c>#</c> with the types allocated most since the collection before (KiB, from the runtime's allocation
/// sample, one per ~100 KiB). The listener allocates for each event, so the allocations include its own.
/// </para>
/// <para>
/// <c>GCPAUSES_COLLECT_EVERY_MS=N</c> forces a generation-0 collection every N ms (reason 1), to see what one costs
/// at each moment of what the process does.
/// </para>
/// <para>
/// A pause runs from GCSuspendEEBegin to GCRestartEEEnd; the times are the events' own time stamps, not the
/// listener's clock: the events are delivered on another thread, late. Card marking is timed from the mark event for
/// handles (type 2) to the one for older generations (type 3), the order in which the runtime marks its roots.
/// </para>
/// </remarks>
internal static class StartupHook
{
    public static void Initialize()
    {
        var path = Environment.GetEnvironmentVariable("GCPAUSES_FILE");
        if (!string.IsNullOrEmpty(path))
        {
            _ = new PauseListener(path, Environment.GetEnvironmentVariable("GCPAUSES_DETAIL") == "1");
        }
        if (int.TryParse(Environment.GetEnvironmentVariable("GCPAUSES_COLLECT_EVERY_MS"), out int every) && every > 0)
        {
            new Thread(() =>
            {
                while (true)
                {
                    Thread.Sleep(every);
                    GC.Collect(0, GCCollectionMode.Forced, blocking: true);
                }
            }) { IsBackground = true, Name = "GcPauses collector" }.Start();
        }
    }

    private sealed class PauseListener : EventListener
    {
        private const EventKeywords GcKeyword = (EventKeywords)0x1;

        private readonly StreamWriter _writer;
        private readonly bool _detail;
        private readonly Dictionary<string, long> _allocated = new();

        private DateTime _suspended;
        private double _suspending = -1;
        private int _generation = -1;
        private int _reason = -1;
        private int _type = -1;
        private long _promoted = -1;
        private DateTime _handlesMarked;
        private double _cards = -1;

        public PauseListener(string path, bool detail)
        {
            _writer = new StreamWriter(path, append: false) { AutoFlush = true };
            _detail = detail;
            // The base constructor offered the sources before the fields were set: offered again now.
            foreach (var source in EventSource.GetSources())
            {
                OnEventSourceCreated(source);
            }
        }

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime" && _writer is not null)
            {
                EnableEvents(source, _detail ? EventLevel.Verbose : EventLevel.Informational, GcKeyword);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            switch (e.EventName)
            {
                case "GCAllocationTick_V4":
                    var type = e.Payload![5]?.ToString() ?? "?";
                    _allocated[type] = _allocated.GetValueOrDefault(type) + Convert.ToInt64(e.Payload![3]);
                    break;
                case "GCStart_V2":
                    _generation = Convert.ToInt32(e.Payload![1]);
                    _reason = Convert.ToInt32(e.Payload![2]);
                    _type = Convert.ToInt32(e.Payload![3]);
                    break;
                case "GCMarkWithType":
                    // HeapNum, ClrInstanceID, Type (0 stack, 1 finalization queue, 2 handles, 3 older generations), Bytes.
                    int root = Convert.ToInt32(e.Payload![2]);
                    if (root == 2)
                    {
                        _handlesMarked = e.TimeStamp;
                    }
                    else if (root == 3 && _handlesMarked != default)
                    {
                        _cards = (e.TimeStamp - _handlesMarked).TotalMilliseconds;
                    }
                    break;
                case "GCHeapStats_V2":
                    // TotalPromotedSize0 and 1 are payloads 1 and 3.
                    _promoted = Convert.ToInt64(e.Payload![1]) + Convert.ToInt64(e.Payload![3]);
                    break;
                case "GCSuspendEEBegin_V1":
                    _suspended = e.TimeStamp;
                    break;
                case "GCSuspendEEEnd_V1" when _suspended != default:
                    _suspending = (e.TimeStamp - _suspended).TotalMilliseconds;
                    break;
                case "GCRestartEEEnd_V1" when _suspended != default:
                    WritePause(e.TimeStamp);
                    break;
            }
        }

        private void WritePause(DateTime restarted)
        {
            long start = new DateTimeOffset(_suspended.ToUniversalTime()).ToUnixTimeMilliseconds();
            _writer.WriteLine(FormattableString.Invariant(
                $"{start} {(restarted - _suspended).TotalMilliseconds:F1} {_suspending:F1} {_generation} {_reason} {(_promoted < 0 ? -1 : _promoted >> 10)} {_cards:F1} {_type}"));
            if (_detail)
            {
                var line = new StringBuilder("#");
                foreach (var (type, bytes) in _allocated.OrderByDescending(a => a.Value).Take(8))
                {
                    line.Append(' ').Append(type).Append('=').Append(bytes >> 10);
                }
                _writer.WriteLine(line.ToString());
                _allocated.Clear();
            }
            _suspended = default;
            _handlesMarked = default;
            _suspending = _cards = -1;
            _generation = _reason = _type = -1;
            _promoted = -1;
        }
    }
}
