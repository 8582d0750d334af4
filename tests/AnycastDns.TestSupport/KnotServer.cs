using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace AnycastDns.TestSupport;

/// <summary>
/// Knot DNS (knotd, 3.2 on Debian 12) serving a folder of zone files on loopback: the reference the
/// answer engine is compared with.
/// </summary>
/// <remarks>
/// The configuration is a stock one except for what a test needs: one worker of each kind, no DNSSEC
/// signing, the zone files read whole at every start and never written back, nothing persisted between
/// runs, and the CHAOS identity and version answers turned off so they do not differ between machines.
/// </remarks>
public sealed class KnotServer : ReferenceServer
{
    public const string DaemonPath = "/usr/sbin/knotd";

    private readonly bool _allowTransfer;

    private KnotServer(IReadOnlyList<ZoneFile> zones, bool allowTransfer)
        : base(zones)
    {
        _allowTransfer = allowTransfer;
    }

    protected override string ProgramName => "knotd";

    protected override string ProgramPath => DaemonPath;

    protected override string Package => "knot";

    // "error: [missing-soa.test.] zone event 'load' failed (failed)"
    private protected override Regex ZoneLoadFailure { get; } = new(@"\[[^\]]+\] zone event 'load' failed.*", RegexOptions.CultureInvariant);

    /// <summary>
    /// Starts knotd serving every <c>*.zone</c> file in <paramref name="zonesFolder"/> (zone = file name
    /// without <c>.zone</c>) and returns once each zone answers its SOA.
    /// </summary>
    /// <exception cref="InvalidOperationException">knotd is not installed, or did not serve the zones within 10 s (the message carries its log).</exception>
    /// <param name="allowTransfer">Let 127.0.0.1 transfer every zone (AXFR), as a primary does for its secondaries.</param>
    public static async Task<KnotServer> StartAsync(string zonesFolder, CancellationToken cancellationToken, bool allowTransfer = false)
    {
        var server = new KnotServer(ZoneFile.FindIn(zonesFolder), allowTransfer);
        await server.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return server;
    }

    private protected override string WriteConfiguration(string workDirectory, int port)
    {
        var conf = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        conf.Append(inv, $$"""
            server:
                rundir: {{Quoted(workDirectory)}}
                pidfile: {{Quoted(Path.Combine(workDirectory, "knot.pid"))}}
                listen: 127.0.0.1@{{port}}
                udp-workers: 1
                tcp-workers: 1
                background-workers: 1
                identity: "test-pop"
                version: ""

            control:
                listen: {{Quoted(Path.Combine(workDirectory, "knot.sock"))}}

            database:
                storage: {{Quoted(Path.Combine(workDirectory, "db"))}}

            log:
              - target: stderr
                any: info

            acl:
              - id: loopback-transfer
                address: 127.0.0.1
                action: transfer

            template:
              - id: default
                {{(_allowTransfer ? "acl: loopback-transfer" : "# no acl: transfers refused")}}
                # Mandatory checks only: the test zones hold odd but legal data (a CNAME loop, dangling CNAMEs).
                semantic-checks: off
                zonefile-load: whole
                zonefile-sync: -1
                journal-content: none

            zone:

            """);
        foreach (var zone in Zones)
        {
            conf.Append(inv, $"""
                  - domain: {Quoted(zone.Origin + ".")}
                    file: {Quoted(zone.Path)}

                """);
        }
        // Made here, not by knotd, which would otherwise warn that the storage does not exist.
        Directory.CreateDirectory(Path.Combine(workDirectory, "db"));
        string path = Path.Combine(workDirectory, "knot.conf");
        File.WriteAllText(path, conf.ToString());
        return path;
    }

    // Without -d knotd stays in the foreground; -c names the text configuration.
    private protected override IReadOnlyList<string> Arguments(string configurationFile) => ["-c", configurationFile];
}
