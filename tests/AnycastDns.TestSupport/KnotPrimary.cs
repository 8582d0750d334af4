using System.Globalization;
using System.Net;
using System.Text;
using AnycastDns.TestSupport.Lab;
using static AnycastDns.TestSupport.ReferenceServer;

namespace AnycastDns.TestSupport;

/// <summary>
/// knotd as a hidden primary on loopback for the zone files of a folder the test writes (<c>&lt;origin&gt;zone</c>):
/// transfers allowed to 127.0.0.1 signed with a TSIG key (or unsigned without one), NOTIFY sent to a secondary on
/// each new serial, and IXFR served from the differences Knot computes between two versions of a zone file
/// (<c>zonefile-load: difference</c>, the journal keeping changes). Or, with <see cref="StartInAsync"/>, inside a lab
/// namespace on an address of its own, for the PoPs behind the lab's router. Disposing stops it by PID.
/// </summary>
public sealed class KnotPrimary : IAsyncDisposable
{
    public const string ControlPath = "/usr/sbin/knotc";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    private readonly DaemonFolder _daemon;
    private readonly NetworkNamespace? _space;
    private readonly TsigKeyText? _key;
    private readonly string _zonesFolder;
    private readonly string _transferFrom;
    private readonly IReadOnlyList<IPEndPoint> _notify;
    private readonly string? _catalog;

    private KnotPrimary(ChildProcess process, string work, NetworkNamespace? space, IPEndPoint endPoint, TsigKeyText? key, string zonesFolder, string transferFrom,
        IReadOnlyList<IPEndPoint> notify, string? catalog)
    {
        _daemon = new DaemonFolder(process, work);
        _space = space;
        _key = key;
        _zonesFolder = zonesFolder;
        _transferFrom = transferFrom;
        _notify = notify;
        _catalog = catalog;
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }

    public string Log => _daemon.Log;

    public int ProcessId => _daemon.Process.Id;

    /// <summary>
    /// Starts knotd for <paramref name="origins"/> (with the final dot), each read from <paramref name="zonesFolder"/>.
    /// With <paramref name="catalog"/>, Knot also generates that catalog zone (RFC 9432, <c>catalog-role: generate</c>)
    /// with every origin a member (<c>catalog-role: member</c>), in the group <paramref name="groups"/> gives it.
    /// </summary>
    public static Task<KnotPrimary> StartAsync(string zonesFolder, IReadOnlyList<string> origins, TsigKeyText? key, IPEndPoint notify, int? port = null,
        string? catalog = null, IReadOnlyDictionary<string, string>? groups = null)
    {
        ArgumentNullException.ThrowIfNull(notify);
        var endPoint = new IPEndPoint(IPAddress.Loopback, port ?? LoopbackPort.FindFreeForUdpAndTcp());
        return StartCoreAsync(null, endPoint, zonesFolder, origins, key, "127.0.0.1", [notify], catalog, groups, CancellationToken.None);
    }

    /// <summary>
    /// Starts knotd inside <paramref name="space"/> (<c>ip netns exec</c>, which execs it in place: the PID held is
    /// knotd's), listening on <paramref name="address"/> port 53 there, for <paramref name="origins"/> read from
    /// <paramref name="zonesFolder"/>: unsigned transfers allowed to <paramref name="transferFrom"/> (an address or a
    /// prefix, e.g. <c>198.18.0.0/15</c>), NOTIFY sent to each of <paramref name="notify"/>.
    /// </summary>
    public static Task<KnotPrimary> StartInAsync(NetworkNamespace space, IPAddress address, string zonesFolder, IReadOnlyList<string> origins, string transferFrom,
        IReadOnlyList<IPEndPoint> notify, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(transferFrom);
        ArgumentNullException.ThrowIfNull(notify);
        return StartCoreAsync(space, new IPEndPoint(address, 53), zonesFolder, origins, null, transferFrom, notify, null, null, cancellationToken);
    }

    private static async Task<KnotPrimary> StartCoreAsync(NetworkNamespace? space, IPEndPoint endPoint, string zonesFolder, IReadOnlyList<string> origins, TsigKeyText? key,
        string transferFrom, IReadOnlyList<IPEndPoint> notify, string? catalog, IReadOnlyDictionary<string, string>? groups, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(origins);
        ExternalTool.RequireInstalled(KnotServer.DaemonPath, "knot");
        string work = Directory.CreateTempSubdirectory("anycastdns-knot-primary-").FullName;
        Directory.CreateDirectory(Path.Combine(work, "db"));
        string path = Path.Combine(work, "knot.conf");
        File.WriteAllText(path, Configuration(work, endPoint, key, transferFrom, notify, zonesFolder, origins, catalog, groups));
        var process = space is null
            ? ChildProcess.Start(KnotServer.DaemonPath, ["-c", path], work)
            : ChildProcess.Start(NetworkNamespace.IpPath, space.ExecArguments(KnotServer.DaemonPath, ["-c", path]), work);
        var primary = new KnotPrimary(process, work, space, endPoint, key, zonesFolder, transferFrom, notify, catalog);
        try
        {
            var deadline = DateTime.UtcNow + StartTimeout;
            // Knot answers no query for a catalog it generates (RFC 9432 §4.1: not for queries); its members tell it is up.
            foreach (string origin in origins)
            {
                while (!(await primary.QueryAsync([origin, "SOA", "+tcp"], cancellationToken).ConfigureAwait(false)).StandardOutput.Contains("status: NOERROR", StringComparison.Ordinal))
                {
                    if (DateTime.UtcNow > deadline || process.HasExited)
                    {
                        throw new InvalidOperationException($"knotd did not serve {origin} on {endPoint} within {StartTimeout.TotalSeconds} s:\n{process.Log}");
                    }
                    await Task.Delay(100, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            await primary.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return primary;
    }

    /// <summary>
    /// Rewrites the configuration with these member zones of the generated catalog and makes Knot read it
    /// (<c>knotc reload</c>): Knot then serves a new catalog version and sends its NOTIFY.
    /// </summary>
    public async Task SetCatalogMembersAsync(IReadOnlyList<string> origins, IReadOnlyDictionary<string, string>? groups = null)
    {
        File.WriteAllText(Path.Combine(_daemon.Folder, "knot.conf"), Configuration(_daemon.Folder, EndPoint, _key, _transferFrom, _notify, _zonesFolder, origins, _catalog, groups));
        var result = await ExternalTool.RunAsync(ControlPath, ["-s", Path.Combine(_daemon.Folder, "knot.sock"), "reload"], TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"knotc reload failed: {result.StandardOutput}{result.StandardError}");
        }
    }

    private static string Configuration(string work, IPEndPoint listen, TsigKeyText? key, string transferFrom, IReadOnlyList<IPEndPoint> notify, string zonesFolder,
        IReadOnlyList<string> origins, string? catalog, IReadOnlyDictionary<string, string>? groups)
    {
        var inv = CultureInfo.InvariantCulture;
        var conf = KnotServerSections(work, listen.Port, key, listen.Address);
        string keyLine = key is null ? "" : $"\n    key: {key.Name}";
        // One remote per secondary told of each new serial: Knot notifies every remote of the list.
        conf.Append("remote:\n");
        var remotes = new List<string>();
        for (int i = 0; i < notify.Count; i++)
        {
            string id = $"secondary{i.ToString(inv)}";
            remotes.Add(id);
            conf.Append(inv, $"""
                  - id: {id}
                    address: {notify[i].Address}@{notify[i].Port}{keyLine}

                """);
        }
        conf.Append(inv, $"""

            acl:
              - id: transfer
                address: {transferFrom}
                action: transfer{keyLine}

            template:
              - id: default
                semantic-checks: off
                zonefile-load: difference
                zonefile-sync: -1
                journal-content: changes
                notify: [{string.Join(", ", remotes)}]
                acl: transfer

            zone:

            """);
        if (catalog is not null)
        {
            conf.Append(inv, $"""
                  - domain: {Quoted(catalog)}
                    catalog-role: generate

                """);
        }
        foreach (string origin in origins)
        {
            conf.Append(inv, $"""
                  - domain: {Quoted(origin)}
                    file: {Quoted(Path.Combine(Path.GetFullPath(zonesFolder), origin + "zone"))}

                """);
            if (catalog is not null)
            {
                conf.Append(inv, $"""
                        catalog-role: member
                        catalog-zone: {Quoted(catalog)}

                    """);
                if (groups?.GetValueOrDefault(origin) is { } group)
                {
                    conf.Append(inv, $"""
                            catalog-group: {Quoted(group)}

                        """);
                }
            }
        }
        return conf.ToString();
    }

    /// <summary>Makes Knot read the zone file again (<c>knotc zone-reload</c>): a new serial is sent as NOTIFY.</summary>
    public async Task ReloadAsync(string origin)
    {
        var result = await ExternalTool.RunAsync(ControlPath, ["-s", Path.Combine(_daemon.Folder, "knot.sock"), "zone-reload", origin], TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"knotc zone-reload {origin} failed: {result.StandardOutput}{result.StandardError}");
        }
    }

    /// <summary>The zone as Knot gives it out (<c>kdig AXFR</c>, signed with the key when there is one).</summary>
    public Task<ToolResult> AxfrAsync(string origin) =>
        QueryAsync(_key is null ? [origin, "AXFR", "+tcp"] : [origin, "AXFR", "+tcp", "-y", $"{_key.Algorithm}:{_key.Name}:{_key.Secret}"]);

    /// <summary>Stops knotd by PID (a test that checks what a secondary does without its primary).</summary>
    public Task StopAsync() => _daemon.StopAsync();

    public ValueTask DisposeAsync() => _daemon.DisposeAsync();

    /// <summary>kdig against this knotd from where it runs: inside its namespace when it has one.</summary>
    private Task<ToolResult> QueryAsync(IEnumerable<string> arguments, CancellationToken cancellationToken = default) =>
        _space is null ? Kdig.QueryAsync(EndPoint, arguments, cancellationToken) : Kdig.QueryInAsync(_space, EndPoint, arguments, cancellationToken);
}
