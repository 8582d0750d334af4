using System.Globalization;
using System.Runtime.InteropServices;
using AnycastDns.Server;
using AnycastDns.Server.Anycast;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Commands;

/// <summary>
/// <c>anycastdns watchdog --target ip:port --bird-socket path [--bird-protocol anycast] [--interval-ms 200]
/// [--timeout-ms 250] [--fail-after 3] [--recover-after 5]</c>: runs beside BIRD (the sidecar) and withdraws the
/// anycast route when the local server stops answering. Stops on SIGTERM/Ctrl-C with exit 0, leaving the route as is.
/// </summary>
internal static class WatchdogCommand
{
    public const string Usage = "usage: anycastdns watchdog --target <ip:port> --bird-socket <path> [--bird-protocol anycast] [--interval-ms 200] [--timeout-ms 250] [--fail-after 3] [--recover-after 5]";

    public static int Run(string[] args, TextWriter error)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["--bird-protocol"] = BirdAnnouncementOptions.DefaultProtocol,
            ["--interval-ms"] = "200",
            ["--timeout-ms"] = "250",
            ["--fail-after"] = "3",
            ["--recover-after"] = "5",
        };
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length
                || args[i] is not ("--target" or "--bird-socket" or "--bird-protocol" or "--interval-ms" or "--timeout-ms" or "--fail-after" or "--recover-after"))
            {
                error.WriteLine($"anycastdns watchdog: unexpected '{args[i]}'");
                error.WriteLine(Usage);
                return 2;
            }
            values[args[i]] = args[++i];
        }
        WatchdogOptions options;
        BirdAnnouncement announcement;
        try
        {
            if (!values.TryGetValue("--target", out var target) || !values.TryGetValue("--bird-socket", out var socket))
            {
                throw new ConfigurationException("--target and --bird-socket are required");
            }
            options = new WatchdogOptions(
                ListenAddress.Parse(target).EndPoint,
                TimeSpan.FromMilliseconds(Number(values, "--interval-ms", 10, 60_000)),
                TimeSpan.FromMilliseconds(Number(values, "--timeout-ms", 10, 60_000)),
                Number(values, "--fail-after", 1, 100),
                Number(values, "--recover-after", 1, 1000));
            announcement = new BirdAnnouncement(new BirdAnnouncementOptions { SocketPath = socket, Protocol = values["--bird-protocol"] });
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

    private static int Number(Dictionary<string, string> values, string option, int min, int max)
    {
        if (!int.TryParse(values[option], NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
        {
            throw new ConfigurationException($"{option} '{values[option]}': expected a whole number from {min} to {max}");
        }
        return n;
    }
}
