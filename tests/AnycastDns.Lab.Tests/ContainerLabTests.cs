using System.Diagnostics;
using AnycastDns.TestSupport;
using AnycastDns.TestSupport.Lab;
using Xunit.Abstractions;

namespace AnycastDns.Lab.Tests;

/// <summary>
/// The images of deploy/docker, built here with podman from a debootstrap base and the host's publish (no registry),
/// run as the lab's two PoPs: each a server container and a sidecar container (BIRD + watchdog) in the PoP's network
/// namespace, with the templates' capabilities and read-only root. <c>./scripts/test.sh --filter Container</c> runs
/// this alone. One test, because building the images is most of its time.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ContainerLabTests(ITestOutputHelper output)
{
    private const string DigPath = "/usr/bin/dig";

    /// <summary>The budget for the whole container test on the CI machine (a first run also debootstraps).</summary>
    private static readonly TimeSpan TestTimeout = TimeSpan.FromMinutes(6);

    private static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan AnnounceTimeout = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan FinePoll = TimeSpan.FromMilliseconds(10);

    /// <summary>RFC 4786 §4.4 as the README promises it: a dead server is withdrawn within a second, by the watchdog.</summary>
    private static readonly TimeSpan WatchdogBound = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Container_pops_announce_after_the_self_check_answer_and_withdraw_on_sigterm_and_sigkill()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var clock = Stopwatch.StartNew();
        await using var images = await PodmanImages.BuildAsync(timeout.Token);
        output.WriteLine($"images built in {clock.Elapsed.TotalSeconds:F1} s ({images.Timings}); server {await images.SizeAsync(images.ServerImage, timeout.Token) / 1_000_000} MB, "
            + $"sidecar {await images.SizeAsync(images.SidecarImage, timeout.Token) / 1_000_000} MB");

        await using var lab = await AnycastLab.StartNetworkAsync(timeout.Token);
        await using var pop1 = new ContainerPop(images, lab.Pop1);
        await using var pop2 = new ContainerPop(images, lab.Pop2);
        ContainerPop[] pops = [pop1, pop2];
        async Task<string> Logs() => string.Concat(await Task.WhenAll(pops.Select(p => p.LogsAsync()))) + lab.Logs;

        foreach (var pop in pops)
        {
            await pop.StartSidecarAsync(timeout.Token);
        }
        try
        {
            await lab.WaitForSessionsAsync(SessionTimeout, () => "", timeout.Token);
        }
        catch (InvalidOperationException e)
        {
            Assert.Fail($"{e.Message}\n{await Logs()}");
        }
        // BGP is up and nothing is announced: the sidecar starts with the anycast protocol disabled.
        await Task.Delay(TimeSpan.FromSeconds(1), timeout.Token);
        Assert.Empty(await lab.RouterPathsAsync(timeout.Token));

        foreach (var pop in pops)
        {
            await pop.StartServerAsync(timeout.Token);
        }
        var announced = await lab.WaitForPathsAsync(["pop1", "pop2"], AnnounceTimeout, timeout.Token);
        Assert.True(announced is not null, $"the router did not learn both PoPs within {AnnounceTimeout.TotalSeconds} s: {await lab.RouterKernelRouteAsync(timeout.Token)}\n{await Logs()}");
        foreach (var pop in pops)
        {
            Assert.Contains("Announced: self-check passed", await pop.LogsAsync(), StringComparison.Ordinal);
        }
        string answer = await DigChaosAsync(lab, "id.server", timeout.Token);
        Assert.True(answer is "pop1" or "pop2", $"id.server through the anycast address answered '{answer}'");
        // The zones' digests are SHA-384 by the runtime's cryptography, which the native server loads from the image's
        // libssl3 when first asked: zones.server answers the count and the 96-hex-digit summary.
        string zones = await DigChaosAsync(lab, "zones.server", timeout.Token);
        Assert.Matches("[0-9a-f]{96}", zones);
        output.WriteLine($"both PoPs announced {announced!.Value.TotalMilliseconds:F0} ms after the servers started; id.server via the anycast address: {answer}");

        // SIGTERM (podman stop) on pop1's server, under a steady stream: withdrawn before it stops answering, nothing lost.
        var anycast = AnycastLab.Anycast;
        await using var stream = QueryStream.Start(lab.Client, [anycast, lab.Pop1.LinkAddress], TimeSpan.FromMilliseconds(20), 400, TimeSpan.FromSeconds(1));
        var bothAnswer = await BoundedPoll.UntilAsync(
            _ => Task.FromResult(stream.Queries.Where(q => q.Target.Equals(anycast) && q.Answered).GroupBy(q => q.Answer).Count(g => g.Count() >= 10) == 2),
            TimeSpan.FromSeconds(5), FinePoll, timeout.Token);
        Assert.True(bothAnswer is not null, "the stream did not reach both PoPs 10 times each within 5 s: " + string.Join('\n', stream.Queries.Take(40)));
        var sigterm = DateTimeOffset.UtcNow;
        var stopping = pop1.StopServerAsync(timeout.Token);
        var gone = await lab.WaitForPathsAsync(["pop2"], TimeSpan.FromSeconds(3), timeout.Token);
        var withdrawn = DateTimeOffset.UtcNow;
        Assert.True(gone is not null, $"the route via pop1 stayed after podman stop: {await lab.RouterKernelRouteAsync(timeout.Token)}\n{await Logs()}");
        await stopping;
        var stopped = DateTimeOffset.UtcNow;
        Assert.Equal(0, await pop1.ServerExitCodeAsync(timeout.Token));
        var queries = await stream.CompleteAsync();
        var toAnycast = queries.Where(q => q.Target.Equals(anycast)).ToList();
        var lost = toAnycast.Where(q => !q.Answered).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} of {toAnycast.Count} anycast queries lost:\n{string.Join('\n', lost)}\n{await Logs()}");
        Assert.All(toAnycast.Where(q => q.Sent > withdrawn), q => Assert.Equal("pop2", q.Answer));
        var lastFromPop1 = queries.Where(q => q.Target.Equals(lab.Pop1.LinkAddress) && q.Answered).Max(q => q.Received!.Value);
        Assert.True(lastFromPop1 > withdrawn, $"pop1's last answer at {lastFromPop1:HH:mm:ss.fff}, the route gone at {withdrawn:HH:mm:ss.fff}");
        output.WriteLine($"podman stop pop1: route gone {(withdrawn - sigterm).TotalMilliseconds:F0} ms after SIGTERM, last unicast answer {(lastFromPop1 - withdrawn).TotalMilliseconds:F0} ms later, "
            + $"stopped (exit 0) after {(stopped - sigterm).TotalSeconds:F1} s; {toAnycast.Count} anycast queries, none lost");

        // SIGKILL (podman kill) on pop2's server: the sidecar's watchdog withdraws within a second, BGP stays up.
        // Timed from podman kill's return, when the signal has been sent: podman's own start (a few hundred ms on a
        // busy machine) is not the watchdog's time. The whole command is reported too.
        var commandClock = Stopwatch.StartNew();
        await pop2.KillServerAsync(timeout.Token);
        var killClock = Stopwatch.StartNew();
        var command = commandClock.Elapsed;
        var killed = await lab.WaitForPathsAsync([], TimeSpan.FromSeconds(5), timeout.Token);
        Assert.True(killed is not null, $"the route via pop2 stayed after podman kill\n{await Logs()}");
        var took = killClock.Elapsed;
        Assert.True(took <= WatchdogBound, $"the route via pop2 went {took.TotalMilliseconds:F0} ms after SIGKILL, more than {WatchdogBound.TotalMilliseconds} ms\n{await Logs()}");
        Assert.True(await lab.IsSessionEstablishedAsync(lab.Pop2, timeout.Token), "pop2's BGP session went down: the watchdog did not do the withdrawing");
        Assert.Contains("withdrawing", await pop2.LogsAsync(), StringComparison.Ordinal);
        output.WriteLine($"podman kill pop2 (the command took {command.TotalMilliseconds:F0} ms): route gone {took.TotalMilliseconds:F0} ms after it returned, BGP session still up; whole test {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static async Task<string> DigChaosAsync(AnycastLab lab, string name, CancellationToken cancellationToken)
    {
        ExternalTool.RequireInstalled(DigPath, "bind9-dnsutils");
        var result = await lab.Client.RunAsync(DigPath, ["+short", "+tries=1", "+time=2", $"@{AnycastLab.AnycastAddress}", "CH", "TXT", name], TimeSpan.FromSeconds(10), cancellationToken);
        return result.StandardOutput.Trim().Trim('"');
    }
}
