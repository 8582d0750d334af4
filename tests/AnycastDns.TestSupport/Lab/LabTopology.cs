using AnycastDns.Server.Anycast;

namespace AnycastDns.TestSupport.Lab;

/// <summary>
/// A PoP and its upstream router, each a network namespace with its own BIRD 2, linked by a veth pair and talking
/// eBGP:
/// <code>
///   pop (AS 64512)  198.18.0.1/30 ── veth0 ── 198.18.0.2/30  router (AS 64513)
///   deploy/bird/bird.conf:                                   imports what the pop exports,
///   static anycast 198.19.53.0/24, disabled yes              installs nothing in any kernel
/// </code>
/// The pop runs deploy/bird/bird.conf itself, with the lab's values in its <c>define</c> lines (timers short so that
/// tests are quick) and its log on standard error. Disposing stops both BIRDs by PID and deletes both namespaces, by
/// name, whatever happened before.
/// </summary>
public sealed class LabTopology : IAsyncDisposable
{
    /// <summary>The anycast prefix the pop announces: inside 198.18.0.0/15, like every lab address.</summary>
    public const string AnycastPrefix = "198.19.53.0/24";

    public const string PopAddress = "198.18.0.1";

    public const string RouterAddress = "198.18.0.2";

    public const int PopAs = 64512;

    public const int RouterAs = 64513;

    /// <summary>The BGP protocol on the router's side, named after its peer.</summary>
    public const string RouterSession = "pop";

    private const string LinkInterface = "veth0";

    private const string LinkLength = "/30";

    private static readonly TimeSpan EstablishTimeout = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan EstablishInterval = TimeSpan.FromMilliseconds(100);

    private readonly List<IAsyncDisposable> _parts = [];

    private LabTopology()
    {
    }

    public NetworkNamespace Pop { get; private set; } = null!;

    public NetworkNamespace Router { get; private set; } = null!;

    /// <summary>The PoP's BIRD, running deploy/bird/bird.conf with the lab's values.</summary>
    public BirdProcess PopBird { get; private set; } = null!;

    public BirdProcess RouterBird { get; private set; } = null!;

    /// <summary>Both BIRDs' logs, for assertion messages.</summary>
    public string Logs => $"--- pop bird ({PopBird?.ConfigurationFile}) ---\n{PopBird?.Log}--- router bird ---\n{RouterBird?.Log}";

    /// <summary>
    /// Makes both namespaces and the link, starts both BIRDs, and returns once the BGP session is established (the
    /// router's protocol says <c>Established</c>), bounded by <see cref="EstablishTimeout"/>.
    /// </summary>
    public static async Task<LabTopology> StartAsync(CancellationToken cancellationToken)
    {
        NetworkNamespace.RequireRoot();
        ExternalTool.RequireInstalled(BirdProcess.DaemonPath, BirdProcess.Package);
        var lab = new LabTopology();
        try
        {
            lab.Pop = await lab.Own(NetworkNamespace.CreateAsync("pop", cancellationToken)).ConfigureAwait(false);
            lab.Router = await lab.Own(NetworkNamespace.CreateAsync("rtr", cancellationToken)).ConfigureAwait(false);
            await lab.Pop.LinkAsync(lab.Router, LinkInterface, PopAddress + LinkLength, RouterAddress + LinkLength, cancellationToken).ConfigureAwait(false);
            lab.PopBird = await lab.Own(BirdProcess.StartAsync(lab.Pop, "pop", PopConfiguration(), cancellationToken)).ConfigureAwait(false);
            lab.RouterBird = await lab.Own(BirdProcess.StartAsync(lab.Router, "router", RouterConfiguration(), cancellationToken)).ConfigureAwait(false);
            var established = await BoundedPoll.UntilAsync(lab.IsSessionEstablishedAsync, EstablishTimeout, EstablishInterval, cancellationToken).ConfigureAwait(false);
            if (established is null)
            {
                throw new InvalidOperationException($"the lab's BGP session did not come up within {EstablishTimeout.TotalSeconds} s\n{lab.Logs}");
            }
        }
        catch
        {
            await lab.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return lab;
    }

    /// <summary>deploy/bird/bird.conf as the lab runs it: the pop's addresses and AS numbers (see <see cref="PopBirdConfiguration"/>).</summary>
    public static string PopConfiguration() =>
        PopBirdConfiguration.Render(PopAddress, PopAs, RouterAddress, RouterAs, AnycastPrefix);

    /// <summary>deploy/bird/bird.conf, the PoP's BIRD configuration template.</summary>
    public static string DeployTemplatePath => PopBirdConfiguration.TemplatePath;

    /// <summary>
    /// The upstream router: takes every route the pop sends and exports nothing. Without a kernel protocol its
    /// routes stay in BIRD's table, where the tests read them.
    /// </summary>
    public static string RouterConfiguration() => $$"""
        log stderr all;
        router id {{RouterAddress}};

        protocol device {
        }

        protocol bgp {{RouterSession}} {
            local {{RouterAddress}} as {{RouterAs}};
            neighbor {{PopAddress}} as {{PopAs}};
            hold time 3;
            keepalive time 1;
            connect retry time 1;
            error wait time 1, 2;
            ipv4 {
                import all;
                export none;
            };
        }

        """;

    /// <summary>
    /// The router's route to <see cref="AnycastPrefix"/> as BIRD shows it (<c>198.19.53.0/24 unicast [pop 19:28:38.181]
    /// * (100) [AS64512i]</c>), or null when it has none. Asked with <c>show route where net = ...</c>, which answers
    /// an empty table with <c>0000</c> rather than the error <c>8001 Network not found</c>.
    /// </summary>
    public async Task<string?> RouterRouteAsync(CancellationToken cancellationToken)
    {
        var reply = await RouterBird.Control.SendAsync($"show route where net = {AnycastPrefix}", cancellationToken).ConfigureAwait(false);
        foreach (var line in reply.Lines)
        {
            if (line.Code == BirdReplyCode.RouteList && line.Text.StartsWith(AnycastPrefix + " ", StringComparison.Ordinal))
            {
                return line.Text;
            }
        }
        return null;
    }

    /// <summary>Whether the router has a route to <see cref="AnycastPrefix"/> learned from the pop (AS path <see cref="PopAs"/>).</summary>
    public async Task<bool> RouterHasAnycastRouteAsync(CancellationToken cancellationToken)
    {
        string? route = await RouterRouteAsync(cancellationToken).ConfigureAwait(false);
        return route is not null
            && route.Contains($"[{RouterSession} ", StringComparison.Ordinal)
            && route.Contains($"[AS{PopAs}i]", StringComparison.Ordinal);
    }

    /// <summary>Stops both BIRDs by PID and deletes both namespaces, each step even when one before it failed.</summary>
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
                // Every part gets its turn: a BIRD that would not die must not keep its namespace alive.
                (failures ??= []).Add(e);
            }
        }
        _parts.Clear();
        if (failures is not null)
        {
            throw new AggregateException("lab teardown", failures);
        }
    }

    private async Task<T> Own<T>(Task<T> starting)
        where T : IAsyncDisposable
    {
        var part = await starting.ConfigureAwait(false);
        _parts.Add(part);
        return part;
    }

    private async Task<bool> IsSessionEstablishedAsync(CancellationToken cancellationToken)
    {
        var reply = await RouterBird.Control.SendAsync($"show protocols {RouterSession}", cancellationToken).ConfigureAwait(false);
        foreach (var line in reply.Lines)
        {
            if (line.Code == BirdReplyCode.ProtocolList && line.Text.Contains("Established", StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }
}
