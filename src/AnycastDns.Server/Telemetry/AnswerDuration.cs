using System.Diagnostics;
using System.Globalization;

namespace AnycastDns.Server.Telemetry;

/// <summary>
/// The buckets of the answer-duration histogram: from the query in hand to the response ready to send, in seconds.
/// Fixed, because each receive thread counts into its own array of them without allocating or locking; exported as
/// cumulative <c>le</c> buckets the way Prometheus histograms are (OpenMetrics §"Histogram"), since
/// <see cref="System.Diagnostics.Metrics"/> has no observable histogram to report a pre-aggregated one through.
/// Authoritative answers from memory take microseconds, so the buckets start at 10 µs; the top ones catch pauses.
/// </summary>
internal static class AnswerDuration
{
    /// <summary>Upper bounds in seconds (inclusive); one more bucket, +Inf, follows them.</summary>
    private static readonly double[] Bounds = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

    /// <summary>The same bounds in <see cref="Stopwatch"/> ticks: a duration of t ticks is in the first bucket with t ≤ bound.</summary>
    private static readonly long[] TickBounds = [.. Bounds.Select(b => (long)Math.Floor(b * Stopwatch.Frequency))];

    private static readonly string[] BoundLabels = [.. Bounds.Select(b => b.ToString("0.######", CultureInfo.InvariantCulture)), "+Inf"];

    /// <summary>How many buckets there are, +Inf included.</summary>
    public const int BucketCount = 14;

    /// <summary>The bucket of a duration in ticks; a short linear scan, since nearly every answer is in the first few.</summary>
    public static int Bucket(long ticks)
    {
        var bounds = TickBounds;
        int i = 0;
        while (i < bounds.Length && ticks > bounds[i])
        {
            i++;
        }
        return i;
    }

    /// <summary>The <c>le</c> label of a bucket.</summary>
    public static string UpperBound(int bucket) => BoundLabels[bucket];

    public static double Seconds(long ticks) => ticks / (double)Stopwatch.Frequency;
}
