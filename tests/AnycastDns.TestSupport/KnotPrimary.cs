using System.Globalization;
using System.Net;
using System.Text;
using static AnycastDns.TestSupport.ReferenceServer;

namespace AnycastDns.TestSupport;

/// <summary>
/// knotd as a hidden primary on loopback for the zone files of a folder the test writes (<c>&lt;origin&gt;zone</c>):
/// transfers allowed to 127.0.0.1 signed with a TSIG key (or unsigned without one), NOTIFY sent to a secondary on
/// each new serial, and IXFR served from the differences Knot computes between two versions of a zone file
/// (<c>zonefile-load: difference</c>, the journal keeping changes). Disposing stops it by PID.
/// </summary>
public sealed class KnotPrimary : IAsyncDisposable
{
    public const string ControlPath = "/usr/sbin/knotc";

    private readonly DaemonFolder _daemon;
    private readonly TsigKeyText? _key;
    private readonly string _zonesFolder;
    private readonly IPEndPoint _notify;
    private readonly string? _catalog;

    private KnotPrimary(ChildProcess process, string work, int port, TsigKeyText? key, string zonesFolder, IPEndPoint notify, string? catalog)
    {
        _daemon = new DaemonFolder(process, work);
        _key = key;
        _zonesFolder = zonesFolder;
        _notify = notify;
        _catalog = catalog;
        EndPoint = new IPEndPoint(IPAddress.Loopback, port);
    }

    public IPEndPoint EndPoint { get; }

    public string Log => _daemon.Log;

    public int ProcessId => _daemon.Process.Id;

    /// <summary>
    /// Starts knotd for <paramref name="origins"/> (with the final dot), each read from <paramref name="zonesFolder"/>.
    /// With <paramref name="catalog"/>, Knot also generates that catalog zone (RFC 9432, <c>catalog-role: generate</c>)
    /// with every origin a member (<c>catalog-role: member</c>), in the group <paramref name="groups"/> gives it.
    /// </summary>
    public static async Task<KnotPrimary> StartAsync(string zonesFolder, IReadOnlyList<string> origins, TsigKeyText? key, IPEndPoint notify, int? port = null,
        string? catalog = null, IReadOnlyDictionary<string, string>? groups = null)
    {
        ArgumentNullException.ThrowIfNull(origins);
        ArgumentNullException.ThrowIfNull(notify);
        ExternalTool.RequireInstalled(KnotServer.DaemonPath, "knot");
        int listen = port ?? LoopbackPort.FindFreeForUdpAndTcp();
        string work = Directory.CreateTempSubdirectory("anycastdns-knot-primary-").FullName;
        Directory.CreateDirectory(Path.Combine(work, "db"));
        string path = Path.Combine(work, "knot.conf");
        File.WriteAllText(path, Configuration(work, listen, key, notify, zonesFolder, origins, catalog, groups));
        var process = ChildProcess.Start(KnotServer.DaemonPath, ["-c", path], work);
        var primary = new KnotPrimary(process, work, listen, key, zonesFolder, notify, catalog);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        // Knot answers no query for a catalog it generates (RFC 9432 §4.1: not for queries); its members tell it is up.
        foreach (string origin in origins)
        {
            while (!(await Kdig.QueryAsync(primary.EndPoint, [origin, "SOA", "+tcp"]).ConfigureAwait(false)).StandardOutput.Contains("status: NOERROR", StringComparison.Ordinal))
            {
                if (DateTime.UtcNow > deadline || process.HasExited)
                {
                    await primary.DisposeAsync().ConfigureAwait(false);
                    throw new InvalidOperationException($"knotd did not serve {origin} within 10 s:\n{process.Log}");
                }
                await Task.Delay(100).ConfigureAwait(false);
            }
        }
        return primary;
    }

    /// <summary>
    /// Rewrites the configuration with these member zones of the generated catalog and makes Knot read it
    /// (<c>knotc reload</c>): Knot then serves a new catalog version and sends its NOTIFY.
    /// </summary>
    public async Task SetCatalogMembersAsync(IReadOnlyList<string> origins, IReadOnlyDictionary<string, string>? groups = null)
    {
        File.WriteAllText(Path.Combine(_daemon.Folder, "knot.conf"), Configuration(_daemon.Folder, EndPoint.Port, _key, _notify, _zonesFolder, origins, _catalog, groups));
        var result = await ExternalTool.RunAsync(ControlPath, ["-s", Path.Combine(_daemon.Folder, "knot.sock"), "reload"], TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"knotc reload failed: {result.StandardOutput}{result.StandardError}");
        }
    }

    private static string Configuration(string work, int listen, TsigKeyText? key, IPEndPoint notify, string zonesFolder, IReadOnlyList<string> origins,
        string? catalog, IReadOnlyDictionary<string, string>? groups)
    {
        var inv = CultureInfo.InvariantCulture;
        var conf = KnotServerSections(work, listen, key);
        string keyLine = key is null ? "" : $"\n    key: {key.Name}";
        conf.Append(inv, $"""
            remote:
              - id: secondary
                address: {notify.Address}@{notify.Port}{keyLine}

            acl:
              - id: transfer
                address: 127.0.0.1
                action: transfer{keyLine}

            template:
              - id: default
                semantic-checks: off
                zonefile-load: difference
                zonefile-sync: -1
                journal-content: changes
                notify: secondary
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
        Kdig.QueryAsync(EndPoint, _key is null ? [origin, "AXFR", "+tcp"] : [origin, "AXFR", "+tcp", "-y", $"{_key.Algorithm}:{_key.Name}:{_key.Secret}"]);

    /// <summary>Stops knotd by PID (a test that checks what a secondary does without its primary).</summary>
    public Task StopAsync() => _daemon.StopAsync();

    public ValueTask DisposeAsync() => _daemon.DisposeAsync();
}
