using System.Net.Sockets;
using AnycastDns.Authority;
using AnycastDns.Server.Cookies;
using AnycastDns.Server.Listeners;
using AnycastDns.Server.RateLimiting;
using AnycastDns.Server.Telemetry;
using AnycastDns.Zones;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server;

/// <summary>
/// The server: the zone snapshot, the responder and one UDP and one TCP front per listen address.
/// <see cref="Prepare"/> loads and binds (so that a bad setting ends the program before it claims to run);
/// the host then starts and stops it as a hosted service.
/// </summary>
public sealed class DnsServer : IHostedService, IDisposable
{
    private readonly ServerOptions _options;
    private readonly ILogger _logger;
    private readonly QueryStatistics _statistics;
    private readonly List<UdpFront> _udp = [];
    private readonly List<TcpFront> _tcp = [];
    private Responder? _responder;
    private readonly ResponseRateLimiter? _limiter;
    private readonly ILoggerFactory _loggers;
    private volatile bool _started;
    private volatile bool _stopping;

    internal DnsServer(ServerOptions options, QueryStatistics statistics, ILoggerFactory loggers)
    {
        _options = options;
        _statistics = statistics;
        _logger = loggers.CreateLogger<DnsServer>();
        _loggers = loggers;
        Reloader = new ZoneReloader(options, Zones, loggers.CreateLogger<ZoneReloader>());
        Cookies = new CookieSecretReloader(options, loggers.CreateLogger<CookieSecretReloader>());
        TsigKeysFile = new Transfers.TsigKeysReloader(options, loggers.CreateLogger<Transfers.TsigKeysReloader>());
        _limiter = options.RateLimit.Enabled ? new ResponseRateLimiter(options.RateLimit, loggers.CreateLogger<ResponseRateLimiter>()) : null;
    }

    /// <summary>Zone transfers out and signed queries over TCP; null before <see cref="Prepare"/>.</summary>
    internal Transfers.ZoneTransfers? Transfers { get; private set; }

    /// <summary>The TSIG keys of <c>Transfers:KeysFile</c> in force (none without it); null before <see cref="Prepare"/>.</summary>
    public Protocol.Tsig.TsigKeyring? TsigKeys => _responder is null ? null : TsigKeysFile.Current;

    /// <summary>The keys file, reloaded like the cookie secrets.</summary>
    internal Transfers.TsigKeysReloader TsigKeysFile { get; }

    /// <summary>NOTIFY to <c>Transfers:Notify</c>; null before <see cref="Prepare"/>.</summary>
    internal Transfers.NotifySender? Notifier { get; private set; }

    /// <summary><c>Anycast:WithdrawOnExpiredZone</c>: an expired secondary zone makes the PoP unhealthy.</summary>
    public bool WithdrawOnExpiredZone => _options.WithdrawOnExpiredZone;

    /// <summary>The zones transferred from primaries (<c>Secondary:Zones</c>); null without any.</summary>
    internal Secondary.SecondaryZones? Secondary { get; private set; }

    /// <summary>Response rate limiting of UDP answers; null when <c>Rrl:ResponsesPerSecond</c> is 0.</summary>
    internal ResponseRateLimiter? RateLimiter => _limiter;

    public ZoneSetHolder Zones { get; } = new(ZoneSet.Empty);

    internal ZoneReloader Reloader { get; }

    /// <summary>The DNS cookie secrets: <see cref="CookieSecretReloader.Holder"/> is what the responder reads.</summary>
    internal CookieSecretReloader Cookies { get; }

    /// <summary>Queries received on <paramref name="address"/> (UDP and TCP) since start.</summary>
    public long QueriesOn(System.Net.IPAddress address)
    {
        long sum = 0;
        foreach (var front in _udp)
        {
            sum += front.Address.EndPoint.Address.Equals(address) ? front.Queries : 0;
        }
        foreach (var front in _tcp)
        {
            sum += front.Address.EndPoint.Address.Equals(address) ? front.Queries : 0;
        }
        return sum;
    }

    /// <summary>The first listener that stopped on its own, or null while all run.</summary>
    private string? ListenerFailure => _udp.Select(u => u.Failure).Concat(_tcp.Select(t => t.Failure)).FirstOrDefault(f => f is not null);

    /// <summary>True while every listener is up and at least one zone is served.</summary>
    public bool IsReady => NotReadyReason is null;

    /// <summary>
    /// Why the server is not ready, or null when it is: the one readiness rule, which <c>/readyz</c> and the anycast
    /// lifecycle (before its self-check over the wire) both read.
    /// </summary>
    public string? NotReadyReason => !_started ? "not started"
        : _stopping ? "stopping"
        : ListenerFailure is { } failure ? failure
        : ZoneProblem;

    /// <summary>
    /// What keeps this PoP from answering for the fleet's address with the fleet's zones: none loaded, or one that did
    /// not fit in its memory (the other PoPs serve it; this one would answer SERVFAIL for it), or a secondary zone that
    /// expired or is about to (with <c>Anycast:WithdrawOnExpiredZone</c>: withdrawn ahead of the expiry). Null when none.
    /// </summary>
    private string? ZoneProblem => Zones.Current.Count == 0 ? "no zone loaded"
        : Reloader.LoadedCatalog?.OutOfMemory is { } origin ? $"zone {origin} did not fit in memory (see /zones)"
        // RFC 1034 §4.3.5: an expired secondary zone is not served; other PoPs may still hold it current (issue 16).
        : _options.WithdrawOnExpiredZone ? Secondary?.ExpiryProblem(_options.Drain)
        : null;

    /// <summary>The TCP listeners, one per address, for their connection counts.</summary>
    internal IReadOnlyList<TcpFront> TcpFronts => _tcp;

    /// <summary>
    /// TCP connections turned away at a connection limit so far, over all addresses: the table full of connections
    /// being answered, or the client already holding its share. Evictions are not counted: the newcomer got in.
    /// </summary>
    public long TcpTurnedAway
    {
        get
        {
            long sum = 0;
            foreach (var front in _tcp)
            {
                sum += front.Connections.ClosedFor(TcpCloseReason.OverLimit) + front.Connections.ClosedFor(TcpCloseReason.PerClientLimit);
            }
            return sum;
        }
    }

    /// <summary>dnstap output (<c>Dnstap:*</c>); null when it is off or before <see cref="Prepare"/>.</summary>
    internal Dnstap.DnstapWriter? Dnstap { get; private set; }

    /// <summary>The version dnstap reports: the software's, whatever <c>VersionString</c> tells clients.</summary>
    private static string ServerVersion => $"anycastdns {typeof(DnsServer).Assembly.GetName().Version?.ToString(3)}";

    /// <summary>The connection limits shared by every TCP address, with the count of open connections; null before <see cref="Prepare"/>.</summary>
    internal TcpLimits? TcpLimits { get; private set; }

    /// <summary>The answer engine the listeners use (null before <see cref="Prepare"/>): the self-check asks it directly.</summary>
    internal Responder? Responder => _responder;

    /// <summary>The addresses as bound, ports filled in.</summary>
    public IReadOnlyList<ListenAddress> Addresses => [.. _udp.Select(u => u.Address)];

    /// <summary>Loads the zones and binds every listen address; throws <see cref="ConfigurationException"/> with one line when it cannot.</summary>
    public void Prepare()
    {
        if (_responder is not null)
        {
            return;
        }
        // The secrets first: a bad secret or keys file ends the start at once, before a long zone load.
        Cookies.LoadInitial();
        TsigKeysFile.LoadInitial();
        LogTransfers(_options.Transfers);
        // The subscribers of Reloader.Published, in this order: the IXFR history first (it records the difference a
        // NOTIFY announces), then the notifier. Both before the first load, which announces every zone (the NOTIFYs go
        // out once the listeners run, from Start).
        Notifier = new Transfers.NotifySender(_options.Transfers.Notify, _options.Transfers.NotifySource, _options.Transfers.NotifyAttempts,
            _options.Transfers.NotifyInterval, () => TsigKeysFile.Current, _loggers.CreateLogger<Transfers.NotifySender>());
        Notifier.Bind();
        if (!_options.Transfers.Allow.IsEmpty)
        {
            // Nobody may transfer without Transfers:Allow, so without it no reload pays for differences. The first load
            // has none to record (the transfers do not exist yet; every zone is new).
            Reloader.Published += changes => Transfers?.RecordHistory(changes);
        }
        Reloader.Published += Notifier.Announce;
        if (_options.Secondary.Enabled)
        {
            // The kept versions first, so that the first snapshot serves them before any primary answers.
            Secondary = new Secondary.SecondaryZones(_options.Secondary, new ZoneLoadOptions { SignatureExpiryWarning = _options.SignatureExpiryWarning },
                () => TsigKeysFile.Current, _loggers.CreateLogger<Secondary.SecondaryZones>());
            Secondary.IsFileZone = origin => Reloader.LoadedCatalog?.ZoneSet[origin] is not null;
            Secondary.LoadState();
            Reloader.SecondaryZones = Secondary;
        }
        Reloader.LoadInitial();
        _responder = new Responder(Zones, _options.ToResponderOptions(), Cookies.Holder);
        _responder.SecondaryExpiry = Secondary;
        Transfers = new Transfers.ZoneTransfers(_responder, _options.Transfers.Allow, () => TsigKeysFile.Current, _options.Transfers.MaxConcurrent,
            _options.MaxUdpPayload, new Authority.Transfers.ZoneHistory(_options.Transfers.History, _options.Transfers.HistoryPercent),
            _loggers.CreateLogger<Transfers.ZoneTransfers>());
        if (_options.Dnstap.Enabled)
        {
            // Before the listeners bind: each receive thread takes its ring when it takes its stats.
            Dnstap = new Dnstap.DnstapWriter(_options.Dnstap, _options.PopId, ServerVersion, _loggers.CreateLogger<Dnstap.DnstapWriter>());
            _statistics.Dnstap = Dnstap;
        }
        var limits = TcpLimits = new TcpLimits(_options.TcpMaxConnections, _options.TcpMaxConnectionsPerClient, _options.TcpMaxQueriesPerConnection, _options.TcpIdleTimeout);
        try
        {
            foreach (var address in _options.Listen)
            {
                var udp = Bind(address, "udp", () => UdpFront.Bind(address, _options.UdpReceiveLoops, _options.UdpReceiveBufferBytes, _options.FreeBind, _responder, _limiter, _statistics, _logger, Transfers, Secondary));
                _udp.Add(udp);
                // TCP takes the port UDP got, so that asking for port 0 gives one port for both.
                _tcp.Add(Bind(udp.Address, "tcp", () => TcpFront.Bind(udp.Address, _options.FreeBind, _responder, limits, _statistics, _logger, Transfers, Secondary)));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Says what transfers are allowed and who is notified, never a secret.</summary>
    private void LogTransfers(Transfers.TransferOptions options)
    {
        if (!options.Allow.IsEmpty)
        {
            _logger.LogInformation("zone transfers (AXFR over TCP, IXFR over TCP and UDP) allowed to {Allowed}, at most {MaxConcurrent} at once", options.Allow, options.MaxConcurrent);
        }
        if (options.Notify.Count > 0)
        {
            _logger.LogInformation("NOTIFY on each new serial to {Targets} from {Source}, {Attempts} attempts {Interval} s apart",
                string.Join(", ", options.Notify), options.NotifySource?.ToString() ?? "the address the system picks", options.NotifyAttempts, options.NotifyInterval.TotalSeconds);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Prepare();
        Dnstap?.Start();
        foreach (var front in _udp)
        {
            front.Start();
        }
        foreach (var front in _tcp)
        {
            front.Start();
        }
        Reloader.Start();
        Cookies.Start();
        TsigKeysFile.Start();
        Notifier?.Start();
        Secondary?.Start(Reloader.PublishSecondaryAsync);
        _started = true;
        _logger.LogInformation("answering as {PopId} on {Addresses} (udp and tcp, {Loops} udp receive threads per address)",
            _options.PopId, string.Join(", ", Addresses), _options.UdpReceiveLoops);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        foreach (var front in _udp)
        {
            front.Stop();
        }
        await Task.WhenAll(_tcp.Select(t => t.StopAsync())).WaitAsync(cancellationToken).ConfigureAwait(false);
        // After the listeners: what they answered last is sent, then STOP and FINISH end the stream cleanly.
        Dnstap?.Stop();
        _logger.LogInformation("stopped answering");
    }

    public void Dispose()
    {
        Secondary?.Dispose();
        Reloader.Dispose();
        Cookies.Dispose();
        TsigKeysFile.Dispose();
        Notifier?.Dispose();
        _limiter?.Dispose();
        Dnstap?.Dispose();
        foreach (var front in _udp)
        {
            front.Dispose();
        }
        foreach (var front in _tcp)
        {
            front.Dispose();
        }
        _udp.Clear();
        _tcp.Clear();
    }

    private static T Bind<T>(ListenAddress address, string transport, Func<T> bind)
    {
        try
        {
            return bind();
        }
        catch (SocketException e)
        {
            throw new ConfigurationException($"cannot listen on {address}/{transport}: {e.Message}", e);
        }
        catch (PlatformNotSupportedException e)
        {
            throw new ConfigurationException($"cannot listen on {address}/{transport}: {e.Message}", e);
        }
    }
}
