using System.Globalization;
using System.Net;
using AnycastDns.Server.Anycast;

namespace AnycastDns.TestSupport.Lab;

/// <summary>
/// The anycast lab of deploy/lab/up.sh, for tests: two PoPs announce one anycast address over eBGP to a router that
/// installs both paths in its kernel table (ECMP, hashed by ports), and a client behind the router asks the anycast
/// address. Each box is a network namespace with a random suffix; every address is from 198.18.0.0/15.
/// <code>
///   client 198.18.3.1 ── 198.18.3.2  router (AS 64513, BIRD, kernel: merge paths; forwarding; L4 multipath hash)
///                                    198.18.1.2 ── 198.18.1.1 pop1 (AS 64512)  lo: 198.19.53.53/32
///                                    198.18.2.2 ── 198.18.2.1 pop2 (AS 64512)  lo: 198.19.53.53/32
/// </code>
/// Each PoP runs deploy/bird/bird.conf (announcing 198.19.53.53/32 through its define lines), anycastdns and the
/// watchdog (<see cref="LabPop"/>). Disposing stops every process by PID and deletes every namespace by name, each
/// step even when one before it failed.
/// </summary>
public sealed class AnycastLab : IAsyncDisposable
{
    public const string AnycastAddress = "198.19.53.53";

    /// <summary>What each PoP announces: the anycast address alone.</summary>
    public const string AnycastPrefix = AnycastAddress + "/32";

    public const int RouterAs = 64513;

    /// <summary>Both PoPs share one AS, as the sites of one anycast service do; the router tells them apart by session.</summary>
    public const int PopAs = 64512;

    public const string ClientAddress = "198.18.3.1";

    public const string RouterClientAddress = "198.18.3.2";

    /// <summary>Each box's interface toward the router (the router names its end after the box).</summary>
    public const string UpstreamInterface = "upstream";

    private const string LinkLength = "/30";

    private static readonly TimeSpan EstablishTimeout = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan EstablishInterval = TimeSpan.FromMilliseconds(50);

    private readonly List<IAsyncDisposable> _parts = [];
    private readonly List<LabPop> _pops = [];

    private AnycastLab()
    {
    }

    public NetworkNamespace Router { get; private set; } = null!;

    public NetworkNamespace Client { get; private set; } = null!;

    public BirdProcess RouterBird { get; private set; } = null!;

    public IReadOnlyList<LabPop> Pops => _pops;

    public LabPop Pop1 => _pops[0];

    public LabPop Pop2 => _pops[1];

    public static IPAddress Anycast => IPAddress.Parse(AnycastAddress);

    /// <summary>Every process's log, for assertion messages.</summary>
    public string Logs => string.Concat(_pops.Select(p => p.Logs)) + $"--- router bird ---\n{RouterBird?.Log}";

    /// <summary>Builds the lab with both PoPs serving the example zones (see the other overload).</summary>
    public static Task<AnycastLab> StartAsync(CancellationToken cancellationToken) => StartAsync(null, cancellationToken);

    /// <summary>
    /// Builds the lab and starts everything: the namespaces and links, the three BIRDs, then in each PoP anycastdns
    /// on <paramref name="zonesOf"/>(pop name) (null: the example zones) and its watchdog. Returns once both BGP
    /// sessions are established and both servers answer; whether they announce is for the test to see.
    /// </summary>
    public static Task<AnycastLab> StartAsync(Func<string, string>? zonesOf, CancellationToken cancellationToken) =>
        StartAsync(zonesOf, [], cancellationToken);

    /// <summary>
    /// The same, with <paramref name="serverArguments"/> added to every <c>anycastdns serve</c> of both PoPs (rate
    /// limiting, a shared cookie secret file, ...), now and when a test starts one again.
    /// </summary>
    public static Task<AnycastLab> StartAsync(Func<string, string>? zonesOf, IReadOnlyList<string> serverArguments, CancellationToken cancellationToken) =>
        StartAsync(zonesOf, serverArguments, (_, _) => Task.CompletedTask, cancellationToken);

    /// <summary>
    /// The same, with <paramref name="beforeServers"/> run once the network and the BIRDs are up and before any server
    /// starts: for a box the servers need from their first second, such as a hidden primary behind the router
    /// (<see cref="AttachAsync"/>, its daemon handed to <see cref="Adopt"/> so that the lab stops it).
    /// </summary>
    public static async Task<AnycastLab> StartAsync(Func<string, string>? zonesOf, IReadOnlyList<string> serverArguments, Func<AnycastLab, CancellationToken, Task> beforeServers,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(serverArguments);
        ArgumentNullException.ThrowIfNull(beforeServers);
        NetworkNamespace.RequireRoot();
        ExternalTool.RequireInstalled(BirdProcess.DaemonPath, BirdProcess.Package);
        var lab = new AnycastLab();
        try
        {
            await lab.BuildAsync(popBirds: true, cancellationToken).ConfigureAwait(false);
            await beforeServers(lab, cancellationToken).ConfigureAwait(false);
            foreach (var pop in lab._pops)
            {
                pop.ServerArguments = serverArguments;
                await pop.StartServerAsync(zonesOf?.Invoke(pop.Name) ?? RepositoryPaths.ExampleZones, cancellationToken).ConfigureAwait(false);
                pop.StartWatchdog();
            }
        }
        catch
        {
            await lab.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return lab;
    }

    /// <summary>
    /// Builds the lab's namespaces, links and the router's BIRD only: the PoPs' namespaces carry the anycast address and
    /// their links, but nothing runs in them. For a test that runs each PoP's BIRD and server itself (the container
    /// images); it waits for the sessions with <see cref="WaitForSessionsAsync"/>.
    /// </summary>
    public static async Task<AnycastLab> StartNetworkAsync(CancellationToken cancellationToken)
    {
        NetworkNamespace.RequireRoot();
        ExternalTool.RequireInstalled(BirdProcess.DaemonPath, BirdProcess.Package);
        var lab = new AnycastLab();
        try
        {
            await lab.BuildAsync(popBirds: false, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await lab.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return lab;
    }

    /// <summary>Waits until the router's BGP session to every PoP is established, bounded; throws with <paramref name="logs"/> when one is not.</summary>
    public async Task WaitForSessionsAsync(TimeSpan within, Func<string> logs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(logs);
        foreach (var pop in _pops)
        {
            var established = await BoundedPoll.UntilAsync(token => IsSessionEstablishedAsync(pop, token), within, EstablishInterval, cancellationToken).ConfigureAwait(false);
            if (established is null)
            {
                throw new InvalidOperationException($"the router's BGP session to {pop.Name} did not come up within {within.TotalSeconds} s\n{logs()}");
            }
        }
    }

    /// <summary>
    /// The router's BIRD configuration: a session per PoP taking only the anycast /32, and a kernel protocol that
    /// merges the equal BGP routes into one multipath route (<c>merge paths</c>). Short timers, and a connect delay of
    /// 1 s, so that a restarted PoP BIRD is back in a second or two.
    /// </summary>
    public static string RouterConfiguration() => $$"""
        log stderr all;
        router id {{RouterClientAddress}};

        protocol device {
        }

        protocol kernel {
            merge paths yes limit 8;
            ipv4 {
                import none;
                export where net = {{AnycastPrefix}};
            };
        }

        template bgp pop_session {
            hold time 3;
            keepalive time 1;
            connect delay time 1;
            connect retry time 1;
            error wait time 1, 2;
            ipv4 {
                import where net = {{AnycastPrefix}};
                export none;
            };
        }

        protocol bgp pop1 from pop_session {
            local 198.18.1.2 as {{RouterAs}};
            neighbor 198.18.1.1 as {{PopAs}};
        }

        protocol bgp pop2 from pop_session {
            local 198.18.2.2 as {{RouterAs}};
            neighbor 198.18.2.1 as {{PopAs}};
        }

        """;

    /// <summary>
    /// Another box behind the router, made and torn down with the lab: namespace <paramref name="role"/> linked to the
    /// router at 198.18.<paramref name="subnet"/>.1/30 (its interface <c>upstream</c>, its default route) ↔
    /// 198.18.<paramref name="subnet"/>.2/30 (the router's interface <paramref name="role"/>, whose counters say what
    /// crossed the link). Subnets 1 to 3 are the PoPs' and the client's. No reverse-path filter, like the rest of the lab.
    /// </summary>
    public async Task<NetworkNamespace> AttachAsync(string role, int subnet, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(role);
        ArgumentOutOfRangeException.ThrowIfLessThan(subnet, 4);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(subnet, 255);
        var space = await Own(NetworkNamespace.CreateAsync(role, cancellationToken)).ConfigureAwait(false);
        await space.SetSysctlAsync(["net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"], cancellationToken).ConfigureAwait(false);
        string host = $"198.18.{subnet.ToString(CultureInfo.InvariantCulture)}.1";
        string router = $"198.18.{subnet.ToString(CultureInfo.InvariantCulture)}.2";
        await space.LinkAsync(Router, UpstreamInterface, host + LinkLength, role, router + LinkLength, cancellationToken).ConfigureAwait(false);
        await space.AddDefaultRouteAsync(router, cancellationToken).ConfigureAwait(false);
        return space;
    }

    /// <summary>
    /// Makes the lab tear <paramref name="part"/> down with the rest, before everything that was made before it: a
    /// daemon started in an attached namespace is stopped before that namespace is deleted.
    /// </summary>
    public T Adopt<T>(T part)
        where T : IAsyncDisposable
    {
        ArgumentNullException.ThrowIfNull(part);
        _parts.Add(part);
        return part;
    }

    /// <summary>
    /// The PoPs the router's kernel forwards the anycast address to now, from <c>ip route show 198.19.53.53</c>
    /// (one <c>via</c> for a single path, a <c>nexthop via</c> per path for ECMP); empty when it has no route.
    /// </summary>
    public async Task<IReadOnlyList<string>> RouterPathsAsync(CancellationToken cancellationToken)
    {
        string route = await Router.RouteAsync(AnycastAddress, cancellationToken).ConfigureAwait(false);
        var paths = new List<string>();
        foreach (var pop in _pops)
        {
            if (route.Contains($"via {pop.LinkAddress} ", StringComparison.Ordinal))
            {
                paths.Add(pop.Name);
            }
        }
        return paths;
    }

    /// <summary>
    /// Waits, bounded by <paramref name="within"/>, until the router's kernel forwards the anycast address to exactly
    /// <paramref name="pops"/> (by name, in PoP order); returns how long that took, or null when it never did.
    /// </summary>
    public Task<TimeSpan?> WaitForPathsAsync(IReadOnlyList<string> pops, TimeSpan within, CancellationToken cancellationToken) =>
        BoundedPoll.UntilAsync(async token => (await RouterPathsAsync(token).ConfigureAwait(false)).SequenceEqual(pops), within, EstablishInterval, cancellationToken);

    /// <summary>The router's kernel route to the anycast address as <c>ip route</c> prints it, for messages.</summary>
    public Task<string> RouterKernelRouteAsync(CancellationToken cancellationToken) => Router.RouteAsync(AnycastAddress, cancellationToken);

    /// <summary>
    /// The routes to the anycast /32 in the router's BIRD, one line each (<c>198.19.53.53/32 unicast [pop1 ...] *
    /// (100) [AS64512i]</c>), from <c>show route where net = ...</c>.
    /// </summary>
    public async Task<IReadOnlyList<string>> RouterBirdRoutesAsync(CancellationToken cancellationToken)
    {
        var reply = await RouterBird.Control.SendAsync($"show route where net = {AnycastPrefix}", cancellationToken).ConfigureAwait(false);
        var routes = new List<string>();
        foreach (var line in reply.Lines)
        {
            if (line.Code == BirdReplyCode.RouteList && line.Text.Contains("unicast [", StringComparison.Ordinal))
            {
                routes.Add(line.Text.Trim());
            }
        }
        return routes;
    }

    /// <summary>Whether the router's BGP session to <paramref name="pop"/> is established.</summary>
    public async Task<bool> IsSessionEstablishedAsync(LabPop pop, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pop);
        var reply = await RouterBird.Control.SendAsync($"show protocols {pop.Name}", cancellationToken).ConfigureAwait(false);
        foreach (var line in reply.Lines)
        {
            if (line.Code == BirdReplyCode.ProtocolList && line.Text.Contains("Established", StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Stops every process by PID and deletes every namespace by name, PoPs first, each step even when one before it failed.</summary>
    public async ValueTask DisposeAsync()
    {
        List<Exception>? failures = null;
        for (int i = _parts.Count - 1; i >= 0; i--)
        {
            try
            {
                await _parts[i].DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                (failures ??= []).Add(e);
            }
        }
        _parts.Clear();
        if (failures is not null)
        {
            throw new AggregateException("anycast lab teardown", failures);
        }
    }

    private async Task BuildAsync(bool popBirds, CancellationToken cancellationToken)
    {
        Router = await Own(NetworkNamespace.CreateAsync("rtr", cancellationToken)).ConfigureAwait(false);
        Client = await Own(NetworkNamespace.CreateAsync("cli", cancellationToken)).ConfigureAwait(false);
        for (int n = 1; n <= 2; n++)
        {
            string name = $"pop{n.ToString(CultureInfo.InvariantCulture)}";
            var space = await NetworkNamespace.CreateAsync(name, cancellationToken).ConfigureAwait(false);
            LabPop pop;
            try
            {
                // The PoP owns its namespace from here on, and deletes it last.
                pop = new LabPop(n, space, Directory.CreateTempSubdirectory($"anycastdns-lab-{name}-").FullName);
            }
            catch
            {
                await space.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            _parts.Add(pop);
            _pops.Add(pop);
        }

        // No reverse-path filter: a draining PoP answers from the anycast address after the router stopped routing it
        // there, which strict uRPF on the router would drop. (New namespaces copy the host's values for IPv4.)
        foreach (var space in _pops.Select(p => p.Space).Append(Router).Append(Client))
        {
            await space.SetSysctlAsync(["net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"], cancellationToken).ConfigureAwait(false);
        }
        foreach (var pop in _pops)
        {
            await pop.Space.LinkAsync(Router, UpstreamInterface, pop.LinkAddress + LinkLength, pop.Name, pop.RouterAddress + LinkLength, cancellationToken).ConfigureAwait(false);
            await pop.Space.AddAddressAsync("lo", AnycastPrefix, cancellationToken).ConfigureAwait(false);
            await pop.Space.AddDefaultRouteAsync(pop.RouterAddress.ToString(), cancellationToken).ConfigureAwait(false);
        }
        await Client.LinkAsync(Router, UpstreamInterface, ClientAddress + LinkLength, "client", RouterClientAddress + LinkLength, cancellationToken).ConfigureAwait(false);
        await Client.AddDefaultRouteAsync(RouterClientAddress, cancellationToken).ConfigureAwait(false);
        // Forwarding, and the multipath hash over addresses and ports (policy 1, L4): each query from its own source
        // port is a flow of its own, so a client's queries spread over both PoPs.
        await Router.SetSysctlAsync(["net.ipv4.ip_forward=1", "net.ipv4.fib_multipath_hash_policy=1"], cancellationToken).ConfigureAwait(false);

        RouterBird = await Own(BirdProcess.StartAsync(Router, "router", RouterConfiguration(), cancellationToken)).ConfigureAwait(false);
        if (!popBirds)
        {
            return;
        }
        foreach (var pop in _pops)
        {
            pop.Bird = await BirdProcess.StartAsync(pop.Space, pop.Name,
                PopBirdConfiguration.Render(pop.LinkAddress.ToString(), PopAs, pop.RouterAddress.ToString(), RouterAs, AnycastPrefix), cancellationToken).ConfigureAwait(false);
        }
        await WaitForSessionsAsync(EstablishTimeout, () => Logs, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> Own<T>(Task<T> starting)
        where T : IAsyncDisposable
    {
        var part = await starting.ConfigureAwait(false);
        _parts.Add(part);
        return part;
    }
}
