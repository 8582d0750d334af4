using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using AnycastDns.Server;
using Microsoft.Extensions.Configuration;

namespace AnycastDns.Commands;

/// <summary>
/// The options of <c>anycastdns serve</c>, each the command-line spelling of a configuration key. The command line is
/// the last configuration source, so it wins over appsettings.json and <c>ANYCASTDNS_*</c> environment variables; an
/// option not given adds nothing, so that the sources below it still count. The defaults shown by <c>--help</c> are
/// what <see cref="ServerOptions.FromConfiguration"/> makes of an empty configuration: the one place they are written.
/// </summary>
internal static class ServeArguments
{
    /// <summary>What the server runs with when nothing is configured.</summary>
    private static readonly Lazy<ServerOptions> Defaults = new(() => ServerOptions.FromConfiguration(new ConfigurationBuilder().Build()));

    /// <summary>One option: its configuration key; a list key (<c>Key:0</c>, <c>Key:1</c>, ...) when repeatable.</summary>
    private sealed record Entry(Option Option, string Key, bool Repeatable);

    private static readonly Entry[] Entries =
    [
        Value("--zones", "Zones", "<folder>", "zone files, one <origin>.zone each", d => d.Zones),
        List("--listen", "Listen", "<ip:port>", "an address to answer on, repeatable; [v6]:port for IPv6", () => [.. ServerOptions.DefaultListen]),
        Value("--pop-id", "PopId", "<text>", "the PoP identity for id.server, hostname.bind and NSID (default: the host name)"),
        Value("--version-string", "VersionString", "<text>", "the answer to version.server/version.bind (default: empty, REFUSED)"),
        Value("--udp-receive-loops", "Udp:ReceiveLoops", "<n>", "UDP receive threads per address (default: one per core)"),
        Value("--udp-receive-buffer", "Udp:ReceiveBufferBytes", "<bytes>", "SO_RCVBUF per UDP socket, 0 the kernel's", d => d.UdpReceiveBufferBytes),
        Value("--max-udp-payload", "Udp:MaxPayload", "<bytes>", "largest UDP response, 512-4096", d => d.MaxUdpPayload),
        Flag("--freebind", "FreeBind", "bind addresses the host does not have yet (IP_FREEBIND)"),
        Value("--tcp-idle-timeout", "Tcp:IdleTimeoutSeconds", "<seconds>", "close idle TCP connections", d => d.TcpIdleTimeout.TotalSeconds),
        Value("--tcp-max-connections", "Tcp:MaxConnections", "<n>", "open TCP connections at most; when full the longest idle makes room", d => d.TcpMaxConnections),
        Value("--tcp-max-connections-per-client", "Tcp:MaxConnectionsPerClient", "<n>", "open TCP connections per IPv4 address or IPv6 /64 (default: a tenth of --tcp-max-connections)"),
        Value("--tcp-max-queries", "Tcp:MaxQueriesPerConnection", "<n>", "answers per TCP connection, 0 for no limit", d => d.TcpMaxQueriesPerConnection),
        Value("--rrl-rate", "Rrl:ResponsesPerSecond", "<n>", "response rate limiting: UDP responses a second per client prefix and answer, 0 off", d => d.RateLimit.ResponsesPerSecond),
        Value("--rrl-window", "Rrl:WindowSeconds", "<s>", "seconds of debt a flooding bucket can run into", d => d.RateLimit.WindowSeconds),
        Value("--rrl-slip", "Rrl:Slip", "<n>", "every nth limited response is sent truncated (TC), 0 drops all, 1 none", d => d.RateLimit.Slip),
        Value("--rrl-ipv4-prefix", "Rrl:IPv4PrefixLength", "<bits>", "clients in one IPv4 prefix share buckets", d => d.RateLimit.IPv4PrefixLength),
        Value("--rrl-ipv6-prefix", "Rrl:IPv6PrefixLength", "<bits>", "clients in one IPv6 prefix share buckets", d => d.RateLimit.IPv6PrefixLength),
        List("--rrl-exempt", "Rrl:Exempt", "<prefix>", "a client prefix never limited, repeatable; 'none' for nobody", () => [.. Defaults.Value.RateLimit.Exempt.Select(p => p.ToString())]),
        Flag("--rrl-log-only", "Rrl:LogOnly", "count and log what rate limiting would limit, limit nothing"),
        Value("--rrl-table-size", "Rrl:TableSize", "<n>", "rate-limiting buckets, allocated at start", d => d.RateLimit.TableSize),
        Value("--dnstap-socket", "Dnstap:Socket", "<path>", "send dnstap (AUTH_QUERY, AUTH_RESPONSE) over Frame Streams to this Unix socket (default: off)"),
        Value("--dnstap-tcp", "Dnstap:Tcp", "<ip:port>", "send dnstap to a Frame Streams collector over TCP instead (default: off)"),
        Value("--dnstap-log-queries", "Dnstap:LogQueries", "<bool>", "send AUTH_QUERY messages", d => d.Dnstap.LogQueries),
        Value("--dnstap-log-responses", "Dnstap:LogResponses", "<bool>", "send AUTH_RESPONSE messages", d => d.Dnstap.LogResponses),
        Value("--dnstap-one-in", "Dnstap:OneIn", "<n>", "send one exchange in n, per receive thread", d => d.Dnstap.OneIn),
        List("--dnstap-responses", "Dnstap:Responses", "<class>", "send only exchanges answered so, repeatable: positive, nodata, nxdomain, referral, wildcard, error, refused, limited (default: all)"),
        Value("--dnstap-ring", "Dnstap:RingKilobytes", "<KiB>", "the ring per receive thread; when full, messages are dropped and counted", d => d.Dnstap.RingKilobytes),
        List("--allow-transfer", "Transfers:Allow", "<entry>", "who may AXFR the zones, repeatable: an address prefix (192.0.2.0/24, 2001:db8::/48) or key:<name> (default: nobody)"),
        Value("--tsig-keys", "Transfers:KeysFile", "<file>", "TSIG keys, BIND syntax: key \"name\" { algorithm hmac-sha256; secret \"...\"; }; (default: none)"),
        List("--notify", "Transfers:Notify", "<entry>", "a secondary told of each new serial, repeatable: ip[:port] or [ipv6]:port (port 53 by default), then optionally ' key:<name>' to sign with that TSIG key (default: none)"),
        Value("--notify-source", "Transfers:NotifySource", "<ip>", "the address NOTIFYs are sent from: the PoP's unicast address (default: the system picks)"),
        Value("--notify-attempts", "Transfers:NotifyAttempts", "<n>", "NOTIFYs per serial and secondary before giving up", d => d.Transfers.NotifyAttempts),
        Value("--notify-interval", "Transfers:NotifyIntervalSeconds", "<s>", "seconds between NOTIFY attempts", d => d.Transfers.NotifyInterval.TotalSeconds),
        List("--secondary-zone", "Secondary:Zones", "<entry>", "a zone transferred from its primaries, repeatable: '<origin> <ip:port>[ key:<name>][; <ip:port>...]' (default: none)"),
        List("--secondary-catalog", "Secondary:Catalogs", "<entry>", "a catalog zone (RFC 9432) whose members are transferred from its primaries, repeatable: '<origin> <ip:port>[ key:<name>][; <ip:port>...]' (default: none)"),
        Value("--secondary-state", "Secondary:StateFolder", "<folder>", "where transferred zones and their timers are kept (required with --secondary-zone or --secondary-catalog)"),
        Value("--secondary-transfer-timeout", "Secondary:TransferTimeoutSeconds", "<s>", "longest one SOA query or transfer from a primary may take", d => d.Secondary.TransferTimeout.TotalSeconds),
        Value("--secondary-max-concurrent", "Secondary:MaxConcurrentRefreshes", "<n>", "zones checking their primaries (SOA query, transfer) at once; the rest wait their turn", d => d.Secondary.MaxConcurrentRefreshes),
        Value("--max-transfers", "Transfers:MaxConcurrent", "<n>", "zone transfers at once; more are REFUSED", d => d.Transfers.MaxConcurrent),
        Value("--ixfr-history", "Transfers:History", "<n>", "older versions per zone IXFR answers from with a difference; 0: whole zones", d => d.Transfers.History),
        Value("--ixfr-history-percent", "Transfers:HistoryPercent", "<n>", "most the kept differences may take, in % of the zone's size", d => d.Transfers.HistoryPercent),
        Value("--http", "Http", "<ip:port>", "status endpoint: /healthz, /readyz, /state, /zones, /metrics, POST /reload (default: none)"),
        Flag("--no-http-control", "HttpControl", "a read-only status endpoint: POST /reload, /drain and /undrain answer 403"),
        Value("--bird-socket", "Anycast:BirdSocket", "<path>", "BIRD 2 control socket: announce only while ready, withdraw before stopping (default: none)"),
        Value("--bird-protocol", "Anycast:BirdProtocol", "<name>", "the BIRD static protocol holding the anycast prefix", d => d.BirdProtocol),
        List("--anycast-address", "Anycast:Addresses", "<ip>", "a listen address that is anycast, repeatable (default: all count for the drain)"),
        Value("--drain-seconds", "Anycast:DrainSeconds", "<s>", DrainHelp()),
        Value("--withdraw-on-expired-zone", "Anycast:WithdrawOnExpiredZone", "<true|false>", "withdraw ahead of a secondary zone's expiry (drain time + 2 s, at most half its EXPIRE) and while it is expired", d => d.WithdrawOnExpiredZone),
        Value("--maintenance-file", "Anycast:MaintenanceFile", "<path>", "withdraw while this file exists, still answering (default: none)"),
        Value("--cookie-secret-file", "Cookies:SecretFile", "<path>", "DNS cookie secrets, 32 hex digits a line, the same file at every PoP (default: a random secret)"),
        Value("--compact-after-reload", "Reload:Compact", "<true|false>", "end each reload with a compacting collection: memory back to the system, every query held meanwhile (~350 ms per million names)", d => d.CompactAfterReload),
        Flag("--no-watch", "Reload:Watch", "do not reload when the zones folder or the cookie secret file changes (SIGHUP still reloads)"),
        Flag("--no-metrics", "Metrics:Enabled", "count nothing and serve no /metrics (the baseline for the metrics-cost comparison)"),
        Value("--log-format", "Logging:Format", "<simple|json>", "console log lines: human-readable or one JSON object each", d => d.Telemetry.LogFormat),
        Value("--query-log", "QueryLog:OneIn", "<n>", "log one answered query in n per receive thread, 0 none", d => d.Telemetry.QueryLogOneIn),
        Value("--config", "Config", "<file.json>", "a JSON configuration file (default: appsettings.json if present)"),
    ];

    /// <summary>Every serve option, for the <c>serve</c> command and the root command (serve is the default).</summary>
    public static IEnumerable<Option> Options => Entries.Select(e => e.Option);

    /// <summary>
    /// The configuration pairs the command line gives: only the options written on it (not their defaults), a flag as
    /// <c>true</c> (<c>false</c> for a <c>--no-</c> flag), a repeatable option as <c>Key:0</c>, <c>Key:1</c>, ...
    /// </summary>
    public static Dictionary<string, string?> Configuration(ParseResult parseResult)
    {
        var pairs = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in Entries)
        {
            if (parseResult.GetResult(entry.Option) is not { Implicit: false })
            {
                continue;
            }
            switch (entry.Option)
            {
                case Option<bool> flag:
                    bool on = parseResult.GetValue(flag);
                    bool negated = flag.Name.StartsWith("--no-", StringComparison.Ordinal);
                    pairs[entry.Key] = (on != negated) ? "true" : "false";
                    break;
                case Option<string[]> list when entry.Repeatable:
                    var values = parseResult.GetValue(list) ?? [];
                    for (int i = 0; i < values.Length; i++)
                    {
                        pairs[$"{entry.Key}:{i}"] = values[i];
                    }
                    break;
                case Option<string[]> single:
                    // Given twice, the last one counts, as it always has (a script can append an override).
                    pairs[entry.Key] = parseResult.GetValue(single) is [.., var last] ? last : null;
                    break;
            }
        }
        return pairs;
    }

    private static Entry Value(string name, string key, string helpName, string description, Func<ServerOptions, object>? fallback = null)
    {
        // One value, but the option may be given again: a list underneath, of which the last counts.
        var option = new Option<string[]>(name)
        {
            HelpName = helpName.Trim('<', '>'),
            Description = Describe(description, key),
            AllowMultipleArgumentsPerToken = false,
        };
        if (fallback is not null)
        {
            option.DefaultValueFactory = _ => [Text(fallback(Defaults.Value))];
        }
        return new Entry(option, key, Repeatable: false);
    }

    private static Entry List(string name, string key, string helpName, string description, Func<string[]>? fallback = null)
    {
        var option = new Option<string[]>(name)
        {
            HelpName = helpName.Trim('<', '>'),
            Description = Describe(description, key),
            // One value per occurrence (--listen a --listen b): a second word is an error, not a second address.
            AllowMultipleArgumentsPerToken = false,
        };
        if (fallback is not null)
        {
            option.DefaultValueFactory = _ => fallback();
        }
        return new Entry(option, key, Repeatable: true);
    }

    private static Entry Flag(string name, string key, string description) =>
        new(new Option<bool>(name) { Description = Describe(description, key) }, key, Repeatable: false);

    /// <summary>The help line ends with the configuration key the option sets.</summary>
    private static string Describe(string description, string key) => $"{description}   [{key}]";

    private static string Text(object value) => value switch
    {
        bool b => b ? "true" : "false",
        Enum e => e.ToString().ToLowerInvariant(),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>The drain default depends on whether there is a route to withdraw: both read from ServerOptions.</summary>
    private static string DrainHelp()
    {
        var withBird = ServerOptions.FromConfiguration(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Anycast:BirdSocket"] = "bird.ctl" }).Build());
        return $"on SIGTERM keep answering this long after withdrawing (default: {Text(withBird.Drain.TotalSeconds)} with --bird-socket, else {Text(Defaults.Value.Drain.TotalSeconds)})";
    }
}
