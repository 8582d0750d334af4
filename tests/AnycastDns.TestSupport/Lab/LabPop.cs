using System.Globalization;
using System.Net;
using AnycastDns.Server.Anycast;

namespace AnycastDns.TestSupport.Lab;

/// <summary>
/// One PoP of the <see cref="AnycastLab"/>: a namespace with the anycast address on <c>lo</c> and a link to the
/// router, its BIRD (deploy/bird/bird.conf, the static protocol <c>anycast</c> disabled, exported over eBGP), the real
/// <c>anycastdns serve</c> answering on the anycast and the link address, and <c>anycastdns watchdog</c> beside
/// BIRD. Processes are started with <c>ip netns exec</c> and stopped by PID.
/// </summary>
public sealed class LabPop : IAsyncDisposable
{
    /// <summary>The status endpoint inside the PoP's namespace (every namespace has its own 127.0.0.1).</summary>
    public const int HttpPort = 8053;

    /// <summary>How long a stopped server keeps answering at most (it ends early 3 s after the last anycast query).</summary>
    public const int DrainSeconds = 10;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    /// <summary>GETs argv[1] and prints the body; Debian's python3, no other HTTP client needed in the namespace.</summary>
    private const string HttpGetScript = """
        import sys, urllib.request
        with urllib.request.urlopen(sys.argv[1], timeout=5) as response:
            sys.stdout.write(response.read().decode())
        """;

    private readonly List<LabProcess> _exited = [];
    private int _disposed;

    internal LabPop(int number, NetworkNamespace space, string workDirectory)
    {
        Number = number;
        Space = space;
        WorkDirectory = workDirectory;
    }

    /// <summary><c>pop1</c>, <c>pop2</c>: also its <c>--pop-id</c>, so the answer to <c>id.server</c>, and the router's BGP protocol for it.</summary>
    public string Name => $"pop{Number.ToString(CultureInfo.InvariantCulture)}";

    public int Number { get; }

    public NetworkNamespace Space { get; }

    /// <summary>The PoP's unicast address, on its link to the router: 198.18.N.1.</summary>
    public IPAddress LinkAddress => IPAddress.Parse($"198.18.{Number.ToString(CultureInfo.InvariantCulture)}.1");

    /// <summary>The router's end of that link, the PoP's default gateway and BGP neighbour: 198.18.N.2.</summary>
    public IPAddress RouterAddress => IPAddress.Parse($"198.18.{Number.ToString(CultureInfo.InvariantCulture)}.2");

    /// <summary>The PoP's temporary directory: the servers' working directory and the maintenance file.</summary>
    public string WorkDirectory { get; }

    /// <summary>The server's <c>--maintenance-file</c>: while it exists the PoP is withdrawn, still answering.</summary>
    public string MaintenanceFile => Path.Combine(WorkDirectory, "maintenance");

    public BirdProcess Bird { get; internal set; } = null!;

    /// <summary>Arguments every <c>anycastdns serve</c> started here gets after the lab's own (e.g. <c>--rrl-rate 50</c>).</summary>
    public IReadOnlyList<string> ServerArguments { get; internal set; } = [];

    /// <summary>The latest <c>anycastdns serve</c> started here, or null before the first.</summary>
    public LabProcess? Server { get; private set; }

    public LabProcess? Watchdog { get; private set; }

    /// <summary>The server's, the watchdog's and BIRD's logs, for assertion messages.</summary>
    public string Logs =>
        $"--- {Name} anycastdns ---\n{string.Concat(_exited.Select(p => p.Log + "--- (exited; started again) ---\n"))}{Server?.Log}"
        + $"--- {Name} watchdog ---\n{Watchdog?.Log}--- {Name} bird ---\n{Bird?.Log}";

    /// <summary>
    /// Starts <c>anycastdns serve</c> in the namespace on <paramref name="zones"/>: listening on the anycast address and
    /// the link address, port 53, anycast address <see cref="AnycastLab.AnycastAddress"/>, announcing through this
    /// PoP's BIRD; returns once it says it answers (announcing comes after its self-check). A previous server, if
    /// any, must have exited.
    /// </summary>
    public async Task<LabProcess> StartServerAsync(string zones, CancellationToken cancellationToken)
    {
        if (Server is { HasExited: false })
        {
            throw new InvalidOperationException($"{Name}: a server is running already (pid {Server.ProcessId})");
        }
        if (Server is not null)
        {
            _exited.Add(Server);
        }
        string[] arguments =
        [
            "exec", AnycastDnsServer.DllPath, "serve",
            "--zones", zones,
            "--listen", $"{AnycastLab.AnycastAddress}:53",
            "--listen", $"{LinkAddress}:53",
            "--anycast-address", AnycastLab.AnycastAddress,
            "--pop-id", Name,
            "--bird-socket", Bird.SocketPath,
            "--bird-protocol", "anycast",
            "--http", $"127.0.0.1:{HttpPort.ToString(CultureInfo.InvariantCulture)}",
            "--drain-seconds", DrainSeconds.ToString(CultureInfo.InvariantCulture),
            "--maintenance-file", MaintenanceFile,
            .. ServerArguments,
        ];
        Server = LabProcess.Start(Space, $"{Name} anycastdns", "dotnet", arguments, WorkDirectory);
        if (!await Server.WaitForLogAsync("answering as", StartTimeout, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"{Name}: anycastdns did not start within {StartTimeout.TotalSeconds} s"
                + (Server.HasExited ? $" (exit {Server.ExitCode})" : "") + $"\n{Server.Log}");
        }
        return Server;
    }

    /// <summary>Starts <c>anycastdns watchdog</c> beside BIRD, probing the link address with its defaults (every 200 ms, 3 failures).</summary>
    public LabProcess StartWatchdog()
    {
        if (Watchdog is not null)
        {
            throw new InvalidOperationException($"{Name}: the watchdog runs already");
        }
        Watchdog = LabProcess.Start(Space, $"{Name} watchdog", "dotnet",
            ["exec", AnycastDnsServer.DllPath, "watchdog", "--target", $"{LinkAddress}:53", "--bird-socket", Bird.SocketPath, "--bird-protocol", "anycast"],
            WorkDirectory);
        return Watchdog;
    }

    /// <summary>Runs an <c>anycastdns</c> command inside the PoP's namespace to its end, e.g. <c>drain --http 127.0.0.1:8053</c>.</summary>
    public Task<ToolResult> AnycastdnsAsync(IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        Space.RunAsync("dotnet", ["exec", AnycastDnsServer.DllPath, .. arguments], CommandTimeout, cancellationToken);

    /// <summary>The status endpoint's address as <c>--http</c> takes it.</summary>
    public string HttpAddress => $"127.0.0.1:{HttpPort.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>GET <c>/state</c> from inside the namespace: the server's anycast state as JSON text.</summary>
    public Task<string> StateAsync(CancellationToken cancellationToken) => HttpGetAsync("/state", cancellationToken);

    /// <summary>GET <c>/metrics</c> from inside the namespace: the Prometheus text (read it with <see cref="PrometheusText"/>).</summary>
    public Task<string> MetricsAsync(CancellationToken cancellationToken) => HttpGetAsync("/metrics", cancellationToken);

    private async Task<string> HttpGetAsync(string path, CancellationToken cancellationToken)
    {
        ExternalTool.RequireInstalled(QueryStream.Python, "python3");
        var result = await Space.RunAsync(QueryStream.Python, ["-c", HttpGetScript, $"http://{HttpAddress}{path}"], CommandTimeout, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Name}: GET {path} failed: {result.Output}");
        }
        return result.StandardOutput;
    }

    /// <summary>Whether this PoP's BIRD has the <c>anycast</c> protocol up (enabled, its route exported).</summary>
    public async Task<bool> IsProtocolUpAsync(CancellationToken cancellationToken)
    {
        var reply = await Bird.Control.SendAsync("show protocols anycast", cancellationToken).ConfigureAwait(false);
        foreach (var line in reply.Lines)
        {
            if (line.Code == BirdReplyCode.ProtocolList && line.Text.StartsWith("anycast ", StringComparison.Ordinal))
            {
                return line.Text.Contains(" up ", StringComparison.Ordinal);
            }
        }
        return false;
    }

    /// <summary>Stops the watchdog, every server and BIRD by PID, deletes the directory; then the namespace, by name.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        List<Exception>? failures = null;
        IAsyncDisposable?[] parts = [Watchdog, Server, .. _exited, Bird, Space];
        foreach (var part in parts)
        {
            try
            {
                if (part is not null)
                {
                    await part.DisposeAsync().ConfigureAwait(false);
                }
            }
            catch (Exception e)
            {
                // Every part gets its turn: a process that would not die must not keep the namespace alive.
                (failures ??= []).Add(e);
            }
        }
        try
        {
            if (Directory.Exists(WorkDirectory))
            {
                Directory.Delete(WorkDirectory, recursive: true);
            }
        }
        catch (IOException e)
        {
            (failures ??= []).Add(e);
        }
        if (failures is not null)
        {
            throw new AggregateException($"{Name} teardown", failures);
        }
    }
}
