using System.Buffers.Binary;
using System.Net;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server.RateLimiting;

/// <summary>
/// The client prefixes response rate limiting is holding back now: one log line when a prefix starts being limited
/// and one when it stops, never one per query. The receive threads only mark an entry of a small fixed table; a
/// sweep once a second writes the lines (at most <see cref="LinesPerSweep"/> of each kind, the rest summed in one
/// line, so that a flood spoofed from many prefixes cannot write the log) and counts the prefixes for the gauge.
/// </summary>
internal sealed partial class LimitedPrefixes : IDisposable
{
    private const int Capacity = 4096;
    private const int Ways = 4;
    private const int LinesPerSweep = 10;

    private readonly Entry[] _entries = new Entry[Capacity];
    private readonly SpinGates _gates = new(Capacity / Ways);
    private readonly ILogger _logger;
    private readonly RateLimitOptions _options;
    private readonly uint _quietMs;
    private readonly long _epoch;
    private readonly Timer _sweep;
    private int _active;

    internal LimitedPrefixes(RateLimitOptions options, long epoch, ILogger logger)
    {
        _epoch = epoch;
        _options = options;
        _logger = logger;
        // A prefix has stopped being limited once none of its responses has been for as long as a bucket remembers.
        _quietMs = (uint)options.WindowSeconds * 1000 + 1000;
        _sweep = new Timer(_ => Sweep(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>Prefixes with a response limited within the window, as of the last sweep.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>Marks a prefix as limited now (called for limited responses only, so rarely contended).</summary>
    internal void Note(ulong high, ulong low, bool v6, RateLimitAction action, uint now)
    {
        int set = (int)((high ^ low ^ (high >> 29)) * 0x9E3779B97F4A7C15 >> 52) & (Capacity / Ways - 1);
        ref int gate = ref _gates.Enter(set);
        ref Entry e = ref Slot(set, high, low, v6, now);
        e.LastLimited = now == 0 ? 1 : now;
        switch (action)
        {
            case RateLimitAction.Drop: e.Dropped++; break;
            case RateLimitAction.Slip: e.Slipped++; break;
            default: e.Logged++; break;
        }
        SpinGates.Exit(ref gate);
    }

    /// <summary>Writes the start and stop lines due and recounts the active prefixes; runs once a second.</summary>
    internal void Sweep()
    {
        uint now = (uint)(Environment.TickCount64 - _epoch);
        int started = 0, stopped = 0, active = 0;
        var starts = new List<Entry>();
        var stops = new List<Entry>();
        for (int i = 0; i < _entries.Length; i++)
        {
            ref int gate = ref _gates.Enter(i / Ways);
            try
            {
                ref Entry e = ref _entries[i];
                if (e.LastLimited == 0)
                {
                    continue;
                }
                if (now - e.LastLimited > _quietMs)
                {
                    if (e.Announced && ++stopped <= LinesPerSweep)
                    {
                        stops.Add(e);
                    }
                    e = default;
                    continue;
                }
                active++;
                if (!e.Announced)
                {
                    e.Announced = true;
                    e.Since = e.LastLimited;
                    if (++started <= LinesPerSweep)
                    {
                        starts.Add(e);
                    }
                }
            }
            finally
            {
                SpinGates.Exit(ref gate);
            }
        }
        // Written outside the locks: a receive thread never waits for the console.
        foreach (var e in starts)
        {
            LogStarted(e);
        }
        foreach (var e in stops)
        {
            LogStopped(e, now);
        }
        if (started > LinesPerSweep)
        {
            LogMoreStarted(_logger, started - LinesPerSweep, active);
        }
        if (stopped > LinesPerSweep)
        {
            LogMoreStopped(_logger, stopped - LinesPerSweep, active);
        }
        Volatile.Write(ref _active, active);
    }

    public void Dispose() => _sweep.Dispose();

    private ref Entry Slot(int set, ulong high, ulong low, bool v6, uint now)
    {
        int first = set * Ways;
        int victim = first;
        uint oldest = 0;
        for (int i = first; i < first + Ways; i++)
        {
            ref Entry e = ref _entries[i];
            if (e.LastLimited != 0 && e.High == high && e.Low == low && e.V6 == v6)
            {
                return ref e;
            }
            uint age = e.LastLimited == 0 ? uint.MaxValue : now - e.LastLimited;
            if (age > oldest)
            {
                oldest = age;
                victim = i;
            }
        }
        // The table is small on purpose: a prefix pushed out here is forgotten without its stop line.
        ref Entry fresh = ref _entries[victim];
        fresh = default;
        fresh.High = high;
        fresh.Low = low;
        fresh.V6 = v6;
        return ref fresh;
    }

    private void LogStarted(in Entry e)
    {
        if (_options.LogOnly)
        {
            LogWouldLimit(_logger, Text(e), _options.ResponsesPerSecond);
        }
        else
        {
            LogLimiting(_logger, Text(e), _options.ResponsesPerSecond, _options.Slip);
        }
    }

    private void LogStopped(in Entry e, uint now) =>
        LogStop(_logger, Text(e), (now - e.Since) / 1000, e.Dropped, e.Slipped, e.Logged);

    private string Text(in Entry e)
    {
        Span<byte> octets = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(octets, e.High);
        BinaryPrimitives.WriteUInt64BigEndian(octets[8..], e.Low);
        var address = e.V6 ? new IPAddress(octets) : new IPAddress(octets[..4]);
        return $"{address}/{(e.V6 ? _options.IPv6PrefixLength : _options.IPv4PrefixLength)}";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "rrl: limiting responses to {Prefix} (over {Rate} a second per bucket; slip {Slip})")]
    private static partial void LogLimiting(ILogger logger, string prefix, int rate, int slip);

    [LoggerMessage(Level = LogLevel.Warning, Message = "rrl (log only): would limit responses to {Prefix} (over {Rate} a second per bucket)")]
    private static partial void LogWouldLimit(ILogger logger, string prefix, int rate);

    [LoggerMessage(Level = LogLevel.Information, Message = "rrl: stopped limiting {Prefix} after {Seconds} s: {Dropped} dropped, {Slipped} slipped, {LogOnly} let through (log only)")]
    private static partial void LogStop(ILogger logger, string prefix, uint seconds, long dropped, long slipped, long logOnly);

    [LoggerMessage(Level = LogLevel.Warning, Message = "rrl: {Count} more prefixes started being limited (not logged one by one); {Active} limited now")]
    private static partial void LogMoreStarted(ILogger logger, int count, int active);

    [LoggerMessage(Level = LogLevel.Information, Message = "rrl: {Count} more prefixes stopped being limited (not logged one by one); {Active} limited now")]
    private static partial void LogMoreStopped(ILogger logger, int count, int active);

    private struct Entry
    {
        public ulong High;
        public ulong Low;
        public bool V6;
        public bool Announced;
        public uint LastLimited;
        public uint Since;
        public long Dropped;
        public long Slipped;
        public long Logged;
    }
}
