using System.Diagnostics;
using AnycastDns.Server.Anycast;
using AnycastDns.TestSupport.Lab;
using Xunit.Abstractions;

namespace AnycastDns.Lab.Tests;

/// <summary>
/// The announcement toggle against real BIRD 2: a pop running deploy/bird/bird.conf and an upstream router, each in
/// its own network namespace, talking eBGP. What counts is what the router holds, read from its own BIRD.
/// </summary>
public sealed class BirdAnnouncementLabTests(ITestOutputHelper output)
{
    /// <summary>The bound the lifecycle can rely on in the lab: BIRD sends updates at once, so this is generous.</summary>
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(60);

    private static BirdAnnouncement Announcement(LabTopology lab) =>
        new(new BirdAnnouncementOptions { SocketPath = lab.PopBird.SocketPath, Protocol = "anycast" });

    [Fact]
    public async Task Announce_reaches_the_router_and_withdraw_leaves_it_each_within_2_s()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        await using var lab = await LabTopology.StartAsync(timeout.Token);
        var announcement = Announcement(lab);
        Assert.False(await lab.RouterHasAnycastRouteAsync(timeout.Token), "the route is there before any announce (bird.conf must say disabled yes)\n" + lab.Logs);

        // Timed from the call, so that BIRD's reply and the BGP update both count.
        var clock = Stopwatch.StartNew();
        await announcement.AnnounceAsync(timeout.Token);
        var announceCall = clock.Elapsed;
        await RouterRouteAsync(lab, present: true, timeout.Token);
        var announced = clock.Elapsed;

        clock.Restart();
        await announcement.WithdrawAsync(timeout.Token);
        var withdrawCall = clock.Elapsed;
        await RouterRouteAsync(lab, present: false, timeout.Token);
        var withdrawn = clock.Elapsed;

        Assert.True(announced < Propagation && withdrawn < Propagation, $"announce {announced}, withdraw {withdrawn}");
        output.WriteLine($"announce: call {Ms(announceCall)}, route on the router after {Ms(announced)}; withdraw: call {Ms(withdrawCall)}, route gone after {Ms(withdrawn)}");
    }

    [Fact]
    public async Task Announcing_twice_and_withdrawing_twice_are_successes()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        await using var lab = await LabTopology.StartAsync(timeout.Token);
        var announcement = Announcement(lab);

        await announcement.AnnounceAsync(timeout.Token);
        await announcement.AnnounceAsync(timeout.Token); // BIRD: 0010 already enabled
        await RouterRouteAsync(lab, present: true, timeout.Token);
        Assert.True((await announcement.GetStatusAsync(timeout.Token)).IsEnabled);

        await announcement.WithdrawAsync(timeout.Token);
        await announcement.WithdrawAsync(timeout.Token); // BIRD: 0008 already disabled
        await RouterRouteAsync(lab, present: false, timeout.Token);
        Assert.False((await announcement.GetStatusAsync(timeout.Token)).IsEnabled);
    }

    [Fact]
    public async Task Status_says_withdrawn_then_announced_then_withdrawn()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        await using var lab = await LabTopology.StartAsync(timeout.Token);
        var announcement = Announcement(lab);

        var initial = await announcement.GetStatusAsync(timeout.Token);
        Assert.Equal(AnnouncementState.Withdrawn, initial.State);
        Assert.StartsWith("anycast Static master4 down ", initial.Detail, StringComparison.Ordinal);

        await announcement.AnnounceAsync(timeout.Token);
        Assert.True((await announcement.GetStatusAsync(timeout.Token)).IsEnabled);
        var up = await StatusAsync(announcement, AnnouncementState.Announced, timeout.Token);
        Assert.True(up.IsAnnounced);
        Assert.StartsWith("anycast Static master4 up ", up.Detail, StringComparison.Ordinal);

        await announcement.WithdrawAsync(timeout.Token);
        Assert.False((await announcement.GetStatusAsync(timeout.Token)).IsAnnounced);
        var down = await StatusAsync(announcement, AnnouncementState.Withdrawn, timeout.Token);
        Assert.False(down.IsEnabled);
        output.WriteLine($"{initial.Detail} | {up.Detail} | {down.Detail}");
    }

    [Fact]
    public async Task Bird_configure_withdraws_the_route_until_announce_is_asserted_again()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        await using var lab = await LabTopology.StartAsync(timeout.Token);
        var announcement = Announcement(lab);
        await announcement.AnnounceAsync(timeout.Token);
        await RouterRouteAsync(lab, present: true, timeout.Token);

        // What an operator's reload does: BIRD reads bird.conf again and the protocol is back to `disabled yes`.
        // BIRD says 0003 Reconfigured, or 0004 Reconfiguration in progress when protocols must restart, as anycast does.
        var configure = await lab.PopBird.BirdcAsync("configure");
        Assert.True(configure.ExitCode == 0 && configure.StandardOutput.Contains("Reconfigur", StringComparison.Ordinal), configure.Output);
        var lost = await RouterRouteAsync(lab, present: false, timeout.Token);
        Assert.False(await lab.RouterHasAnycastRouteAsync(timeout.Token));
        Assert.Equal(AnnouncementState.Withdrawn, (await StatusAsync(announcement, AnnouncementState.Withdrawn, timeout.Token)).State);

        // Hence the lifecycle re-asserts: the same call brings it back.
        var clock = Stopwatch.StartNew();
        await announcement.AnnounceAsync(timeout.Token);
        await RouterRouteAsync(lab, present: true, timeout.Token);
        output.WriteLine($"birdc configure -> route gone {Ms(lost)} after birdc returned; announce again -> route back after {Ms(clock.Elapsed)}");
    }

    private static string Ms(TimeSpan time) => $"{time.TotalMilliseconds:0.#} ms";

    /// <summary>Waits, bounded by <see cref="Propagation"/>, until the router has (or lacks) the anycast route; returns how long it took.</summary>
    private static async Task<TimeSpan> RouterRouteAsync(LabTopology lab, bool present, CancellationToken cancellationToken)
    {
        var took = await BoundedPoll.UntilAsync(
            async token => await lab.RouterHasAnycastRouteAsync(token) == present, Propagation, PollInterval, cancellationToken);
        Assert.True(took is not null,
            $"after {Propagation.TotalSeconds} s the router still {(present ? "lacks" : "has")} {LabTopology.AnycastPrefix}: "
            + $"'{await lab.RouterRouteAsync(cancellationToken)}'\n{lab.Logs}");
        return took.Value;
    }

    /// <summary>Waits, bounded by <see cref="Propagation"/>, until the status is <paramref name="state"/>, passing through start/stop.</summary>
    private static async Task<AnnouncementStatus> StatusAsync(BirdAnnouncement announcement, AnnouncementState state, CancellationToken cancellationToken)
    {
        AnnouncementStatus? last = null;
        var took = await BoundedPoll.UntilAsync(
            async token => (last = await announcement.GetStatusAsync(token)).State == state, Propagation, PollInterval, cancellationToken);
        Assert.True(took is not null, $"status did not become {state} within {Propagation.TotalSeconds} s; last: {last}");
        return last!;
    }
}
