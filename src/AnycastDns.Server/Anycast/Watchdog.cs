using System.Net;
using AnycastDns.Protocol;
using AnycastDns.Server.Probing;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server.Anycast;

/// <summary>What the watchdog probes and how quickly it gives up on the server.</summary>
public sealed record WatchdogOptions(IPEndPoint Target, TimeSpan Interval, TimeSpan Timeout, int FailAfter, int RecoverAfter);

/// <summary>
/// Fail closed: a server that died or hung cannot withdraw its own route, so the watchdog, running beside the BGP
/// speaker, asks it <c>CH TXT id.server</c> every interval and withdraws after <see cref="WatchdogOptions.FailAfter"/>
/// failures in a row (SIGKILL shows at once as a refused port; a hang after the timeouts). While tripped, every failed
/// probe withdraws again. It never announces, and it never withdraws after a probe that was answered: a restarted
/// server announces itself as soon as its own self-check passes (RFC 4786 §4.3), and a watchdog still withdrawing
/// until <see cref="WatchdogOptions.RecoverAfter"/> answers in a row would take that route away again for up to a
/// second, a flap on every restart. After that many answers the watchdog steps back (and says so). So a drained or
/// unhealthy server is never announced by the watchdog, and a healthy one is never withdrawn by it.
/// </summary>
public sealed partial class Watchdog(WatchdogOptions options, IAnnouncement announcement, ILogger logger)
{
    private static readonly DnsName IdServer = DnsName.Parse("id.server.");

    public bool Tripped { get; private set; }

    public async Task RunAsync(CancellationToken stop)
    {
        LogProbing(logger, options.Target, options.Interval.TotalMilliseconds, options.Timeout.TotalMilliseconds, announcement.Name, options.FailAfter);
        int failures = 0;
        int successes = 0;
        string? lastError = null;
        while (!stop.IsCancellationRequested)
        {
            var started = DateTimeOffset.UtcNow;
            var (problem, refused) = await ProbeAsync(stop).ConfigureAwait(false);
            if (stop.IsCancellationRequested)
            {
                return;
            }
            if (problem is null)
            {
                successes++;
                failures = 0;
            }
            else
            {
                failures++;
                successes = 0;
            }
            if (!Tripped && failures >= options.FailAfter)
            {
                Tripped = true;
                LogTripped(logger, options.Target, failures, problem);
            }
            else if (Tripped && successes >= options.RecoverAfter)
            {
                Tripped = false;
                LogRecovered(logger, options.Target);
            }
            if (Tripped && problem is not null)
            {
                lastError = await WithdrawAsync(lastError, stop).ConfigureAwait(false);
            }
            // A refused port is no doubt (nothing listens: the process is gone), unlike a timeout (it may be busy): the
            // next probe goes at once, so SIGKILL is withdrawn after FailAfter quick probes, not FailAfter intervals.
            var rest = (refused && !Tripped ? RefusedAgainAfter : options.Interval) - (DateTimeOffset.UtcNow - started);
            if (rest > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(rest, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>How soon a probe that found the port refused is repeated.</summary>
    private static readonly TimeSpan RefusedAgainAfter = TimeSpan.FromMilliseconds(20);

    /// <summary>Null when answered, else why not; <c>Refused</c> when nothing listens on the port (ICMP port unreachable).</summary>
    private async Task<(string? Problem, bool Refused)> ProbeAsync(CancellationToken stop)
    {
        try
        {
            var query = DnsMessage.CreateQuery(IdServer, RecordType.TXT, RecordClass.CH, (ushort)Random.Shared.Next(1, ushort.MaxValue));
            var reply = await DnsProbe.QueryAsync(options.Target, query, tcp: false, options.Timeout, stop).ConfigureAwait(false);
            return (reply.ResponseCode == ResponseCode.NoError && reply.Answers.Count == 1 ? null : $"id.server answered {reply.ResponseCode}", false);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            return (e.Message, e.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionRefused);
        }
        catch (Exception e) when (e is TimeoutException or DnsFormatException)
        {
            return (e.Message, false);
        }
        catch (OperationCanceledException)
        {
            return (null, false);
        }
    }

    /// <summary>Asserts the withdrawal; logs a speaker error once per distinct message and returns it.</summary>
    private async Task<string?> WithdrawAsync(string? lastError, CancellationToken stop)
    {
        try
        {
            await announcement.WithdrawAsync(stop).ConfigureAwait(false);
            return null;
        }
        catch (AnnouncementException e)
        {
            if (e.Message != lastError)
            {
                LogCannotWithdraw(logger, e.Message);
            }
            return e.Message;
        }
        catch (OperationCanceledException)
        {
            return lastError;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "watchdog: probing {Target} every {Interval} ms (timeout {Timeout} ms); withdrawing {Speaker} after {FailAfter} failures")]
    private static partial void LogProbing(ILogger logger, System.Net.IPEndPoint target, double interval, double timeout, string speaker, int failAfter);

    [LoggerMessage(Level = LogLevel.Error, Message = "watchdog: {Target} failed {Failures} probes in a row ({Problem}); withdrawing")]
    private static partial void LogTripped(ILogger logger, System.Net.IPEndPoint target, int failures, string? problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "watchdog: {Target} answers again; the server announces itself once its self-check passes")]
    private static partial void LogRecovered(ILogger logger, System.Net.IPEndPoint target);

    [LoggerMessage(Level = LogLevel.Error, Message = "watchdog: cannot withdraw: {Error}; retrying every probe")]
    private static partial void LogCannotWithdraw(ILogger logger, string error);
}
