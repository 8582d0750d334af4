using AnycastDns.Server.Telemetry;

namespace AnycastDns.Server.Tests.Telemetry;

/// <summary>One line per interval, the rest counted and reported with the next line; many threads at once.</summary>
public sealed class LogThrottleTests
{
    [Fact]
    public void The_first_occurrence_is_logged_the_rest_of_the_interval_counted_and_reported_with_the_next_line()
    {
        long now = 1_000_000;
        var throttle = new LogThrottle(TimeSpan.FromSeconds(10), () => now);

        Assert.True(throttle.ShouldLog(out long suppressed));
        Assert.Equal(0, suppressed);
        for (int i = 0; i < 500; i++)
        {
            now += 10;
            Assert.False(throttle.ShouldLog(out _));
        }
        now += 9_999 - 5_000;
        Assert.False(throttle.ShouldLog(out _));

        now = 1_010_000;
        Assert.True(throttle.ShouldLog(out suppressed));
        Assert.Equal(501, suppressed);

        // Quiet for a long time: the next occurrence is written at once, with nothing left out.
        now += 3_600_000;
        Assert.True(throttle.ShouldLog(out suppressed));
        Assert.Equal(0, suppressed);
    }

    [Fact]
    public void Threads_together_get_one_line_and_every_other_occurrence_is_counted()
    {
        long now = 5_000;
        var throttle = new LogThrottle(TimeSpan.FromSeconds(10), () => Volatile.Read(ref now));
        int lines = 0;
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                if (throttle.ShouldLog(out _))
                {
                    Interlocked.Increment(ref lines);
                }
            }
        });
        Assert.Equal(1, lines);

        Volatile.Write(ref now, 15_000);
        Assert.True(throttle.ShouldLog(out long suppressed));
        Assert.Equal(39_999, suppressed);
    }
}
