using System.Diagnostics;
using System.Net;
using System.Text.Json;
using AnycastDns.TestSupport;
using AnycastDns.TestSupport.Lab;
using Xunit.Abstractions;

namespace AnycastDns.Lab.Tests;

/// <summary>
/// The whole anycast story in network namespaces (<see cref="AnycastLab"/>, the lab of deploy/lab/up.sh): two PoPs,
/// each with anycastdns, BIRD 2 and the watchdog, announce 198.19.53.53/32 to a router that spreads a client's
/// queries over both (ECMP). What counts is what the client gets and what the router's kernel forwards by. Each test
/// builds its own lab (about 2 s) and tears it down, by PID and by namespace name, whatever happened.
/// </summary>
public sealed class AnycastLabTests(ITestOutputHelper output)
{
    private const string DigPath = "/usr/bin/dig";

    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(90);

    /// <summary>From a started server to its route at the router: the self-check, one BIRD call, one BGP update.</summary>
    private static readonly TimeSpan AnnounceTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan FinePoll = TimeSpan.FromMilliseconds(10);

    private static readonly TimeSpan WatchdogPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>RFC 4786 §4.4 as the README promises it: a dead server is withdrawn within a second, by the watchdog.</summary>
    private static readonly TimeSpan WatchdogBound = TimeSpan.FromSeconds(1);

    /// <summary>The README's promise after <c>birdc configure</c> or a BIRD restart: announced again within 2 s.</summary>
    private static readonly TimeSpan RestoreBound = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task The_client_is_answered_by_both_pops_over_the_routers_two_paths()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        await using var lab = await AnycastLab.StartAsync(timeout.Token);
        var announced = await PathsAsync(lab, ["pop1", "pop2"], AnnounceTimeout, timeout.Token);

        // The router learned the /32 from both sessions and installed one route with both next hops.
        var birdRoutes = await lab.RouterBirdRoutesAsync(timeout.Token);
        string kernel = await lab.RouterKernelRouteAsync(timeout.Token);
        Assert.True(birdRoutes.Count == 2 && birdRoutes.Any(r => r.Contains("[pop1 ", StringComparison.Ordinal)) && birdRoutes.Any(r => r.Contains("[pop2 ", StringComparison.Ordinal)),
            string.Join('\n', birdRoutes));
        Assert.Contains($"nexthop via {lab.Pop1.LinkAddress} dev pop1", kernel, StringComparison.Ordinal);
        Assert.Contains($"nexthop via {lab.Pop2.LinkAddress} dev pop2", kernel, StringComparison.Ordinal);

        // Each dig is a new source port, so a new flow for the router's L4 hash: both PoPs answer, soon.
        var answers = new List<string>();
        for (int i = 0; i < 20 && answers.Distinct().Count() < 2; i++)
        {
            answers.Add(await DigIdServerAsync(lab, AnycastLab.Anycast, timeout.Token));
        }
        Assert.All(answers, a => Assert.Contains(a, new[] { "pop1", "pop2" }));
        Assert.True(answers.Distinct().Count() == 2, $"20 digs all answered by {answers[0]}: the router does not spread flows\n{kernel}");
        output.WriteLine($"announced by both after {Ms(announced)}; router kernel: {kernel.ReplaceLineEndings(" ")}");
        output.WriteLine($"router bird: {string.Join(" | ", birdRoutes)}");
        output.WriteLine($"dig CH TXT id.server @{AnycastLab.AnycastAddress} from the client: {string.Join(", ", answers)}");
    }

    [Fact]
    public async Task A_server_without_a_loadable_zone_never_announces()
    {
        string broken = Directory.CreateTempSubdirectory("anycastdns-lab-broken-").FullName;
        try
        {
            // The zone's only file is wrong (CNAME and other data at one name, RFC 2181 §10.1): no zone loads.
            File.WriteAllText(Path.Combine(broken, "broken.test.zone"), "$TTL 60\n@ SOA ns h 1 1 1 1 1\nwww CNAME a\nwww A 192.0.2.1\n");
            using var timeout = new CancellationTokenSource(TestTimeout);
            await using var lab = await AnycastLab.StartAsync(pop => pop == "pop1" ? broken : RepositoryPaths.ExampleZones, timeout.Token);
            var pop1 = lab.Pop1;

            // pop2 shows the path works; pop1 must stay out of the router all along.
            await PathsAsync(lab, ["pop2"], AnnounceTimeout, timeout.Token);
            var watch = TimeSpan.FromSeconds(6);
            var appeared = await BoundedPoll.UntilAsync(
                async token => (await lab.RouterPathsAsync(token)).Contains("pop1") || await pop1.IsProtocolUpAsync(token), watch, TimeSpan.FromMilliseconds(100), timeout.Token);
            Assert.True(appeared is null, $"pop1 announced without a zone after {appeared}\n{pop1.Logs}");
            Assert.DoesNotContain(await lab.RouterBirdRoutesAsync(timeout.Token), r => r.Contains("[pop1 ", StringComparison.Ordinal));

            string state = await pop1.StateAsync(timeout.Token);
            using var json = JsonDocument.Parse(state);
            Assert.Equal("starting", json.RootElement.GetProperty("state").GetString());
            Assert.Equal("no zone loaded", json.RootElement.GetProperty("problem").GetString());
            Assert.DoesNotContain("-> Announced", pop1.Server!.Log, StringComparison.Ordinal);
            output.WriteLine($"pop1 not announced for {watch.TotalSeconds} s; router: {(await lab.RouterKernelRouteAsync(timeout.Token)).ReplaceLineEndings(" ")}");
            output.WriteLine($"pop1 /state: state {json.RootElement.GetProperty("state")}, problem {json.RootElement.GetProperty("problem")}");
        }
        finally
        {
            Directory.Delete(broken, recursive: true);
        }
    }

    [Fact]
    public async Task Sigterm_withdraws_before_the_pop_stops_answering_and_no_query_is_lost()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        await using var lab = await AnycastLab.StartAsync(timeout.Token);
        var pop1 = lab.Pop1;
        await PathsAsync(lab, ["pop1", "pop2"], AnnounceTimeout, timeout.Token);

        // A query every 20 ms to the anycast address, and one to pop1's unicast address to see how long it answers;
        // 400 rounds (8 s) span the SIGTERM, the withdrawal, the drain, the exit and a while after.
        var anycast = AnycastLab.Anycast;
        await using var stream = QueryStream.Start(lab.Client, [anycast, pop1.LinkAddress], TimeSpan.FromMilliseconds(20), 400, TimeSpan.FromSeconds(1));
        // A second of it first, answered by both.
        var bothAnswer = await BoundedPoll.UntilAsync(
            _ => Task.FromResult(stream.Queries.Where(q => q.Target.Equals(anycast) && q.Answered).GroupBy(q => q.Answer).Count(g => g.Count() >= 10) == 2),
            TimeSpan.FromSeconds(5), FinePoll, timeout.Token);
        Assert.True(bothAnswer is not null, "the stream did not reach both PoPs 10 times each within 5 s: " + string.Join('\n', stream.Queries.Take(40)));

        var sigterm = DateTimeOffset.UtcNow;
        pop1.Server!.Signal(LabProcess.SigTerm);
        await PathsAsync(lab, ["pop2"], TimeSpan.FromSeconds(2), timeout.Token, FinePoll);
        var withdrawn = DateTimeOffset.UtcNow; // T1: the router forwards nothing more to pop1
        Assert.True(await pop1.Server.WaitForExitAsync(TimeSpan.FromSeconds(LabPop.DrainSeconds + 10)), $"pop1 still running\n{pop1.Logs}");
        var exited = DateTimeOffset.UtcNow;
        Assert.True(pop1.Server.ExitCode == 0, $"pop1 exit code {pop1.Server.ExitCode}\n{pop1.Logs}");
        var queries = await stream.CompleteAsync();

        var toAnycast = queries.Where(q => q.Target.Equals(anycast)).ToList();
        var toPop1 = queries.Where(q => q.Target.Equals(pop1.LinkAddress)).OrderBy(q => q.Sent).ToList();
        Assert.Equal(400, toAnycast.Count);
        var lost = toAnycast.Where(q => !q.Answered).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} of {toAnycast.Count} anycast queries lost:\n{string.Join('\n', lost)}\n{lab.Logs}");
        // Nothing reached pop1 over anycast after the router dropped its path, and pop2 took everything since.
        var fromPop1 = toAnycast.Where(q => q.Answer == "pop1").ToList();
        Assert.NotEmpty(fromPop1);
        Assert.All(fromPop1, q => Assert.True(q.Sent < withdrawn, $"{q} after the withdrawal at {withdrawn:HH:mm:ss.fff}"));
        var after = toAnycast.Where(q => q.Sent > withdrawn).ToList();
        Assert.True(after.Count > 100, $"only {after.Count} queries after the withdrawal");
        Assert.All(after, q => Assert.Equal("pop2", q.Answer));
        // T2: pop1's last answer (its unicast address), well after T1: it drained before it stopped answering.
        var lastFromPop1 = toPop1.Last(q => q.Answered).Received!.Value;
        Assert.True(lastFromPop1 > withdrawn, $"pop1's last answer at {lastFromPop1:HH:mm:ss.fff}, the route gone at {withdrawn:HH:mm:ss.fff}");
        Assert.All(toPop1.Where(q => q.Sent < lastFromPop1), q => Assert.True(q.Answered, $"pop1 missed {q} while draining"));
        Assert.Contains(toPop1, q => !q.Answered && q.Sent > lastFromPop1); // then it was gone (refused)
        Assert.Contains("ending the drain early", pop1.Server.Log, StringComparison.Ordinal);

        output.WriteLine($"SIGTERM {sigterm:HH:mm:ss.fff}; route via pop1 gone from the router (T1) {Ms(withdrawn - sigterm)} later");
        output.WriteLine($"last anycast answer from pop1: query sent {Ms(withdrawn - fromPop1.Max(q => q.Sent))} before T1; pop1's last answer (unicast, T2) {Ms(lastFromPop1 - withdrawn)} after T1; exit 0 {Ms(exited - sigterm)} after SIGTERM");
        output.WriteLine($"anycast: {toAnycast.Count} queries, {lost.Count} lost; {fromPop1.Count} answered by pop1, {toAnycast.Count - fromPop1.Count} by pop2, all {after.Count} after T1 by pop2");

        // Started again, pop1 announces after its self-check, and stays announced: the watchdog, tripped since the
        // exit, must not withdraw a server that answers (it used to, for up to a second: a flap on every restart).
        var restart = Stopwatch.StartNew();
        await pop1.StartServerAsync(RepositoryPaths.ExampleZones, timeout.Token);
        await PathsAsync(lab, ["pop1", "pop2"], AnnounceTimeout, timeout.Token, FinePoll);
        var back = restart.Elapsed;
        var steady = TimeSpan.FromSeconds(2);
        var flapped = await BoundedPoll.UntilAsync(async token => !(await lab.RouterPathsAsync(token)).Contains("pop1"), steady, FinePoll, timeout.Token);
        Assert.True(flapped is null, $"pop1's route went away again {flapped?.TotalMilliseconds} ms after it came back\n{pop1.Logs}");
        output.WriteLine($"pop1 restarted: announced at the router {Ms(back)} after the start, and still there {steady.TotalSeconds} s later");
    }

    [Fact]
    public async Task Sigkill_is_withdrawn_by_the_watchdog_within_a_second()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        await using var lab = await AnycastLab.StartAsync(timeout.Token);
        var pop2 = lab.Pop2;
        await PathsAsync(lab, ["pop1", "pop2"], AnnounceTimeout, timeout.Token);

        var clock = Stopwatch.StartNew();
        pop2.Server!.Signal(LabProcess.SigKill);
        var gone = await PathsAsync(lab, ["pop1"], TimeSpan.FromSeconds(5), timeout.Token, WatchdogPoll);
        Assert.True(gone <= WatchdogBound, $"the route via pop2 went {Ms(gone)} after SIGKILL, more than {Ms(WatchdogBound)}\n{pop2.Logs}");
        // The watchdog did it: BIRD and its session are alive (no hold timer involved); the protocol is disabled.
        Assert.True(await lab.IsSessionEstablishedAsync(pop2, timeout.Token));
        Assert.False(await pop2.IsProtocolUpAsync(timeout.Token));
        Assert.Contains("withdrawing", pop2.Watchdog!.Log, StringComparison.Ordinal);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal("pop1", await DigIdServerAsync(lab, AnycastLab.Anycast, timeout.Token));
        }
        output.WriteLine($"SIGKILL to pop2's server: its route gone from the router after {Ms(gone)} (polled every {Ms(WatchdogPoll)}); the client gets pop1");
    }

    [Fact]
    public async Task Bird_configure_and_a_bird_restart_are_healed_within_2_s()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        await using var lab = await AnycastLab.StartAsync(timeout.Token);
        var pop1 = lab.Pop1;
        await PathsAsync(lab, ["pop1", "pop2"], AnnounceTimeout, timeout.Token);

        // birdc configure: BIRD reads bird.conf again, where anycast is `disabled yes`; the server enables it again.
        int enabled = Count(pop1.Bird.Log, "Enabling protocol anycast");
        var configure = await pop1.Bird.BirdcAsync("configure");
        var clock = Stopwatch.StartNew();
        Assert.True(configure.ExitCode == 0 && configure.StandardOutput.Contains("Reconfigur", StringComparison.Ordinal), configure.Output);
        var restored = await BoundedPoll.UntilAsync(
            async token => Count(pop1.Bird.Log, "Enabling protocol anycast") > enabled && (await lab.RouterPathsAsync(token)).Contains("pop1"),
            TimeSpan.FromSeconds(5), FinePoll, timeout.Token);
        Assert.True(restored is not null && restored <= RestoreBound, $"after birdc configure the route via pop1 was back after {restored?.TotalMilliseconds} ms\n{pop1.Logs}");
        Assert.Contains("Disabling protocol anycast", pop1.Bird.Log, StringComparison.Ordinal);
        output.WriteLine($"birdc configure at pop1: anycast disabled by BIRD, enabled again by the server and the route back at the router {Ms(restored!.Value)} after birdc returned");

        // A restart (SIGTERM, start again): the BGP session comes back by itself; the enable only from the server.
        await pop1.Bird.TerminateAsync();
        var stopped = await PathsAsync(lab, ["pop2"], TimeSpan.FromSeconds(5), timeout.Token, FinePoll);
        clock.Restart(); // from the start of the new BIRD, its own start-up included
        await pop1.Bird.StartAgainAsync(timeout.Token);
        TimeSpan? protocolUp = null;
        TimeSpan? established = null;
        TimeSpan? routeBack = null;
        // Each of the three is timed when first seen; the poll goes on until all three were.
        var all = await BoundedPoll.UntilAsync(
            async token =>
            {
                protocolUp ??= await pop1.IsProtocolUpAsync(token) ? clock.Elapsed : null;
                established ??= await lab.IsSessionEstablishedAsync(pop1, token) ? clock.Elapsed : null;
                routeBack ??= (await lab.RouterPathsAsync(token)).Contains("pop1") ? clock.Elapsed : null;
                return protocolUp is not null && established is not null && routeBack is not null;
            },
            TimeSpan.FromSeconds(15), FinePoll, timeout.Token);
        Assert.True(all is not null, $"after the BIRD restart: anycast up {protocolUp}, session {established}, route at the router {routeBack}\n{pop1.Logs}\n{lab.RouterBird.Log}");
        Assert.True(protocolUp is not null && protocolUp <= RestoreBound, $"anycast enabled {protocolUp?.TotalMilliseconds} ms after BIRD was started again\n{pop1.Logs}");
        Assert.True(routeBack - established <= RestoreBound, $"route at the router {Ms(routeBack!.Value - established!.Value)} after the session came up");
        output.WriteLine($"BIRD stopped at pop1: its route gone from the router {Ms(stopped)} after BIRD exited");
        output.WriteLine($"BIRD started again at pop1: anycast enabled by the server {Ms(protocolUp!.Value)} after the start; session up after {Ms(established!.Value)}; route at the router after {Ms(routeBack!.Value)}");
    }

    [Fact]
    public async Task Maintenance_withdraws_while_the_pop_still_answers_its_unicast_address()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        await using var lab = await AnycastLab.StartAsync(timeout.Token);
        var pop1 = lab.Pop1;
        await PathsAsync(lab, ["pop1", "pop2"], AnnounceTimeout, timeout.Token);

        // By command, inside the PoP's namespace, as an operator would (timed from the call: a .NET start included).
        var clock = Stopwatch.StartNew();
        var drain = await pop1.AnycastdnsAsync(["drain", "--http", pop1.HttpAddress], timeout.Token);
        var drainCommand = clock.Elapsed;
        Assert.True(drain.ExitCode == 0 && drain.StandardOutput.Contains("maintenance on", StringComparison.Ordinal), drain.Output);
        await PathsAsync(lab, ["pop2"], TimeSpan.FromSeconds(2), timeout.Token, FinePoll);
        var off = clock.Elapsed;
        Assert.Equal("pop1", await DigIdServerAsync(lab, pop1.LinkAddress, timeout.Token));
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal("pop2", await DigIdServerAsync(lab, AnycastLab.Anycast, timeout.Token));
        }
        using (var state = JsonDocument.Parse(await pop1.StateAsync(timeout.Token)))
        {
            Assert.Equal("maintenance", state.RootElement.GetProperty("state").GetString());
        }
        clock.Restart();
        var undrain = await pop1.AnycastdnsAsync(["undrain", "--http", pop1.HttpAddress], timeout.Token);
        var undrainCommand = clock.Elapsed;
        Assert.True(undrain.ExitCode == 0, undrain.Output);
        await PathsAsync(lab, ["pop1", "pop2"], TimeSpan.FromSeconds(5), timeout.Token, FinePoll);
        var on = clock.Elapsed;
        output.WriteLine($"anycastdns drain (the command took {Ms(drainCommand)}): route via pop1 gone {Ms(off)} after the call; pop1 still answers {pop1.LinkAddress}, the anycast address only pop2");
        output.WriteLine($"anycastdns undrain (the command took {Ms(undrainCommand)}): route via pop1 back {Ms(on)} after the call");

        // By the maintenance file, which the server looks for every second.
        File.WriteAllText(pop1.MaintenanceFile, "");
        var fileOff = await PathsAsync(lab, ["pop2"], TimeSpan.FromSeconds(3), timeout.Token, FinePoll);
        Assert.Equal("pop1", await DigIdServerAsync(lab, pop1.LinkAddress, timeout.Token));
        File.Delete(pop1.MaintenanceFile);
        var fileOn = await PathsAsync(lab, ["pop1", "pop2"], TimeSpan.FromSeconds(5), timeout.Token, FinePoll);
        output.WriteLine($"maintenance file: route via pop1 gone {Ms(fileOff)} after it appeared, back {Ms(fileOn)} after it went");
    }

    private static string Ms(TimeSpan time) => $"{time.TotalMilliseconds:0} ms";

    private static int Count(string text, string what)
    {
        int count = 0;
        for (int at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    /// <summary>
    /// Waits, bounded by <paramref name="within"/>, until the router's kernel forwards the anycast address to exactly
    /// <paramref name="pops"/>; returns how long that took, or fails with the route and every log.
    /// </summary>
    private static async Task<TimeSpan> PathsAsync(AnycastLab lab, string[] pops, TimeSpan within, CancellationToken cancellationToken, TimeSpan? interval = null)
    {
        var took = await BoundedPoll.UntilAsync(
            async token => (await lab.RouterPathsAsync(token)).SequenceEqual(pops), within, interval ?? TimeSpan.FromMilliseconds(50), cancellationToken);
        if (took is null)
        {
            Assert.Fail($"after {within.TotalSeconds} s the router does not forward {AnycastLab.AnycastAddress} to exactly [{string.Join(", ", pops)}]: "
                + $"'{(await lab.RouterKernelRouteAsync(cancellationToken)).Trim()}'\n{lab.Logs}");
        }
        return took!.Value;
    }

    /// <summary><c>dig @target CH TXT id.server +short</c> from the client namespace (one try, 2 s); the PoP's name without quotes.</summary>
    private static async Task<string> DigIdServerAsync(AnycastLab lab, IPAddress target, CancellationToken cancellationToken)
    {
        ExternalTool.RequireInstalled(DigPath, "bind9-dnsutils");
        var result = await lab.Client.RunAsync(DigPath, [$"@{target}", "CH", "TXT", "id.server", "+short", "+tries=1", "+time=2"], TimeSpan.FromSeconds(10), cancellationToken);
        Assert.True(result.ExitCode == 0, $"dig @{target}: exit {result.ExitCode}: {result.Output}");
        return result.StandardOutput.Trim().Trim('"');
    }
}
