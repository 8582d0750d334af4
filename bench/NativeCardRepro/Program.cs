using System.Diagnostics;
using System.Runtime;

// What ZoneReloader.TakeFirstLargeRegion works around, without the server, in the order a start does it: a million
// small objects made in a pause-free region (the first load), a compacting collection, large arrays of references to
// them made and dropped (the digests' sort), a background collection, idle; then the first array of references large
// enough for a large-object region of its own (a reload's new node table), and the young collection after it.
//
//   dotnet publish -c Release -r linux-x64 -p:PublishAot=true -o /tmp/repro bench/NativeCardRepro && /tmp/repro/NativeCardRepro
//   dotnet run -c Release --project bench/NativeCardRepro
//
// Arguments leave a step out or change it: no-region, no-garbage, no-background; "bytes" makes the first large array
// 34 MiB of bytes, "small" 8 MiB of references (both followed by the 34 MiB array of references). On the README's
// 2-core machine (.NET 10.0.12), native: the young collection after the 34 MiB array of references took 123 ms (small:
// 114, after it), the next ones under 1; with no-region, no-garbage or no-background, or after "bytes" (0.3 ms, then
// 0.1 for the array of references; not so in the server, which makes an array of references), or JIT, each under
// 4 ms. The collection right after the compaction is a long one everywhere (54-84 ms): the server takes it at start
// (ZoneReloader.ReturnLoadMemory).
var options = new HashSet<string>(args);
const int Objects = 1_000_000;
if (!options.Contains("no-region"))
{
    GC.TryStartNoGCRegion(500L << 20);
}
var kept = new object[Objects];
var table = new Dictionary<string, object>(Objects);
for (int i = 0; i < Objects; i++)
{
    var name = "name" + i;
    kept[i] = new object[] { name, new byte[16] };
    table[name] = kept[i];
}
if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
{
    GC.EndNoGCRegion();
}
GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
Console.WriteLine($"after the compaction:          young collection {YoungCollection():F1} ms");
if (!options.Contains("no-garbage"))
{
    // Garbage as the zone digests leave it: large arrays of references to the objects kept.
    for (int i = 0; i < 4; i++)
    {
        var garbage = new object[1 << 20];
        for (int j = 0; j < garbage.Length; j++)
        {
            garbage[j] = kept[j % Objects];
        }
    }
}
if (!options.Contains("no-background"))
{
    GC.Collect(2, GCCollectionMode.Forced, blocking: false, compacting: false);
}
Thread.Sleep(3000);
Console.WriteLine($"idle:                          young collection {YoungCollection():F1} ms");
object first = options.Contains("bytes") ? new byte[34 << 20] : new object[(options.Contains("small") ? 8 : 34) << 20 >> 3];
Console.WriteLine($"after the first large array:   young collection {YoungCollection():F1} ms, the next {YoungCollection():F1} ms");
var second = new object[34 << 20 >> 3];
Console.WriteLine($"after a 34 MiB reference array: young collection {YoungCollection():F1} ms, the next {YoungCollection():F1} ms");
GC.KeepAlive(first);
GC.KeepAlive(second);
GC.KeepAlive(kept);
GC.KeepAlive(table);

static double YoungCollection()
{
    var clock = Stopwatch.StartNew();
    GC.Collect(0, GCCollectionMode.Forced, blocking: true);
    return clock.Elapsed.TotalMilliseconds;
}
