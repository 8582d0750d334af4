namespace AnycastDns.Commands;

/// <summary>
/// The options of <c>anycastdns serve</c>, each the command-line spelling of a configuration key. The command line is
/// the last configuration source, so it wins over appsettings.json and <c>ANYCASTDNS_*</c> environment variables.
/// </summary>
internal static class ServeArguments
{
    /// <summary>Option → configuration key; options marked repeatable become <c>Key:0</c>, <c>Key:1</c>, ...</summary>
    private static readonly (string Option, string Key, bool Repeatable, bool Flag, string Help)[] Options =
    [
        ("--zones", "Zones", false, false, "<folder>       zone files, one <origin>.zone each (default: zones)"),
        ("--listen", "Listen", true, false, "<ip:port>     an address to answer on, repeatable; [v6]:port for IPv6 (default: 127.0.0.1:5300 and [::1]:5300)"),
        ("--pop-id", "PopId", false, false, "<text>        the PoP identity for id.server, hostname.bind and NSID (default: the host name)"),
        ("--version-string", "VersionString", false, false, "<text> the answer to version.server/version.bind (default: empty, REFUSED)"),
        ("--udp-receive-loops", "Udp:ReceiveLoops", false, false, "<n>  UDP receive threads per address (default: one per core)"),
        ("--udp-receive-buffer", "Udp:ReceiveBufferBytes", false, false, "<bytes> SO_RCVBUF per UDP socket (default: 4194304)"),
        ("--max-udp-payload", "Udp:MaxPayload", false, false, "<bytes> largest UDP response, 512-4096 (default: 1232)"),
        ("--freebind", "FreeBind", false, true, "              bind addresses the host does not have yet (IP_FREEBIND)"),
        ("--tcp-idle-timeout", "Tcp:IdleTimeoutSeconds", false, false, "<seconds> close idle TCP connections (default: 10)"),
        ("--tcp-max-connections", "Tcp:MaxConnections", false, false, "<n> open TCP connections at most; when full the longest idle makes room (default: 1000)"),
        ("--tcp-max-connections-per-client", "Tcp:MaxConnectionsPerClient", false, false, "<n> open TCP connections per IPv4 address or IPv6 /64 (default: a tenth of --tcp-max-connections)"),
        ("--tcp-max-queries", "Tcp:MaxQueriesPerConnection", false, false, "<n> answers per TCP connection, 0 for no limit (default: 10000)"),
        ("--rrl-rate", "Rrl:ResponsesPerSecond", false, false, "<n>      response rate limiting: UDP responses a second per client prefix and answer, 0 off (default: 200)"),
        ("--rrl-window", "Rrl:WindowSeconds", false, false, "<s>    seconds of debt a flooding bucket can run into (default: 15)"),
        ("--rrl-slip", "Rrl:Slip", false, false, "<n>      every nth limited response is sent truncated (TC), 0 drops all, 1 none (default: 2)"),
        ("--rrl-ipv4-prefix", "Rrl:IPv4PrefixLength", false, false, "<bits> clients in one IPv4 prefix share buckets (default: 24)"),
        ("--rrl-ipv6-prefix", "Rrl:IPv6PrefixLength", false, false, "<bits> clients in one IPv6 prefix share buckets (default: 56)"),
        ("--rrl-exempt", "Rrl:Exempt", true, false, "<prefix>  a client prefix never limited, repeatable; 'none' for nobody (default: 127.0.0.0/8 and ::1/128)"),
        ("--rrl-log-only", "Rrl:LogOnly", false, true, "        count and log what rate limiting would limit, limit nothing"),
        ("--rrl-table-size", "Rrl:TableSize", false, false, "<n> rate-limiting buckets, allocated at start (default: 1000000)"),
        ("--dnstap-socket", "Dnstap:Socket", false, false, "<path> send dnstap (AUTH_QUERY, AUTH_RESPONSE) over Frame Streams to this Unix socket (default: off)"),
        ("--dnstap-tcp", "Dnstap:Tcp", false, false, "<ip:port> send dnstap to a Frame Streams collector over TCP instead (default: off)"),
        ("--dnstap-log-queries", "Dnstap:LogQueries", false, false, "<bool> send AUTH_QUERY messages (default: true)"),
        ("--dnstap-log-responses", "Dnstap:LogResponses", false, false, "<bool> send AUTH_RESPONSE messages (default: true)"),
        ("--dnstap-one-in", "Dnstap:OneIn", false, false, "<n>  send one exchange in n, per receive thread (default: 1, all)"),
        ("--dnstap-responses", "Dnstap:Responses", true, false, "<class> send only exchanges answered so, repeatable: positive, nodata, nxdomain, referral, wildcard, error, refused, limited (default: all)"),
        ("--dnstap-ring", "Dnstap:RingKilobytes", false, false, "<KiB>  the ring per receive thread; when full, messages are dropped and counted (default: 1024)"),
        ("--allow-transfer", "Transfers:Allow", true, false, "<entry> who may AXFR the zones, repeatable: an address prefix (192.0.2.0/24, 2001:db8::/48) or key:<name> (default: nobody)"),
        ("--tsig-keys", "Transfers:KeysFile", false, false, "<file>    TSIG keys, BIND syntax: key \"name\" { algorithm hmac-sha256; secret \"...\"; }; (default: none)"),
        ("--notify", "Transfers:Notify", true, false, "<entry>      a secondary told of each new serial, repeatable: ip[:port] or [ipv6]:port (port 53 by default), then optionally ' key:<name>' to sign with that TSIG key (default: none)"),
        ("--notify-source", "Transfers:NotifySource", false, false, "<ip> the address NOTIFYs are sent from: the PoP's unicast address (default: the system picks)"),
        ("--notify-attempts", "Transfers:NotifyAttempts", false, false, "<n> NOTIFYs per serial and secondary before giving up (default: 5)"),
        ("--notify-interval", "Transfers:NotifyIntervalSeconds", false, false, "<s> seconds between NOTIFY attempts (default: 15)"),
        ("--secondary-zone", "Secondary:Zones", true, false, "<entry> a zone transferred from its primaries, repeatable: '<origin> <ip:port>[ key:<name>][; <ip:port>...]' (default: none)"),
        ("--secondary-catalog", "Secondary:Catalogs", true, false, "<entry> a catalog zone (RFC 9432) whose members are transferred from its primaries, repeatable: '<origin> <ip:port>[ key:<name>][; <ip:port>...]' (default: none)"),
        ("--secondary-state", "Secondary:StateFolder", false, false, "<folder> where transferred zones and their timers are kept (required with --secondary-zone)"),
        ("--secondary-transfer-timeout", "Secondary:TransferTimeoutSeconds", false, false, "<s> longest one SOA query or transfer from a primary may take (default: 60)"),
        ("--max-transfers", "Transfers:MaxConcurrent", false, false, "<n>   zone transfers at once; more are REFUSED (default: 10)"),
        ("--ixfr-history", "Transfers:History", false, false, "<n>   older versions per zone IXFR answers from with a difference (default: 20; 0: whole zones)"),
        ("--ixfr-history-percent", "Transfers:HistoryPercent", false, false, "<n>   most the kept differences may take, in % of the zone's size (default: 10)"),
        ("--http", "Http", false, false, "<ip:port>       status endpoint: /healthz, /readyz, /state, /zones, /metrics, POST /reload (default: none)"),
        ("--no-http-control", "HttpControl", false, true, "     a read-only status endpoint: POST /reload, /drain and /undrain answer 403"),
        ("--bird-socket", "Anycast:BirdSocket", false, false, "<path>   BIRD 2 control socket: announce only while ready, withdraw before stopping (default: none)"),
        ("--bird-protocol", "Anycast:BirdProtocol", false, false, "<name> the BIRD static protocol holding the anycast prefix (default: anycast)"),
        ("--anycast-address", "Anycast:Addresses", true, false, "<ip> a listen address that is anycast, repeatable (default: all count for the drain)"),
        ("--drain-seconds", "Anycast:DrainSeconds", false, false, "<s>   on SIGTERM keep answering this long after withdrawing (default: 30 with --bird-socket, else 0)"),
        ("--withdraw-on-expired-zone", "Anycast:WithdrawOnExpiredZone", false, false, "<true|false> withdraw while a secondary zone is expired (default: true)"),
        ("--maintenance-file", "Anycast:MaintenanceFile", false, false, "<path> withdraw while this file exists, still answering"),
        ("--cookie-secret-file", "Cookies:SecretFile", false, false, "<path> DNS cookie secrets, 32 hex digits a line, the same file at every PoP (default: a random secret)"),
        ("--no-watch", "Reload:Watch", false, true, "            do not reload when the zones folder or the cookie secret file changes (SIGHUP still reloads)"),
        ("--no-metrics", "Metrics:Enabled", false, true, "          count nothing and serve no /metrics (the baseline for the metrics-cost comparison)"),
        ("--log-format", "Logging:Format", false, false, "<simple|json> console log lines: human-readable (default) or one JSON object each"),
        ("--query-log", "QueryLog:OneIn", false, false, "<n>       log one answered query in n per receive thread (default: 0, none)"),
        ("--config", "Config", false, false, "<file.json>      a JSON configuration file (default: appsettings.json if present)"),
    ];

    public static string Help =>
        "usage: anycastdns [serve] [options]\n\noptions (each also a configuration key):\n"
        + string.Concat(Options.Select(o => $"  {o.Option} {o.Help}   [{o.Key}]\n"));

    /// <summary>Turns the arguments into configuration pairs; throws <see cref="ArgumentException"/> with one line for a bad argument.</summary>
    public static Dictionary<string, string?> Parse(IReadOnlyList<string> args)
    {
        var pairs = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string? value = null;
            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                value = arg[(equals + 1)..];
                arg = arg[..equals];
            }
            var option = Options.FirstOrDefault(o => o.Option == arg);
            if (option.Option is null)
            {
                throw new ArgumentException($"unknown option '{args[i]}' (try --help)");
            }
            if (option.Flag)
            {
                value ??= option.Option.StartsWith("--no-", StringComparison.Ordinal) ? "false" : "true";
            }
            else if (value is null)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new ArgumentException($"option {option.Option} needs a value");
                }
                value = args[++i];
            }
            if (option.Repeatable)
            {
                int n = counts.GetValueOrDefault(option.Key);
                counts[option.Key] = n + 1;
                pairs[$"{option.Key}:{n}"] = value;
            }
            else
            {
                pairs[option.Key] = value;
            }
        }
        return pairs;
    }
}
