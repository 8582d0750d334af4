using AnycastDns.Commands;

namespace AnycastDns;

/// <summary>The <c>anycastdns</c> executable: picks the command and hands it the rest of the arguments.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string command = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "serve";
        var rest = args.Length > 0 && !args[0].StartsWith('-') ? args[1..] : args;
        if (args.Length == 1 && args[0] is "--version" or "version")
        {
            Console.Out.WriteLine($"anycastdns {VersionInfo.Text}");
            return 0;
        }
        if (args.Length == 1 && args[0] is "--help" or "-h" or "help")
        {
            Console.Out.Write(Usage);
            return 0;
        }
        return command switch
        {
            "serve" when rest.Contains("--help") || rest.Contains("-h") => Help(ServeArguments.Help),
            "serve" => ServeCommand.Run(rest),
            "check" => CheckCommand.Run(rest, Console.Out, Console.Error),
            "fleet-check" => FleetCheckCommand.Run(rest, Console.Out, Console.Error),
            "reload" => ReloadCommand.Run(rest, Console.Out, Console.Error),
            "drain" => MaintenanceCommand.Run(on: true, rest, Console.Out, Console.Error),
            "undrain" => MaintenanceCommand.Run(on: false, rest, Console.Out, Console.Error),
            "watchdog" => WatchdogCommand.Run(rest, Console.Error),
            _ => Unknown(command),
        };
    }

    internal const string Usage = """
        usage: anycastdns [command] [options]

        commands:
          serve            answer queries for the zones (the default)
          check <path>     check a zones folder or one zone file; exit 1 on any error
          reload [--http a]  make a running server re-read its zones now (through its --http endpoint)
          drain [--http a]   maintenance on: withdraw the anycast route, keep answering
          undrain [--http a] maintenance off: announce again once the self-check passes
          watchdog ...     beside BIRD: withdraw when the local server stops answering (--help for options)
          fleet-check <pop>...  compare identity, zone serials and ZONEMD digests across PoPs; exit 1 if any differs
          --version        print the version

        """;

    private static int Help(string text)
    {
        Console.Out.Write(text);
        return 0;
    }

    private static int Unknown(string command)
    {
        Console.Error.WriteLine($"anycastdns: unknown command '{command}' (try --help)");
        return 2;
    }
}
