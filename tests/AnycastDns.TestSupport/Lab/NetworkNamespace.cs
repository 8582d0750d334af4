using System.Runtime.InteropServices;

namespace AnycastDns.TestSupport.Lab;

/// <summary>
/// A Linux network namespace this test made (<c>ip netns add</c>), with its loopback up; disposing deletes it by
/// name, which also removes its interfaces. Names carry a random suffix so that parallel runs never meet.
/// </summary>
public sealed partial class NetworkNamespace : IAsyncDisposable
{
    public const string IpPath = "/usr/sbin/ip";

    /// <summary>procps' sysctl, run inside the namespace, where /proc/sys/net is the namespace's own.</summary>
    public const string SysctlPath = "/usr/sbin/sysctl";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(10);

    private int _deleted;

    private NetworkNamespace(string name) => Name = name;

    /// <summary>The namespace's name, e.g. <c>adns-pop-1a2b3c4d</c>.</summary>
    public string Name { get; }

    /// <summary>
    /// Throws a one-line explanation unless this process is root with <c>ip</c> (iproute2) installed: the lab
    /// makes namespaces and interfaces, which needs CAP_SYS_ADMIN and CAP_NET_ADMIN.
    /// </summary>
    public static void RequireRoot()
    {
        ExternalTool.RequireInstalled(IpPath, "iproute2");
        uint uid = NativeMethods.GetEffectiveUserId();
        if (uid != 0)
        {
            throw new InvalidOperationException(
                $"the lab tests make network namespaces and need root (running as uid {uid}): run them as root, as CI does (./scripts/test.sh)");
        }
    }

    /// <summary>Makes namespace <c>adns-&lt;role&gt;-&lt;8 random hex digits&gt;</c> and brings its loopback up.</summary>
    public static async Task<NetworkNamespace> CreateAsync(string role, CancellationToken cancellationToken)
    {
        RequireRoot();
        string name = $"adns-{role}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4))}";
        await IpAsync(cancellationToken, "netns", "add", name).ConfigureAwait(false);
        var created = new NetworkNamespace(name);
        try
        {
            await IpAsync(cancellationToken, "-n", name, "link", "set", "lo", "up").ConfigureAwait(false);
            // A new namespace copies the host's IPv4 settings (net.core.devconf_inherit_init_net = 0), so on a host where
            // podman or Docker turned forwarding on, every namespace would route: a victim's capture namespace sent the
            // reflections it received back to the router until their TTL ran out, counting each about 32 times. Only
            // the router forwards, and says so (AnycastLab).
            await created.SetSysctlAsync(["net.ipv4.ip_forward=0"], cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await created.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return created;
    }

    /// <summary>
    /// Links this namespace to <paramref name="peer"/> with a veth pair made inside them (nothing appears in the
    /// host's namespace): <paramref name="interfaceName"/> on both sides, <paramref name="address"/> here and
    /// <paramref name="peerAddress"/> there (both <c>address/length</c> inside 198.18.0.0/15), both ends up.
    /// </summary>
    public Task LinkAsync(NetworkNamespace peer, string interfaceName, string address, string peerAddress, CancellationToken cancellationToken) =>
        LinkAsync(peer, interfaceName, address, interfaceName, peerAddress, cancellationToken);

    /// <summary>
    /// The same, with the interface called <paramref name="interfaceName"/> here and <paramref name="peerInterfaceName"/>
    /// there (a router names each link after its neighbour).
    /// </summary>
    public async Task LinkAsync(NetworkNamespace peer, string interfaceName, string address, string peerInterfaceName, string peerAddress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(peer);
        LabAddress.RequireInRange(address);
        LabAddress.RequireInRange(peerAddress);
        await IpAsync(cancellationToken, "-n", Name, "link", "add", interfaceName, "type", "veth", "peer", "name", peerInterfaceName, "netns", peer.Name).ConfigureAwait(false);
        await IpAsync(cancellationToken, "-n", Name, "address", "add", address, "dev", interfaceName).ConfigureAwait(false);
        await IpAsync(cancellationToken, "-n", peer.Name, "address", "add", peerAddress, "dev", peerInterfaceName).ConfigureAwait(false);
        await IpAsync(cancellationToken, "-n", Name, "link", "set", interfaceName, "up").ConfigureAwait(false);
        await IpAsync(cancellationToken, "-n", peer.Name, "link", "set", peerInterfaceName, "up").ConfigureAwait(false);
    }

    /// <summary>Adds <paramref name="address"/> (<c>address/length</c> inside 198.18.0.0/15) to <paramref name="interfaceName"/>, e.g. an anycast /32 on <c>lo</c>.</summary>
    public Task AddAddressAsync(string interfaceName, string address, CancellationToken cancellationToken)
    {
        LabAddress.RequireInRange(address);
        return IpAsync(cancellationToken, "-n", Name, "address", "add", address, "dev", interfaceName);
    }

    /// <summary>Routes everything not on a link via <paramref name="gateway"/>.</summary>
    public Task AddDefaultRouteAsync(string gateway, CancellationToken cancellationToken) =>
        IpAsync(cancellationToken, "-n", Name, "route", "add", "default", "via", gateway);

    /// <summary>Routes <paramref name="prefix"/> (<c>address/length</c> inside 198.18.0.0/15) via <paramref name="gateway"/>.</summary>
    public Task AddRouteAsync(string prefix, string gateway, CancellationToken cancellationToken)
    {
        LabAddress.RequireInRange(prefix);
        return IpAsync(cancellationToken, "-n", Name, "route", "add", prefix, "via", gateway);
    }

    /// <summary>
    /// Adds a route of a kind that drops instead of forwarding (<paramref name="kind"/>: <c>unreachable</c>,
    /// <c>blackhole</c> or <c>prohibit</c>) to <paramref name="prefix"/> (inside 198.18.0.0/15): a box that loses its
    /// way to one address. <see cref="DeleteRouteAsync"/> gives it back.
    /// </summary>
    public Task AddDroppingRouteAsync(string kind, string prefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(kind);
        LabAddress.RequireInRange(prefix);
        if (kind is not ("unreachable" or "blackhole" or "prohibit"))
        {
            throw new ArgumentException($"route kind '{kind}' is not unreachable, blackhole or prohibit", nameof(kind));
        }
        return IpAsync(cancellationToken, "-n", Name, "route", "add", kind, prefix);
    }

    /// <summary>Deletes the route to <paramref name="prefix"/> (<c>ip route del</c>), whatever its kind.</summary>
    public Task DeleteRouteAsync(string prefix, CancellationToken cancellationToken)
    {
        LabAddress.RequireInRange(prefix);
        return IpAsync(cancellationToken, "-n", Name, "route", "del", prefix);
    }

    /// <summary>
    /// The kernel's counters of <paramref name="interfaceName"/> here (<c>ip -j -s link show dev</c>): frames and octets
    /// received and sent, Ethernet headers included, so what crossed a link is counted alike in both directions.
    /// </summary>
    public async Task<LinkCounters> LinkCountersAsync(string interfaceName, CancellationToken cancellationToken)
    {
        var result = await ExternalTool.RunAsync(IpPath, ["-n", Name, "-j", "-s", "link", "show", "dev", interfaceName], CommandTimeout, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip -n {Name} -j -s link show dev {interfaceName}: exit {result.ExitCode}: {result.Output.Trim()}");
        }
        using var json = System.Text.Json.JsonDocument.Parse(result.StandardOutput);
        var stats = json.RootElement[0].GetProperty("stats64");
        var rx = stats.GetProperty("rx");
        var tx = stats.GetProperty("tx");
        return new LinkCounters(rx.GetProperty("packets").GetInt64(), rx.GetProperty("bytes").GetInt64(),
            tx.GetProperty("packets").GetInt64(), tx.GetProperty("bytes").GetInt64());
    }

    /// <summary>Sets kernel parameters of this namespace (<c>sysctl -w key=value ...</c>), e.g. <c>net.ipv4.ip_forward=1</c>.</summary>
    public async Task SetSysctlAsync(IEnumerable<string> settings, CancellationToken cancellationToken)
    {
        var result = await RunAsync(SysctlPath, ["-q", "-w", .. settings], CommandTimeout, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"sysctl in {Name}: exit {result.ExitCode}: {result.Output.Trim()}");
        }
    }

    /// <summary><c>ip -n NAME route show TARGET</c>: the kernel's route to <paramref name="target"/> here, as text (empty when none).</summary>
    public async Task<string> RouteAsync(string target, CancellationToken cancellationToken)
    {
        var result = await ExternalTool.RunAsync(IpPath, ["-n", Name, "route", "show", target], CommandTimeout, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip -n {Name} route show {target}: exit {result.ExitCode}: {result.Output.Trim()}");
        }
        return result.StandardOutput;
    }

    /// <summary>Runs <paramref name="program"/> inside this namespace to its end (<c>ip netns exec</c>), bounded by <paramref name="timeout"/>.</summary>
    public Task<ToolResult> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        ExternalTool.RunAsync(IpPath, ExecArguments(program, arguments), timeout, cancellationToken);

    /// <summary>The arguments that run <paramref name="program"/> inside this namespace: <c>ip netns exec NAME program ...</c>.</summary>
    public IReadOnlyList<string> ExecArguments(string program, IEnumerable<string> arguments) =>
        ["netns", "exec", Name, program, .. arguments];

    /// <summary>Deletes the namespace by name (its interfaces go with it); a namespace already gone is fine.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _deleted, 1) != 0)
        {
            return;
        }
        var result = await ExternalTool.RunAsync(IpPath, ["netns", "delete", Name], CommandTimeout).ConfigureAwait(false);
        if (result.ExitCode != 0 && File.Exists(Path.Combine("/run/netns", Name)))
        {
            throw new InvalidOperationException($"ip netns delete {Name}: exit {result.ExitCode}: {result.Output.Trim()}");
        }
    }

    private static async Task IpAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        var result = await ExternalTool.RunAsync(IpPath, arguments, CommandTimeout, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)}: exit {result.ExitCode}: {result.Output.Trim()}");
        }
    }

    private static partial class NativeMethods
    {
        [LibraryImport("libc", EntryPoint = "geteuid")]
        internal static partial uint GetEffectiveUserId();
    }
}

/// <summary>An interface's frames and octets received and sent, as the kernel counts them (Ethernet headers included).</summary>
public sealed record LinkCounters(long ReceivedFrames, long ReceivedOctets, long SentFrames, long SentOctets)
{
    /// <summary>What was counted between <paramref name="before"/> and this reading.</summary>
    public LinkCounters Since(LinkCounters before)
    {
        ArgumentNullException.ThrowIfNull(before);
        return new(ReceivedFrames - before.ReceivedFrames, ReceivedOctets - before.ReceivedOctets, SentFrames - before.SentFrames, SentOctets - before.SentOctets);
    }
}
