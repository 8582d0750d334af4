using System.Globalization;
using AnycastDns.Authority;
using AnycastDns.Zones;
using Microsoft.Extensions.Configuration;

namespace AnycastDns.Server;

/// <summary>
/// Everything <c>anycastdns serve</c> is configured with. Each property is a configuration key (appsettings.json,
/// environment variables prefixed <c>ANYCASTDNS_</c>, command line); <see cref="FromConfiguration"/> reads and checks
/// them and names the key of any bad value.
/// </summary>
public sealed class ServerOptions
{
    public static readonly string[] DefaultListen = ["127.0.0.1:5300", "[::1]:5300"];

    /// <summary>Key <c>Zones</c>: the folder of <c>*.zone</c> files.</summary>
    public string Zones { get; init; } = "zones";

    /// <summary>Key <c>Listen</c> (a list): the addresses to answer on.</summary>
    public IReadOnlyList<ListenAddress> Listen { get; init; } = [.. DefaultListen.Select(a => ListenAddress.Parse(a))];

    /// <summary>Key <c>PopId</c>: the PoP identity for id.server, hostname.bind and NSID.</summary>
    public string PopId { get; init; } = Environment.MachineName;

    /// <summary>Key <c>VersionString</c>: the answer to version.server and version.bind; empty refuses them.</summary>
    public string VersionString { get; init; } = string.Empty;

    /// <summary>Key <c>Udp:ReceiveLoops</c>: receive threads (and SO_REUSEPORT sockets) per address; 0 means one per core.</summary>
    public int UdpReceiveLoops { get; init; } = Environment.ProcessorCount;

    /// <summary>Key <c>Udp:ReceiveBufferBytes</c>: SO_RCVBUF of each UDP socket; 0 keeps the kernel default.</summary>
    public int UdpReceiveBufferBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Key <c>Udp:MaxPayload</c>: the largest UDP response (RFC 6891 §6.2.5), 512-4096.</summary>
    public ushort MaxUdpPayload { get; init; } = ResponderOptions.DefaultMaxUdpPayload;

    /// <summary>Key <c>FreeBind</c>: bind addresses not (yet) configured on the host (IP_FREEBIND), for the anycast address.</summary>
    public bool FreeBind { get; init; }

    /// <summary>Key <c>Tcp:IdleTimeoutSeconds</c>: a connection without a complete query for this long is closed (RFC 7766 §6.2.3).</summary>
    public TimeSpan TcpIdleTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Key <c>Tcp:MaxConnections</c>: open connections over all addresses. When all are open, the one that has waited
    /// longest for a query is closed to make room; a newcomer is closed at once only when every one is being answered.
    /// </summary>
    public int TcpMaxConnections { get; init; } = 1000;

    /// <summary>
    /// Key <c>Tcp:MaxConnectionsPerClient</c>: open connections one client (an IPv4 address, an IPv6 /64) may hold, so
    /// that no client can take the table from the others (RFC 7766 §6.2.2); more are closed at once. Default: a tenth
    /// of <see cref="TcpMaxConnections"/>, at least 1.
    /// </summary>
    public int TcpMaxConnectionsPerClient
    {
        get => _tcpMaxConnectionsPerClient ?? DefaultTcpMaxConnectionsPerClient(TcpMaxConnections);
        init => _tcpMaxConnectionsPerClient = value;
    }

    private readonly int? _tcpMaxConnectionsPerClient;

    /// <summary>Key <c>Tcp:MaxQueriesPerConnection</c>: after this many answers a connection is closed; 0 means no limit.</summary>
    public int TcpMaxQueriesPerConnection { get; init; } = 10_000;

    /// <summary>Key <c>Http</c>: the address of the status endpoint (/healthz, /readyz, /zones, POST /reload); none when null.
    /// Bind it to a management address: it can trigger reloads.</summary>
    public ListenAddress? Http { get; init; }

    /// <summary>
    /// Key <c>HttpControl</c>: whether the status endpoint takes POST /reload, /drain and /undrain (default true). False
    /// leaves it read-only, for a listener the monitoring network scrapes: reload then by SIGHUP or the file watch,
    /// drain by the maintenance file.
    /// </summary>
    public bool HttpControl { get; init; } = true;

    /// <summary>Key <c>Anycast:BirdSocket</c>: BIRD 2's control socket; when set, the server drives its own announcement.</summary>
    public string? BirdSocket { get; init; }

    /// <summary>Key <c>Anycast:BirdProtocol</c>: the BIRD <c>static</c> protocol holding the anycast prefix (configured <c>disabled yes</c>).</summary>
    public string BirdProtocol { get; init; } = "anycast";

    /// <summary>Key <c>Anycast:Addresses</c> (a list): which listen addresses are anycast; their queries decide when a drain may end early.
    /// Empty: every listen address counts.</summary>
    public IReadOnlyList<System.Net.IPAddress> AnycastAddresses { get; init; } = [];

    /// <summary>Key <c>Anycast:DrainSeconds</c>: on SIGTERM, how long to keep answering after the withdrawal. Default 30 with
    /// a BGP speaker to withdraw from, 0 without.</summary>
    public TimeSpan Drain { get; init; }

    /// <summary>Key <c>Anycast:MaintenanceFile</c>: while this file exists the server withdraws but keeps answering.</summary>
    public string? MaintenanceFile { get; init; }

    /// <summary>
    /// Key <c>Anycast:WithdrawOnExpiredZone</c> (default true): a secondary zone about to pass its SOA EXPIRE (within the
    /// drain time and 2 s, at most half the EXPIRE) makes the PoP unhealthy, so that the route is withdrawn before the
    /// zone would answer SERVFAIL and clients reach a PoP whose data is current.
    /// </summary>
    public bool WithdrawOnExpiredZone { get; init; } = true;

    /// <summary>Key <c>Cookies:SecretFile</c>: the file of DNS cookie secrets (RFC 9018), 32 hex digits a line, the first
    /// making cookies and every one verifying them; the same file at every PoP. None: a random secret per process.</summary>
    public string? CookieSecretFile { get; init; }

    /// <summary>Key <c>Reload:Watch</c>: reload when files in the zones folder or the cookie secret file change (SIGHUP always reloads).</summary>
    public bool WatchZones { get; init; } = true;

    /// <summary>
    /// Key <c>Reload:Compact</c>: end every reload with a compacting collection, which gives the replaced versions'
    /// memory back to the system but holds every query while it runs (about 350 ms per million names served); by
    /// default the collection runs in the background and the process stays about as large as a reload's peak.
    /// </summary>
    public bool CompactAfterReload { get; init; }

    /// <summary>Key <c>Reload:DebounceMilliseconds</c>: the quiet time after the last change before reloading, so a
    /// checkout that writes many files causes one reload.</summary>
    public TimeSpan ReloadDebounce { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Keys <c>Metrics:Enabled</c>, <c>Logging:Format</c>, <c>QueryLog:OneIn</c> and the <c>OTEL_EXPORTER_OTLP_*</c> variables.</summary>
    public Telemetry.TelemetryOptions Telemetry { get; init; } = new();

    /// <summary>Key <c>Dnssec:SignatureExpiryWarningDays</c>: an RRSIG expiring within this many days of a zone load is a
    /// warning on /zones (an expired one always is).</summary>
    public TimeSpan SignatureExpiryWarning { get; init; } = ZoneLoadOptions.Default.SignatureExpiryWarning;

    /// <summary>Keys <c>Transfers:*</c>: zone transfers out (AXFR over TCP), who may have them, and the TSIG keys file.</summary>
    public Transfers.TransferOptions Transfers { get; init; } = new();

    /// <summary>Keys <c>Secondary:*</c>: zones transferred in from hidden primaries.</summary>
    public Secondary.SecondaryOptions Secondary { get; init; } = new();

    /// <summary>Keys <c>Dnstap:*</c>: dnstap output to a Frame Streams collector; off without <c>Dnstap:Socket</c> or <c>Dnstap:Tcp</c>.</summary>
    public Dnstap.DnstapOptions Dnstap { get; init; } = new();

    /// <summary>Keys <c>Rrl:*</c>: response rate limiting of UDP answers.</summary>
    public RateLimiting.RateLimitOptions RateLimit { get; init; } = new();

    public ResponderOptions ToResponderOptions() => new()
    {
        PopId = PopId,
        VersionString = VersionString,
        MaxUdpPayload = MaxUdpPayload,
        TcpIdleTimeout = TcpIdleTimeout,
    };

    /// <summary>Reads the options; throws <see cref="ConfigurationException"/> naming the key of a bad value.</summary>
    public static ServerOptions FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var defaults = new ServerOptions();
        var listen = configuration.GetSection("Listen").GetChildren()
            .OrderBy(c => int.TryParse(c.Key, CultureInfo.InvariantCulture, out int i) ? i : int.MaxValue)
            .Select(c => c.Value ?? string.Empty).Where(v => v.Trim().Length > 0).ToList();
        // A single value (an environment variable ANYCASTDNS_LISTEN) may list several addresses, separated by commas.
        if (listen.Count == 0 && configuration["Listen"] is { Length: > 0 } single)
        {
            listen = [.. single.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        }
        var addresses = listen.Count == 0 ? defaults.Listen : [.. listen.Select(a => ListenAddress.Parse(a))];
        var duplicate = addresses.GroupBy(a => a.EndPoint).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ConfigurationException($"listen address {duplicate.Key} is given twice");
        }

        string popId = configuration["PopId"] is { Length: > 0 } p ? p : defaults.PopId;
        if (System.Text.Encoding.UTF8.GetByteCount(popId) > 255)
        {
            throw new ConfigurationException("PopId: longer than 255 octets, which one TXT string cannot hold");
        }
        int loops = Int(configuration, "Udp:ReceiveLoops", 0, 256, 0);
        int tcpMaxConnections = Int(configuration, "Tcp:MaxConnections", 1, 1_000_000, defaults.TcpMaxConnections);
        return new ServerOptions
        {
            Zones = configuration["Zones"] is { Length: > 0 } z ? z : defaults.Zones,
            Listen = addresses,
            PopId = popId,
            VersionString = configuration["VersionString"] ?? defaults.VersionString,
            UdpReceiveLoops = loops == 0 ? Environment.ProcessorCount : loops,
            UdpReceiveBufferBytes = Int(configuration, "Udp:ReceiveBufferBytes", 0, 1 << 30, defaults.UdpReceiveBufferBytes),
            MaxUdpPayload = (ushort)Int(configuration, "Udp:MaxPayload", 512, 4096, defaults.MaxUdpPayload),
            FreeBind = Bool(configuration, "FreeBind", defaults.FreeBind),
            BirdSocket = configuration["Anycast:BirdSocket"] is { Length: > 0 } bird ? bird : null,
            BirdProtocol = configuration["Anycast:BirdProtocol"] is { Length: > 0 } protocol ? protocol : defaults.BirdProtocol,
            AnycastAddresses = AnycastList(configuration, addresses),
            Drain = TimeSpan.FromSeconds(Double(configuration, "Anycast:DrainSeconds", 0, 3600, configuration["Anycast:BirdSocket"] is { Length: > 0 } ? 30 : 0)),
            MaintenanceFile = configuration["Anycast:MaintenanceFile"] is { Length: > 0 } maintenance ? maintenance : null,
            WithdrawOnExpiredZone = Bool(configuration, "Anycast:WithdrawOnExpiredZone", defaults.WithdrawOnExpiredZone),
            Http = configuration["Http"] is { Length: > 0 } http ? ListenAddress.Parse(http, allowWildcard: true) : null,
            HttpControl = Bool(configuration, "HttpControl", defaults.HttpControl),
            TcpIdleTimeout = TimeSpan.FromSeconds(Double(configuration, "Tcp:IdleTimeoutSeconds", 0.1, 3600, defaults.TcpIdleTimeout.TotalSeconds)),
            TcpMaxConnections = tcpMaxConnections,
            TcpMaxConnectionsPerClient = Int(configuration, "Tcp:MaxConnectionsPerClient", 1, 1_000_000, DefaultTcpMaxConnectionsPerClient(tcpMaxConnections)),
            CookieSecretFile = CookieSecretFileOption(configuration),
            WatchZones = Bool(configuration, "Reload:Watch", defaults.WatchZones),
            CompactAfterReload = Bool(configuration, "Reload:Compact", defaults.CompactAfterReload),
            ReloadDebounce = TimeSpan.FromMilliseconds(Int(configuration, "Reload:DebounceMilliseconds", 0, 60_000, (int)defaults.ReloadDebounce.TotalMilliseconds)),
            SignatureExpiryWarning = TimeSpan.FromDays(Double(configuration, "Dnssec:SignatureExpiryWarningDays", 0, 365, defaults.SignatureExpiryWarning.TotalDays)),
            TcpMaxQueriesPerConnection = Int(configuration, "Tcp:MaxQueriesPerConnection", 0, int.MaxValue, defaults.TcpMaxQueriesPerConnection),
            Telemetry = AnycastDns.Server.Telemetry.TelemetryOptions.FromConfiguration(configuration),
            RateLimit = RateLimiting.RateLimitOptions.FromConfiguration(configuration),
            Transfers = AnycastDns.Server.Transfers.TransferOptions.FromConfiguration(configuration),
            Secondary = AnycastDns.Server.Secondary.SecondaryOptions.FromConfiguration(configuration, configuration["Transfers:KeysFile"] is { Length: > 0 } k ? k : null),
            Dnstap = AnycastDns.Server.Dnstap.DnstapOptions.FromConfiguration(configuration),
        };
    }

    /// <summary>A tenth of the table, at least one connection.</summary>
    private static int DefaultTcpMaxConnectionsPerClient(int maxConnections) => Math.Max(1, maxConnections / 10);

    /// <summary>The secret file's path; its content is read (and checked) when the server starts, where a problem ends it.</summary>
    private static string? CookieSecretFileOption(IConfiguration configuration)
    {
        string? path = configuration["Cookies:SecretFile"];
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }
        if (Directory.Exists(path))
        {
            throw new ConfigurationException($"Cookies:SecretFile: '{path}' is a folder, not a file of secrets");
        }
        if (!File.Exists(path))
        {
            throw new ConfigurationException($"Cookies:SecretFile: '{path}' does not exist");
        }
        return path;
    }

    private static List<System.Net.IPAddress> AnycastList(IConfiguration configuration, IReadOnlyList<ListenAddress> listen)
    {
        var section = configuration.GetSection("Anycast:Addresses");
        var texts = section.GetChildren().Select(c => c.Value ?? "").ToList();
        if (texts.Count == 0 && section.Value is { Length: > 0 } single)
        {
            texts = [.. single.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        }
        var list = new List<System.Net.IPAddress>();
        foreach (var text in texts.Where(t => t.Length > 0))
        {
            if (!System.Net.IPAddress.TryParse(text.Trim('[', ']'), out var ip))
            {
                throw new ConfigurationException($"Anycast:Addresses: '{text}' is not an IP address");
            }
            if (!listen.Any(l => l.EndPoint.Address.Equals(ip)))
            {
                throw new ConfigurationException($"Anycast:Addresses: {ip} is not one of the listen addresses");
            }
            list.Add(ip);
        }
        return list;
    }

    internal static int Int(IConfiguration configuration, string key, int min, int max, int fallback)
    {
        string? text = configuration[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            throw new ConfigurationException($"{key}: '{text}' is not a whole number from {min} to {max}");
        }
        return value;
    }

    internal static double Double(IConfiguration configuration, string key, double min, double max, double fallback)
    {
        string? text = configuration[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value < min || value > max)
        {
            throw new ConfigurationException($"{key}: '{text}' is not a number from {min} to {max}");
        }
        return value;
    }

    internal static bool Bool(IConfiguration configuration, string key, bool fallback)
    {
        string? text = configuration[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }
        return text.Trim().ToLowerInvariant() switch
        {
            "true" or "yes" or "1" or "on" => true,
            "false" or "no" or "0" or "off" => false,
            _ => throw new ConfigurationException($"{key}: '{text}' is not true or false"),
        };
    }
}
