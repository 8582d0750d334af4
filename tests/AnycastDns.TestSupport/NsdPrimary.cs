using System.Globalization;
using System.Net;
using System.Text;
using static AnycastDns.TestSupport.ReferenceServer;

namespace AnycastDns.TestSupport;

/// <summary>
/// nsd as a hidden primary on loopback for zone files the test writes (<c>&lt;origin&gt;zone</c> in a folder):
/// transfers allowed to 127.0.0.1 signed with a TSIG key, NOTIFY sent to a secondary when a zone changes. NSD 4.6
/// keeps no differences of its own: asked for IXFR it answers with the whole zone in AXFR form (RFC 1995 §4 lets a
/// server do so), which is the answer a secondary must also take. A reload is SIGHUP, as an operator sends it.
/// Disposing stops it by PID.
/// </summary>
public sealed class NsdPrimary : IAsyncDisposable
{
    private const int SigHup = 1;

    private readonly DaemonFolder _daemon;
    private readonly TsigKeyText _key;

    private NsdPrimary(ChildProcess process, string work, int port, TsigKeyText key)
    {
        _daemon = new DaemonFolder(process, work, "nsd.log");
        _key = key;
        EndPoint = new IPEndPoint(IPAddress.Loopback, port);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>The process output and NSD's log file.</summary>
    public string Log => _daemon.Log;

    /// <summary>Starts nsd for <paramref name="origins"/> (with the final dot), each read from <paramref name="zonesFolder"/>.</summary>
    public static async Task<NsdPrimary> StartAsync(string zonesFolder, IReadOnlyList<string> origins, TsigKeyText key, IPEndPoint notify, int? port = null)
    {
        ArgumentNullException.ThrowIfNull(origins);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(notify);
        ExternalTool.RequireInstalled(NsdServer.DaemonPath, "nsd");
        int listen = port ?? LoopbackPort.FindFreeForUdpAndTcp();
        string work = Directory.CreateTempSubdirectory("anycastdns-nsd-primary-").FullName;
        var inv = CultureInfo.InvariantCulture;
        var conf = new StringBuilder(NsdServer.ServerSections(work, listen, "nsd.log", verbosity: 2, minimalResponses: true));
        conf.Append(inv, $"""
            key:
                name: {Quoted(key.Name)}
                algorithm: {key.Algorithm}
                secret: {Quoted(key.Secret)}


            """);
        foreach (string origin in origins)
        {
            conf.Append(inv, $"""
                zone:
                    name: {Quoted(origin)}
                    zonefile: {Quoted(Path.Combine(Path.GetFullPath(zonesFolder), origin + "zone"))}
                    provide-xfr: 127.0.0.1 {key.Name}
                    notify: {notify.Address}@{notify.Port} {key.Name}


                """);
        }
        string path = Path.Combine(work, "nsd.conf");
        File.WriteAllText(path, conf.ToString());
        var process = ChildProcess.Start(NsdServer.DaemonPath, ["-d", "-c", path], work);
        var primary = new NsdPrimary(process, work, listen, key);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        foreach (string origin in origins)
        {
            while (!(await Kdig.QueryAsync(primary.EndPoint, [origin, "SOA", "+tcp"]).ConfigureAwait(false)).StandardOutput.Contains("status: NOERROR", StringComparison.Ordinal))
            {
                if (DateTime.UtcNow > deadline || process.HasExited)
                {
                    string log = primary.Log;
                    await primary.DisposeAsync().ConfigureAwait(false);
                    throw new InvalidOperationException($"nsd did not serve {origin} within 10 s:\n{log}");
                }
                await Task.Delay(100).ConfigureAwait(false);
            }
        }
        return primary;
    }

    /// <summary>SIGHUP: NSD reads the zone files again and sends NOTIFY for the zones that changed.</summary>
    public void Reload() => _daemon.Process.Signal(SigHup);

    /// <summary>The zone as NSD gives it out (<c>kdig AXFR</c>, signed with the key).</summary>
    public Task<ToolResult> AxfrAsync(string origin) =>
        Kdig.QueryAsync(EndPoint, [origin, "AXFR", "+tcp", "-y", $"{_key.Algorithm}:{_key.Name}:{_key.Secret}"]);

    public ValueTask DisposeAsync() => _daemon.DisposeAsync();
}
