using System.CommandLine;
using System.Runtime.InteropServices;
using AnycastDns.Server;
using AnycastDns.Server.Anycast;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Commands;

/// <summary>
/// <c>anycastdns watchdog --target ip:port --bird-socket path [options]</c>: runs beside BIRD (the sidecar) and withdraws
/// the anycast route when the local server stops answering; the interval, timeout and thresholds are options, each
/// with its default declared once below (<c>--help</c> shows them). Stops on SIGTERM/Ctrl-C with exit 0, leaving the
/// route as is.
/// </summary>
internal static class WatchdogCommand
{
    public static Command Create(TextWriter error)
    {
        var target = CheckedOptions.EndPoint("--target", "the local server's address to query (CH TXT id.server)");
        target.Required = true;
        var socket = new Option<string>("--bird-socket") { HelpName = "path", Description = "BIRD 2 control socket", Required = true };
        var protocol = new Option<string>("--bird-protocol")
        {
            HelpName = "name",
            Description = "the BIRD static protocol holding the anycast prefix",
            DefaultValueFactory = _ => BirdAnnouncementOptions.DefaultProtocol,
        };
        var interval = CheckedOptions.WholeNumber("--interval-ms", "milliseconds between queries", 10, 60_000, 200);
        var timeout = CheckedOptions.WholeNumber("--timeout-ms", "milliseconds a query may take", 10, 60_000, 250);
        var failAfter = CheckedOptions.WholeNumber("--fail-after", "unanswered queries in a row before withdrawing", 1, 100, 3);
        var recoverAfter = CheckedOptions.WholeNumber("--recover-after", "answered queries in a row before announcing again", 1, 1000, 5);
        var command = new Command("watchdog", "beside BIRD: withdraw the anycast route when the local server stops answering")
        {
            target, socket, protocol, interval, timeout, failAfter, recoverAfter,
        };
        command.SetAction(r => Run(
            new WatchdogOptions(
                r.GetRequiredValue(target),
                TimeSpan.FromMilliseconds(r.GetValue(interval)),
                TimeSpan.FromMilliseconds(r.GetValue(timeout)),
                r.GetValue(failAfter),
                r.GetValue(recoverAfter)),
            new BirdAnnouncementOptions { SocketPath = r.GetRequiredValue(socket), Protocol = r.GetRequiredValue(protocol) },
            error));
        return command;
    }

    public static int Run(WatchdogOptions options, BirdAnnouncementOptions bird, TextWriter error)
    {
        BirdAnnouncement announcement;
        try
        {
            announcement = new BirdAnnouncement(bird);
        }
        catch (Exception e) when (e is ConfigurationException or ArgumentException)
        {
            error.WriteLine($"anycastdns watchdog: {e.Message.Split(" (Parameter", 2)[0]}");
            return 2;
        }

        using var loggers = LoggerFactory.Create(b => b.AddSingleLineConsole());
        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        new Watchdog(options, announcement, loggers.CreateLogger("AnycastDns.Watchdog")).RunAsync(stop.Token).GetAwaiter().GetResult();
        return 0;
    }
}
