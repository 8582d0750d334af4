using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace AnycastDns.TestSupport;

/// <summary>
/// NSD (4.6 on Debian 12) serving a folder of zone files on loopback: the second reference server.
/// </summary>
/// <remarks>
/// Stock settings (so, unlike Knot, the apex NS and their addresses in every positive answer, unless started
/// with minimal responses) except: one server process, no privilege drop or chroot (everything lives in a
/// temporary directory), no remote control, no zone database file, IPv4 only, response-rate limiting off
/// (tests send bursts from one address), and the CHAOS identity and version answers hidden.
/// </remarks>
public sealed class NsdServer : ReferenceServer
{
    public const string DaemonPath = "/usr/sbin/nsd";

    /// <summary>nsd logs to a file of its own (and syslog), not only to standard error.</summary>
    private const string LogFileName = "nsd.log";

    private readonly bool _minimalResponses;

    private NsdServer(IReadOnlyList<ZoneFile> zones, bool minimalResponses)
        : base(zones) => _minimalResponses = minimalResponses;

    protected override string ProgramName => "nsd";

    protected override string ProgramPath => DaemonPath;

    protected override string Package => "nsd";

    // "error: zone missing-soa.test. file /tmp/.../missing-soa.test.zone read with 1 errors"
    private protected override Regex ZoneLoadFailure { get; } = new(@"zone \S+ file \S+ read with \d+ errors", RegexOptions.CultureInvariant);

    /// <summary>
    /// Starts nsd serving every <c>*.zone</c> file in <paramref name="zonesFolder"/> (zone = file name
    /// without <c>.zone</c>) and returns once each zone answers its SOA.
    /// </summary>
    /// <exception cref="InvalidOperationException">nsd is not installed, or did not serve the zones within 10 s (the message carries its log).</exception>
    public static Task<NsdServer> StartAsync(string zonesFolder, CancellationToken cancellationToken) =>
        StartAsync(zonesFolder, minimalResponses: false, cancellationToken);

    /// <summary>
    /// As <see cref="StartAsync(string, CancellationToken)"/>; with <paramref name="minimalResponses"/> NSD leaves
    /// the apex NS out of the authority section of positive answers, and their addresses out of the additional
    /// section, as Knot does (it also drops MX and SRV target addresses, which Knot keeps).
    /// </summary>
    public static async Task<NsdServer> StartAsync(string zonesFolder, bool minimalResponses, CancellationToken cancellationToken)
    {
        var server = new NsdServer(ZoneFile.FindIn(zonesFolder), minimalResponses);
        await server.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return server;
    }

    /// <summary>
    /// The <c>server:</c> and <c>remote-control:</c> sections of an nsd.conf for one test instance: loopback IPv4 on
    /// <paramref name="port"/>, one process, every file in <paramref name="workDirectory"/>, no rate limiting, no
    /// control channel. Also what <see cref="SecondaryServer"/> writes, so both run NSD alike.
    /// </summary>
    internal static string ServerSections(string workDirectory, int port, string logFile, int verbosity, bool minimalResponses)
    {
        var inv = CultureInfo.InvariantCulture;
        return string.Create(inv, $$"""
            server:
                ip-address: 127.0.0.1@{{port}}
                do-ip6: no
                server-count: 1
                reuseport: no
                username: ""
                chroot: ""
                zonesdir: {{Quoted(workDirectory)}}
                database: ""
                pidfile: {{Quoted(Path.Combine(workDirectory, "nsd.pid"))}}
                xfrdfile: {{Quoted(Path.Combine(workDirectory, "xfrd.state"))}}
                xfrdir: {{Quoted(workDirectory)}}
                zonelistfile: {{Quoted(Path.Combine(workDirectory, "zone.list"))}}
                logfile: {{Quoted(Path.Combine(workDirectory, logFile))}}
                verbosity: {{verbosity}}
                hide-version: yes
                hide-identity: yes
                rrl-ratelimit: 0
                rrl-whitelist-ratelimit: 0
                minimal-responses: {{(minimalResponses ? "yes" : "no")}}

            remote-control:
                control-enable: no


            """);
    }

    private protected override string WriteConfiguration(string workDirectory, int port)
    {
        var conf = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        conf.Append(ServerSections(workDirectory, port, LogFileName, verbosity: 1, _minimalResponses));
        foreach (var zone in Zones)
        {
            conf.Append(inv, $"""
                zone:
                    name: {Quoted(zone.Origin + ".")}
                    zonefile: {Quoted(zone.Path)}


                """);
        }
        string path = Path.Combine(workDirectory, "nsd.conf");
        File.WriteAllText(path, conf.ToString());
        return path;
    }

    // -d keeps nsd in the foreground; it still forks its xfrd and server processes, which stopping kills too.
    private protected override IReadOnlyList<string> Arguments(string configurationFile) => ["-d", "-c", configurationFile];

    private protected override string ExtraLog(string workDirectory)
    {
        string path = Path.Combine(workDirectory, LogFileName);
        return File.Exists(path) ? $"--- {path} ---\n" + File.ReadAllText(path) : "";
    }
}
