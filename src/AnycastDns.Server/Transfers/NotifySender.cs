using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using AnycastDns.Authority.Transfers;
using AnycastDns.Protocol;
using AnycastDns.Protocol.Tsig;
using AnycastDns.Server.Telemetry;
using AnycastDns.Zones;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server.Transfers;

/// <summary>How one NOTIFY (a zone's serial, to one secondary) ended, for <c>anycastdns_notifies_total{outcome}</c>.</summary>
internal enum NotifyOutcome
{
    /// <summary>The secondary answered NOERROR (RFC 1996 §4.7), its TSIG verified when the target names a key.</summary>
    Acknowledged,
    /// <summary>The secondary answered with an error RCODE (NOTAUTH, REFUSED, NOTIMP...).</summary>
    Rejected,
    /// <summary><c>Transfers:NotifyAttempts</c> sent, none acknowledged: given up.</summary>
    Failed,
    /// <summary>A newer serial of the zone replaced it before it was acknowledged.</summary>
    Superseded,
}

/// <summary>
/// NOTIFY out (RFC 1996): on each new serial of a zone (a <see cref="ZoneChange"/> whose serial differs from the one
/// before, and each zone's first load, as Knot does after loading a zone, knot/events/handlers/load.c), a NOTIFY to every
/// <c>Transfers:Notify</c> target over UDP, TSIG-signed when the entry names a key, sent again every
/// <c>Transfers:NotifyIntervalSeconds</c> until acknowledged or <c>Transfers:NotifyAttempts</c> are spent (§3.6). A
/// newer serial for the same zone and target replaces a pending one. One task sends, one receives per address family:
/// no thread per target. One log line per zone, serial and target, with the outcome; replies that match nothing or do
/// not verify are dropped without a word, so nobody can make it log per packet.
/// </summary>
internal sealed partial class NotifySender : IDisposable
{
    private readonly IReadOnlyList<NotifyTarget> _targets;
    private readonly IPAddress? _source;
    private readonly int _attempts;
    private readonly TimeSpan _interval;
    private readonly Func<TsigKeyring> _keys;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<(DnsName Zone, int Target), Notification> _pending = [];
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private readonly List<Task> _loops = [];
    private readonly long[] _outcomes = new long[4];
    private long _sent;
    private int _disposed;

    public NotifySender(IReadOnlyList<NotifyTarget> targets, IPAddress? source, int attempts, TimeSpan interval, Func<TsigKeyring> keys, ILogger logger)
    {
        _targets = targets;
        _source = source;
        _attempts = attempts;
        _interval = interval;
        _keys = keys;
        _logger = logger;
    }

    public static readonly string[] OutcomeLabels = ["acknowledged", "rejected", "failed", "superseded"];

    /// <summary>NOTIFY messages sent, retries included.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>NOTIFYs that ended with <paramref name="outcome"/>.</summary>
    public long Count(NotifyOutcome outcome) => Interlocked.Read(ref _outcomes[(int)outcome]);

    /// <summary>NOTIFYs waiting for an answer or their next attempt.</summary>
    public int Pending
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>
    /// The subscriber of <see cref="ZoneReloader.Published"/>: queues a NOTIFY per target for each zone whose serial is
    /// new, and forgets those of removed zones. Sends nothing itself (the sending task does, once started); never throws.
    /// </summary>
    public void Announce(IReadOnlyList<ZoneChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (_targets.Count == 0)
        {
            return;
        }
        lock (_lock)
        {
            foreach (var change in changes)
            {
                if (change.After is null)
                {
                    for (int t = 0; t < _targets.Count; t++)
                    {
                        if (_pending.Remove((change.Origin, t), out var gone))
                        {
                            ServerActivities.EndNotify(gone.Span, gone.Attempts, "removed", null);
                        }
                    }
                    continue;
                }
                if (change.Before is { } before && before.Serial == change.After.Serial)
                {
                    continue;
                }
                var soa = change.After.Soa.Encoded(0).ToArray();
                for (int t = 0; t < _targets.Count; t++)
                {
                    if (_pending.Remove((change.Origin, t), out var older))
                    {
                        Interlocked.Increment(ref _outcomes[(int)NotifyOutcome.Superseded]);
                        LogSuperseded(_logger, change.Origin.ToString(), older.Serial, change.After.Serial, _targets[t].ToString());
                        ServerActivities.EndNotify(older.Span, older.Attempts, OutcomeLabels[(int)NotifyOutcome.Superseded], null);
                    }
                    _pending[(change.Origin, t)] = new Notification(change.Origin, change.After.Serial, soa, t)
                    {
                        Span = ServerActivities.StartNotify(change.Origin, change.After.Serial, _targets[t].EndPoint, _targets[t].KeyName),
                    };
                }
            }
        }
        Wake();
    }

    /// <summary>Opens a UDP socket per address family the targets use, bound to <c>Transfers:NotifySource</c> or any; throws <see cref="ConfigurationException"/>.</summary>
    public void Bind()
    {
        foreach (var family in _targets.Select(t => t.EndPoint.AddressFamily).Distinct())
        {
            var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                var local = _source ?? (family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any);
                socket.Bind(new IPEndPoint(local, 0));
            }
            catch (SocketException e)
            {
                socket.Dispose();
                throw new ConfigurationException($"Transfers:NotifySource: cannot send NOTIFY from {_source}: {e.Message}", e);
            }
            _sockets.Add(socket);
        }
    }

    /// <summary>Starts sending what is queued (the first load's zones included) and reading the answers.</summary>
    public void Start()
    {
        foreach (var socket in _sockets)
        {
            _loops.Add(Task.Run(() => ReceiveAsync(socket)));
        }
        _loops.Add(Task.Run(SendAsync));
    }

    /// <summary>Stops and closes the sockets; a second call (DnsServer disposes after a failed start, then the host) does nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        _stop.Cancel();
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }
        lock (_lock)
        {
            foreach (var n in _pending.Values)
            {
                ServerActivities.EndNotify(n.Span, n.Attempts, "stopped", null);
            }
        }
        try
        {
            Task.WaitAll([.. _loops], TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loops end on cancellation; nothing to report at shutdown.
        }
        _stop.Dispose();
        _wake.Dispose();
    }

    private void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Woken already.
        }
        catch (ObjectDisposedException)
        {
            // Stopped.
        }
    }

    /// <summary>Sends what is due, then sleeps until the next is due or something new is queued.</summary>
    private async Task SendAsync()
    {
        var token = _stop.Token;
        byte[] buffer = new byte[1024];
        while (!token.IsCancellationRequested)
        {
            TimeSpan wait = SendDue(buffer);
            try
            {
                await _wake.WaitAsync(wait, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One pass over the pending NOTIFYs: gives up on the spent, sends the due; returns the time to the next.</summary>
    private TimeSpan SendDue(byte[] buffer)
    {
        long now = Stopwatch.GetTimestamp();
        long next = long.MaxValue;
        lock (_lock)
        {
            foreach (var (key, n) in _pending.ToList())
            {
                if (n.Due > now)
                {
                    next = Math.Min(next, n.Due);
                    continue;
                }
                var target = _targets[n.Target];
                if (n.Attempts >= _attempts)
                {
                    _pending.Remove(key);
                    Interlocked.Increment(ref _outcomes[(int)NotifyOutcome.Failed]);
                    LogGaveUp(_logger, n.Zone.ToString(), n.Serial, target.ToString(), n.Attempts, n.LastProblem ?? "no answer");
                    ServerActivities.EndNotify(n.Span, n.Attempts, OutcomeLabels[(int)NotifyOutcome.Failed], n.LastProblem ?? "no answer");
                    continue;
                }
                Send(n, target, buffer);
                n.Due = now + (long)(_interval.TotalSeconds * Stopwatch.Frequency);
                next = Math.Min(next, n.Due);
            }
        }
        return next == long.MaxValue ? Timeout.InfiniteTimeSpan : Stopwatch.GetElapsedTime(now, next);
    }

    private void Send(Notification n, NotifyTarget target, byte[] buffer)
    {
        n.Attempts++;
        n.Id = (ushort)RandomNumberGenerator.GetInt32(ushort.MaxValue + 1);
        int length = NotifyMessage.Write(n.Zone, n.Soa, n.Id, buffer);
        n.Key = null;
        if (target.KeyName is { } keyName)
        {
            // The key in force now: a reloaded keys file signs the next attempt.
            var key = _keys().Find(keyName);
            if (key is null || !key.CanSign)
            {
                n.LastProblem = key is null ? $"no TSIG key {keyName}" : $"TSIG key {key} signs nothing";
                return;
            }
            using var signer = new TsigSigner(key, []);
            length = signer.Sign(buffer, length, TsigVerifier.Now());
            Span<byte> keyNameBuffer = stackalloc byte[DnsName.MaxLength];
            Span<byte> algorithm = stackalloc byte[DnsName.MaxLength];
            TsigRecord.Find(buffer.AsSpan(0, length), keyNameBuffer, algorithm, out var tsig);
            n.RequestMac = tsig.Mac.ToArray();
            n.Key = key;
        }
        var socket = _sockets.First(s => s.AddressFamily == target.EndPoint.AddressFamily);
        try
        {
            socket.SendTo(buffer.AsSpan(0, length), SocketFlags.None, target.EndPoint);
            Interlocked.Increment(ref _sent);
        }
        catch (SocketException e)
        {
            n.LastProblem = e.Message;
        }
        catch (ObjectDisposedException)
        {
            // Stopping.
        }
    }

    /// <summary>Reads answers until stopped; each is matched to the pending NOTIFY of its source and ID, or dropped.</summary>
    private async Task ReceiveAsync(Socket socket)
    {
        var token = _stop.Token;
        byte[] buffer = new byte[4096];
        EndPoint any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!token.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // An ICMP error from an earlier send, on some systems: the retries deal with it.
                await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
                continue;
            }
            Receive(buffer.AsSpan(0, received.ReceivedBytes), (IPEndPoint)received.RemoteEndPoint);
        }
    }

    private void Receive(ReadOnlySpan<byte> reply, IPEndPoint from)
    {
        lock (_lock)
        {
            foreach (var (key, n) in _pending)
            {
                var target = _targets[n.Target];
                if (n.Attempts == 0 || !target.EndPoint.Equals(from))
                {
                    continue;
                }
                var verdict = NotifyMessage.ReadReply(reply, n.Id, n.Zone, out int rcode);
                if (verdict == NotifyReply.Unrelated)
                {
                    continue;
                }
                if (n.Key is not null && !Verified(reply, n))
                {
                    return;
                }
                _pending.Remove(key);
                if (verdict == NotifyReply.Acknowledged)
                {
                    Interlocked.Increment(ref _outcomes[(int)NotifyOutcome.Acknowledged]);
                    LogAcknowledged(_logger, n.Zone.ToString(), n.Serial, target.ToString(), n.Attempts);
                    ServerActivities.EndNotify(n.Span, n.Attempts, OutcomeLabels[(int)NotifyOutcome.Acknowledged], null);
                }
                else
                {
                    Interlocked.Increment(ref _outcomes[(int)NotifyOutcome.Rejected]);
                    LogRejected(_logger, n.Zone.ToString(), n.Serial, target.ToString(), RcodeName(rcode));
                    ServerActivities.EndNotify(n.Span, n.Attempts, OutcomeLabels[(int)NotifyOutcome.Rejected], "rejected with " + RcodeName(rcode));
                }
                return;
            }
        }
    }

    /// <summary>
    /// Whether the reply to a signed NOTIFY carries a TSIG that verifies with the request's key and MAC (RFC 8945 §5.3).
    /// One that does not is dropped, but what it said is kept for the line that gives up: a secondary without the key
    /// answers BADKEY or BADSIG unsigned, which nobody could tell from a forgery.
    /// </summary>
    private static bool Verified(ReadOnlySpan<byte> reply, Notification n)
    {
        Span<byte> keyName = stackalloc byte[DnsName.MaxLength];
        Span<byte> algorithm = stackalloc byte[DnsName.MaxLength];
        if (TsigRecord.Find(reply, keyName, algorithm, out var tsig) != TsigPresence.Present)
        {
            n.LastProblem = "an unsigned reply (dropped)";
            return false;
        }
        if (tsig.Error != TsigError.NoError)
        {
            n.LastProblem = $"a reply with TSIG error {tsig.Error} (dropped)";
            return false;
        }
        var verdict = TsigVerifier.VerifyAnswer(reply, tsig, n.Key!, n.RequestMac, TsigVerifier.Now());
        if (verdict != TsigVerdict.Verified)
        {
            n.LastProblem = $"a reply whose TSIG did not verify: {verdict} (dropped)";
            return false;
        }
        return true;
    }

    private static string RcodeName(int rcode) => Enum.IsDefined((ResponseCode)rcode) ? ((ResponseCode)rcode).ToString().ToUpperInvariant() : $"RCODE{rcode}";

    [LoggerMessage(Level = LogLevel.Information, Message = "notify {Zone} serial {Serial} to {Target}: acknowledged after {Attempts} attempt(s)")]
    private static partial void LogAcknowledged(ILogger logger, string zone, uint serial, string target, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "notify {Zone} serial {Serial} to {Target}: rejected with {Rcode}")]
    private static partial void LogRejected(ILogger logger, string zone, uint serial, string target, string rcode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "notify {Zone} serial {Serial} to {Target}: gave up after {Attempts} attempts ({Problem})")]
    private static partial void LogGaveUp(ILogger logger, string zone, uint serial, string target, int attempts, string problem);

    [LoggerMessage(Level = LogLevel.Debug, Message = "notify {Zone} serial {Serial} to {Target}: replaced by serial {Newer}")]
    private static partial void LogSuperseded(ILogger logger, string zone, uint serial, uint newer, string target);

    /// <summary>One zone's serial on its way to one target.</summary>
    private sealed class Notification(DnsName zone, uint serial, byte[] soa, int target)
    {
        public DnsName Zone { get; } = zone;
        public uint Serial { get; } = serial;
        public byte[] Soa { get; } = soa;
        public int Target { get; } = target;
        public int Attempts { get; set; }
        public ushort Id { get; set; }
        public long Due { get; set; }
        public TsigKey? Key { get; set; }
        public byte[] RequestMac { get; set; } = [];
        public string? LastProblem { get; set; }
        /// <summary>Its <c>zone.notify</c> span; null without a listener.</summary>
        public Activity? Span { get; init; }
    }
}
