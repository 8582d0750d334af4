using System.Globalization;
using System.Net;
using System.Text;
using static AnycastDns.TestSupport.ReferenceServer;

namespace AnycastDns.TestSupport;

/// <summary>The daemon acting as a secondary.</summary>
public enum SecondaryKind
{
    /// <summary>knotd (Knot DNS 3.2 on Debian 12).</summary>
    Knot,
    /// <summary>nsd (NSD 4.6 on Debian 12).</summary>
    Nsd,
}

/// <summary>A TSIG key as the daemons' configurations name it: name, algorithm (hmac-sha256) and base64 secret.</summary>
public sealed record TsigKeyText(string Name, string Algorithm, string Secret);

/// <summary>
/// Knot or NSD configured as a secondary of a primary on loopback (AnycastDns, in these tests): it fetches each zone
/// by AXFR over TCP, optionally signed with a TSIG key, and serves what it got (and gives it out again by AXFR to
/// 127.0.0.1, so a test can read back exactly what it holds). Everything lives in a fresh temporary directory;
/// disposing stops the daemon by PID and deletes it.
/// </summary>
public sealed class SecondaryServer : IAsyncDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    private readonly DaemonFolder _daemon;
    private readonly SecondaryKind _kind;

    private SecondaryServer(SecondaryKind kind, ChildProcess process, string workDirectory, int port)
    {
        _kind = kind;
        _daemon = new DaemonFolder(process, workDirectory, "nsd.log");
        EndPoint = new IPEndPoint(IPAddress.Loopback, port);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>What the daemon logged so far (NSD's log file included).</summary>
    public string Log => _daemon.Log;

    /// <summary>Starts the secondary for <paramref name="zones"/> (origins with the final dot) of <paramref name="primary"/>.</summary>
    /// <param name="port">The port to listen on (one a primary's NOTIFY targets), or a free one.</param>
    /// <param name="acceptNotify">Accept NOTIFY from 127.0.0.1, signed with <paramref name="key"/> when there is one.</param>
    public static SecondaryServer Start(SecondaryKind kind, IPEndPoint primary, IReadOnlyList<string> zones, TsigKeyText? key, int? port = null, bool acceptNotify = false)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(zones);
        string program = kind == SecondaryKind.Knot ? KnotServer.DaemonPath : NsdServer.DaemonPath;
        ExternalTool.RequireInstalled(program, kind == SecondaryKind.Knot ? "knot" : "nsd");
        int listen = port ?? LoopbackPort.FindFreeForUdpAndTcp();
        string workDirectory = Directory.CreateTempSubdirectory($"anycastdns-secondary-{kind.ToString().ToLowerInvariant()}-").FullName;
        string configuration = kind == SecondaryKind.Knot
            ? KnotConfiguration(workDirectory, listen, primary, zones, key, acceptNotify)
            : NsdConfiguration(workDirectory, listen, primary, zones, key, acceptNotify);
        string path = Path.Combine(workDirectory, kind == SecondaryKind.Knot ? "knot.conf" : "nsd.conf");
        File.WriteAllText(path, configuration);
        string[] arguments = kind == SecondaryKind.Knot ? ["-c", path] : ["-d", "-c", path];
        var process = ChildProcess.Start(program, arguments, workDirectory);
        return new SecondaryServer(kind, process, workDirectory, listen);
    }

    /// <summary>Waits, bounded, until the secondary answers the zone's SOA with data; false on timeout.</summary>
    public async Task<bool> WaitForZoneAsync(string zone, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !_daemon.Process.HasExited)
        {
            if (await HoldsZoneAsync(zone).ConfigureAwait(false))
            {
                return true;
            }
            await Task.Delay(PollInterval).ConfigureAwait(false);
        }
        return false;
    }

    /// <summary>True when the secondary answers the zone's SOA with NOERROR and the record.</summary>
    public async Task<bool> HoldsZoneAsync(string zone)
    {
        var soa = await Kdig.QueryAsync(EndPoint, [zone, "SOA", "+tcp"]).ConfigureAwait(false);
        return soa.StandardOutput.Contains("status: NOERROR", StringComparison.Ordinal) && soa.StandardOutput.Contains("\tSOA\t", StringComparison.Ordinal);
    }

    /// <summary>The zone as the secondary gives it out: <c>kdig +tcp AXFR</c> from it.</summary>
    public Task<ToolResult> AxfrAsync(string zone) => Kdig.QueryAsync(EndPoint, [zone, "AXFR", "+tcp"]);

    public ValueTask DisposeAsync() => _daemon.DisposeAsync();

    public override string ToString() => $"{_kind} secondary on {EndPoint}";

    private static string KnotConfiguration(string work, int port, IPEndPoint primary, IReadOnlyList<string> zones, TsigKeyText? key, bool acceptNotify)
    {
        var inv = CultureInfo.InvariantCulture;
        var conf = KnotServerSections(work, port, key);
        conf.Append(inv, $"""
            remote:
              - id: primary
                address: {primary.Address}@{primary.Port}
            {(key is null ? "" : $"    key: {key.Name}\n")}
            acl:
              - id: readback
                address: 127.0.0.1
                action: transfer
              - id: notify
                address: 127.0.0.1
                action: notify
            {(key is null ? "" : $"    key: {key.Name}\n")}

            template:
              - id: default
                storage: {Quoted(work)}
                # What was transferred stays in memory: nothing written back, no journal, nothing kept between runs.
                zonefile-load: none
                zonefile-sync: -1
                journal-content: none
                semantic-checks: off

            zone:

            """);
        foreach (string zone in zones)
        {
            conf.Append(inv, $"""
                  - domain: {Quoted(zone)}
                    master: primary
                    acl: {(acceptNotify ? "[readback, notify]" : "readback")}

                """);
        }
        Directory.CreateDirectory(Path.Combine(work, "db"));
        return conf.ToString();
    }

    private static string NsdConfiguration(string work, int port, IPEndPoint primary, IReadOnlyList<string> zones, TsigKeyText? key, bool acceptNotify)
    {
        var inv = CultureInfo.InvariantCulture;
        var conf = new StringBuilder();
        // minimal-responses does not touch what a transfer carries, which is all these tests read.
        conf.Append(NsdServer.ServerSections(work, port, "nsd.log", verbosity: 2, minimalResponses: true));
        if (key is not null)
        {
            conf.Append(inv, $"""
                key:
                    name: {Quoted(key.Name)}
                    algorithm: {key.Algorithm}
                    secret: {Quoted(key.Secret)}


                """);
        }
        foreach (string zone in zones)
        {
            // "AXFR": transfer whole zones over TCP only. Told of changes by NOTIFY, NSD asks IXFR as secondaries do
            // (over UDP first, then TCP when the answer is the SOA alone, RFC 1995 §2).
            conf.Append(inv, $"""
                zone:
                    name: {Quoted(zone)}
                    zonefile: {Quoted(Path.Combine(work, zone + "zone"))}
                    request-xfr: {(acceptNotify ? "" : "AXFR ")}{primary.Address}@{primary.Port} {key?.Name ?? "NOKEY"}
                    provide-xfr: 127.0.0.1 NOKEY
                {(acceptNotify ? $"    allow-notify: 127.0.0.1 {key?.Name ?? "NOKEY"}\n" : "")}


                """);
        }
        return conf.ToString();
    }
}
