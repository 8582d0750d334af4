using AnycastDns.Server.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server.Anycast;

/// <summary>
/// Ties the BGP announcement to the server's own state. Starts withdrawn and announces only after the zones are
/// loaded, every listener is bound and a self-query over each address answers correctly (RFC 4786 §4.3); withdraws
/// when a listener fails, no zone is loaded, a self-check fails, or the operator asks for maintenance; on stop
/// withdraws first, keeps answering for the drain, and only then lets the listeners close. The wanted state is
/// re-asserted every second, so a BIRD restart or <c>birdc configure</c> (which resets the runtime enable to
/// <c>disabled yes</c>) heals within 2 s; an unreachable speaker is reported and retried, never fatal.
/// </summary>
internal sealed partial class AnycastLifecycle : IHostedService, IDisposable
{
    private static readonly TimeSpan Reconcile = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PeriodicSelfCheck = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan DrainQuiet = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);
    /// <summary>
    /// Consecutive good checks (a second apart) before announcing, at start and after being unhealthy: no flapping on
    /// a blip, and time for a watchdog that tripped while the server was down (5 good probes, 200 ms apart) to step back
    /// before we announce, so the route does not go up, down and up again at every start.
    /// </summary>
    private const int RecoverAfter = 3;
    private const int PeriodicZones = 3;
    private const int History = 32;

    private readonly ServerOptions _options;
    private readonly DnsServer _server;
    private readonly IAnnouncement _announcement;
    private readonly SelfCheck _selfCheck;
    private readonly ILogger<AnycastLifecycle> _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _poke = new(0, 1);
    private readonly LinkedList<StateTransition> _transitions = new();
    /// <summary>Per state: how often it was entered, and when last; the history above keeps only the latest few.</summary>
    private readonly (long Count, DateTimeOffset At)[] _entered = new (long, DateTimeOffset)[Enum.GetValues<ServingState>().Length];
    private readonly Lock _gate = new();
    private Task _loop = Task.CompletedTask;
    private StateTransition _current = new(ServingState.Starting, DateTimeOffset.UtcNow, "starting");
    private volatile bool _maintenanceRequested;
    private int _goodChecks;
    private bool _checkedOnce;
    private DateTimeOffset _lastSelfCheck;

    public AnycastLifecycle(ServerOptions options, DnsServer server, IAnnouncement announcement, ILogger<AnycastLifecycle> logger)
    {
        _options = options;
        _server = server;
        _announcement = announcement;
        _selfCheck = new SelfCheck(options, () => server.TcpTurnedAway, () => server.Responder);
        _logger = logger;
        _transitions.AddLast(_current);
        _entered[(int)_current.State] = (1, _current.At);
    }

    public StateTransition Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <summary>The latest transitions, oldest first.</summary>
    public IReadOnlyList<StateTransition> Transitions
    {
        get
        {
            lock (_gate)
            {
                return [.. _transitions];
            }
        }
    }

    /// <summary>How many times <paramref name="state"/> was entered since start, and when last (default when never).</summary>
    public (long Count, DateTimeOffset At) Entered(ServingState state)
    {
        lock (_gate)
        {
            return _entered[(int)state];
        }
    }

    /// <summary>The announcement driver's name, e.g. "bird anycast via /run/bird/bird.ctl".</summary>
    public string Speaker => _announcement.Name;

    /// <summary>The last error talking to the BGP speaker, or null when the last call succeeded.</summary>
    public string? SpeakerError { get; private set; }

    /// <summary>Why the server is not healthy, or null.</summary>
    public string? Problem { get; private set; }

    public bool Maintenance => _maintenanceRequested || MaintenanceFilePresent;

    private bool MaintenanceFilePresent => _options.MaintenanceFile is { } file && File.Exists(file);

    /// <summary>Operator maintenance on or off (the maintenance file, when configured, also puts it on).</summary>
    public void SetMaintenance(bool on)
    {
        _maintenanceRequested = on;
        Poke();
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogStarting(_logger, _current.State, _current.Reason, _announcement.Name);
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>SIGTERM: withdraw first, answer on through the drain, then let the listeners close.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        Move(ServingState.Draining, "stopping");
        await AssertAsync(announce: false, cancellationToken).ConfigureAwait(false);
        await DrainAsync(cancellationToken).ConfigureAwait(false);
        Move(ServingState.Withdrawn, "drain over; closing the listeners");
    }

    public void Dispose()
    {
        _stop.Dispose();
        _poke.Dispose();
    }

    private void Poke()
    {
        try
        {
            _poke.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already poked.
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var backoff = TimeSpan.FromMilliseconds(250);
        while (!stop.IsCancellationRequested)
        {
            var cycle = System.Diagnostics.Stopwatch.StartNew();
            bool ok;
            try
            {
                var (state, reason) = await EvaluateAsync(stop).ConfigureAwait(false);
                Move(state, reason);
                ok = await AssertAsync(state == ServingState.Announced, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return; // stopping in the middle of a self-check
            }
            catch (Exception e)
            {
                // A bug here must not leave the route announced with nobody watching: withdraw and keep going.
                LogLoopFailed(_logger, e);
                Move(ServingState.Unhealthy, $"internal error: {e.Message}");
                ok = await AssertAsync(announce: false, stop).ConfigureAwait(false);
            }
            // Every second from the start of the last cycle, not from its end, so a slow self-check does not stretch
            // the 2 s within which a reset toggle must heal.
            var wait = ok ? TimeSpan.FromTicks(Math.Max(Reconcile.Ticks - cycle.Elapsed.Ticks, TimeSpan.FromMilliseconds(100).Ticks)) : backoff;
            backoff = ok ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            try
            {
                await _poke.WaitAsync(wait, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Decides the state from what the server is now.</summary>
    private async Task<(ServingState State, string Reason)> EvaluateAsync(CancellationToken stop)
    {
        // The server's own readiness rule (listeners up, zones served), then the self-check over the wire.
        string? problem = _server.NotReadyReason;
        if (problem is null && (!_checkedOnce || DateTimeOffset.UtcNow - _lastSelfCheck >= PeriodicSelfCheck || _goodChecks < RecoverAfter))
        {
            // The first check asks every zone; later ones id.server and a few zones.
            problem = await _selfCheck.RunAsync(_server.Addresses, _server.Zones.Current, _checkedOnce ? PeriodicZones : int.MaxValue, stop).ConfigureAwait(false);
            _lastSelfCheck = DateTimeOffset.UtcNow;
        }
        Problem = problem;
        if (problem is not null)
        {
            _goodChecks = 0;
            return (Current.State == ServingState.Starting && !_checkedOnce ? ServingState.Starting : ServingState.Unhealthy, problem);
        }
        var was = Current.State;
        _goodChecks = Math.Min(_goodChecks + 1, RecoverAfter);
        _checkedOnce = true;
        if (Maintenance)
        {
            return (ServingState.Maintenance, MaintenanceFilePresent ? $"maintenance file {_options.MaintenanceFile} exists" : "maintenance requested");
        }
        if (was is ServingState.Unhealthy or ServingState.Starting && _goodChecks < RecoverAfter)
        {
            return (was, $"recovering: {_goodChecks} of {RecoverAfter} good checks");
        }
        return (ServingState.Announced, "self-check passed on every address");
    }

    /// <summary>Tells the speaker what we want; true when it took it.</summary>
    private async Task<bool> AssertAsync(bool announce, CancellationToken cancel)
    {
        try
        {
            if (announce)
            {
                await _announcement.AnnounceAsync(cancel).ConfigureAwait(false);
            }
            else
            {
                await _announcement.WithdrawAsync(cancel).ConfigureAwait(false);
            }
            if (SpeakerError is not null)
            {
                LogSpeakerBack(_logger, _announcement.Name);
                SpeakerError = null;
            }
            return true;
        }
        catch (AnnouncementException e)
        {
            if (SpeakerError != e.Message)
            {
                // Once per distinct error, not every second: keep serving, keep retrying.
                LogSpeakerError(_logger, announce ? "announce" : "withdraw", e.Message);
            }
            SpeakerError = e.Message;
            return false;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Answers on after the withdrawal until the drain time is up, or the anycast addresses have been quiet a while.</summary>
    private async Task DrainAsync(CancellationToken cancel)
    {
        if (_options.Drain <= TimeSpan.Zero)
        {
            return;
        }
        var addresses = _options.AnycastAddresses.Count > 0 ? _options.AnycastAddresses : [.. _server.Addresses.Select(a => a.EndPoint.Address).Distinct()];
        using var activity = ServerActivities.StartDrain(_options.Drain);
        var end = DateTimeOffset.UtcNow + _options.Drain;
        long last = Count();
        var quietSince = DateTimeOffset.UtcNow;
        LogDraining(_logger, _options.Drain.TotalSeconds, string.Join(", ", addresses), DrainQuiet.TotalSeconds);
        // Bounded by the drain time (and by the host's shutdown timeout through cancel).
        while (DateTimeOffset.UtcNow < end && !cancel.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancel).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            long now = Count();
            if (now != last)
            {
                last = now;
                quietSince = DateTimeOffset.UtcNow;
            }
            else if (DateTimeOffset.UtcNow - quietSince >= DrainQuiet)
            {
                LogQuiet(_logger, DrainQuiet.TotalSeconds);
                activity?.SetTag("anycastdns.drain.ended", "quiet");
                return;
            }
        }

        long Count()
        {
            long sum = 0;
            foreach (var address in addresses)
            {
                sum += _server.QueriesOn(address);
            }
            return sum;
        }
    }

    private void Move(ServingState state, string reason)
    {
        lock (_gate)
        {
            if (_current.State == state && (state is not ServingState.Unhealthy || _current.Reason == reason || reason.StartsWith("recovering", StringComparison.Ordinal)))
            {
                return;
            }
            var previous = _current;
            _current = new StateTransition(state, DateTimeOffset.UtcNow, reason);
            _transitions.AddLast(_current);
            _entered[(int)state] = (_entered[(int)state].Count + 1, _current.At);
            if (_transitions.Count > History)
            {
                _transitions.RemoveFirst();
            }
            LogTransition(_logger, previous.State, state, reason);
            ServerActivities.Transition(previous.State.ToString().ToLowerInvariant(), state.ToString().ToLowerInvariant(), reason);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "anycast: state {State} ({Reason}); announcement by {Speaker}")]
    private static partial void LogStarting(ILogger logger, ServingState state, string reason, string speaker);

    [LoggerMessage(Level = LogLevel.Error, Message = "anycast: the state loop failed; withdrawing")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "anycast: {Speaker} reachable again")]
    private static partial void LogSpeakerBack(ILogger logger, string speaker);

    [LoggerMessage(Level = LogLevel.Error, Message = "anycast: cannot {Action}: {Error}; still answering, retrying")]
    private static partial void LogSpeakerError(ILogger logger, string action, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "anycast: draining for up to {Seconds} s, or until {Addresses} get no query for {Quiet} s")]
    private static partial void LogDraining(ILogger logger, double seconds, string addresses, double quiet);

    [LoggerMessage(Level = LogLevel.Information, Message = "anycast: no query on the anycast addresses for {Quiet} s; ending the drain early")]
    private static partial void LogQuiet(ILogger logger, double quiet);

    [LoggerMessage(Level = LogLevel.Information, Message = "anycast: {From} -> {To}: {Reason}")]
    private static partial void LogTransition(ILogger logger, ServingState from, ServingState to, string reason);
}
