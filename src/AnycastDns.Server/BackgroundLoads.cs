using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace AnycastDns.Server;

/// <summary>
/// Where a zone is loaded while the server answers (a reload, a transfer applied): threads of their own at a lower
/// scheduling priority (nice 10), so that a reload's parse and build, which take every core they are given, give way
/// to the receive threads the moment a query comes. With the loads on the thread pool, at the same priority as the
/// receive threads, a 1 M-name reload on 2 cores held queries up to ~180 ms (bench/compare.sh --reload-names).
/// </summary>
/// <remarks>
/// Lowering a thread's priority needs no privilege; raising it back does (RLIMIT_NICE), so the threads are the
/// scheduler's own and keep their priority for the life of the process, rather than pool threads lowered and
/// restored. A thread a load starts (the grouping thread of <c>ZoneLoader</c>) inherits its creator's priority; the
/// tasks and <c>Parallel.For</c> of the build run on <see cref="TaskScheduler.Current"/>, this scheduler. A task
/// waited for before it started runs inline on the waiting thread, so loads waiting on their own parts never deadlock.
/// Where the priority cannot be set (not Linux), the threads run at the normal one.
/// </remarks>
internal sealed partial class BackgroundLoads : TaskScheduler
{
    /// <summary>The nice value of the load threads: below every thread that answers (0), above idle work (19).</summary>
    public const int Nice = 10;

    public static readonly BackgroundLoads Scheduler = new(Math.Max(2, Environment.ProcessorCount));

    private readonly BlockingCollection<Task> _queue = [];
    private readonly int _threads;

    private BackgroundLoads(int threads)
    {
        _threads = threads;
        for (int i = 0; i < threads; i++)
        {
            new Thread(Work) { IsBackground = true, Name = "zone load" }.Start();
        }
    }

    public override int MaximumConcurrencyLevel => _threads;

    /// <summary>Runs <paramref name="load"/> on a load thread.</summary>
    public static Task<T> Run<T>(Func<T> load) =>
        Task.Factory.StartNew(load, CancellationToken.None, TaskCreationOptions.DenyChildAttach | TaskCreationOptions.RunContinuationsAsynchronously, Scheduler);

    /// <summary>Runs <paramref name="work"/> on a load thread.</summary>
    public static Task Run(Action work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach | TaskCreationOptions.RunContinuationsAsynchronously, Scheduler);

    private void Work()
    {
        LowerPriority();
        while (true)
        {
            RunNext();
        }
    }

    // The wait for a task and its run in a frame of their own, left before the next wait: the last task's result
    // holds what a reload replaced, and a loop never left keeps the temporaries of its calls alive (tier-0 and debug
    // code do): the versions replaced then outlived the collection meant to free them (ReloadMemoryTests).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void RunNext() => TryExecuteTask(_queue.Take());

    protected override void QueueTask(Task task) => _queue.Add(task);

    // A task waited for runs on the waiting thread if it has not started: the copy left in the queue is then skipped
    // (TryExecuteTask runs a task once).
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();

    private static void LowerPriority()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        try
        {
            // PRIO_PROCESS with a thread id sets that thread's nice value on Linux (setpriority(2), "BUGS").
            _ = SetPriority(0, GetThreadId(), Nice);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc: the loads run at the normal priority.
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc.so.6", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
