using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;

namespace AnycastDns.Commands;

/// <summary>
/// The one command line of <c>anycastdns</c>: a root command that serves when no command is named, and a subcommand
/// for each thing the executable does. Exit codes: 0 done, 1 a bad setting or a failed check, 2 a bad argument — told
/// in one line that names it, never the whole help.
/// </summary>
internal static class CommandTree
{
    public const int BadArgument = 2;

    /// <summary>Parses <paramref name="args"/> and runs the command they name.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        var root = Create(output, error);
        var parsed = Parse(root, args);
        if (parsed.Errors.Count > 0 && parsed.Action is not { ClearsParseErrors: true })
        {
            error.WriteLine(ErrorLine(parsed));
            return BadArgument;
        }
        return parsed.Invoke(new InvocationConfiguration
        {
            Output = output,
            Error = error,
            // serve and watchdog handle SIGTERM and Ctrl-C themselves (a graceful drain, exit 0); an exception that
            // escapes is a bug, and crashes as it did before.
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        });
    }

    /// <summary>Parses without running: what tests look at.</summary>
    public static ParseResult Parse(RootCommand root, IReadOnlyList<string> args) =>
        // No @file expansion: an argument is what the operator wrote.
        root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });

    public static RootCommand Create(TextWriter output, TextWriter error)
    {
        var root = new RootCommand("AnycastDns, an authoritative DNS server for anycast. Without a command it serves: the options below are serve's.");
        foreach (var option in ServeArguments.Options)
        {
            root.Options.Add(option);
        }
        root.SetAction(r => ServeCommand.Run(ServeArguments.Configuration(r)));
        foreach (var option in root.Options.OfType<VersionOption>())
        {
            option.Action = new PrintVersion(output);
        }

        var serve = new Command("serve", "answer queries for the zones (the default command); each option is also a configuration key");
        foreach (var option in ServeArguments.Options)
        {
            serve.Options.Add(option);
        }
        serve.SetAction(r => ServeCommand.Run(ServeArguments.Configuration(r)));
        root.Subcommands.Add(serve);
        root.Subcommands.Add(CheckCommand.Create(output, error));
        root.Subcommands.Add(ReloadCommand.Create(output, error));
        root.Subcommands.Add(MaintenanceCommand.Create(on: true, output, error));
        root.Subcommands.Add(MaintenanceCommand.Create(on: false, output, error));
        root.Subcommands.Add(WatchdogCommand.Create(error));
        root.Subcommands.Add(FleetCheckCommand.Create(output, error));

        // Spellings the executable has always taken: `anycastdns version`, `anycastdns help`.
        var version = new Command("version", "print the version") { Hidden = true };
        version.SetAction(_ => PrintVersion.Write(output));
        root.Subcommands.Add(version);
        var help = new Command("help", "print this help") { Hidden = true };
        help.SetAction(_ => Parse(root, ["--help"]).Invoke(new InvocationConfiguration { Output = output, Error = error }));
        root.Subcommands.Add(help);
        return root;
    }

    /// <summary>
    /// A word that starts with '-' is an option the command does not have, not a path or an address: without this the
    /// parser would take <c>check --zonemd-all</c> for a check of a file named <c>--zonemd-all</c>.
    /// </summary>
    public static void RejectOptionLikeValues(Argument argument) => argument.Validators.Add(result =>
    {
        foreach (var token in result.Tokens)
        {
            if (token.Value.StartsWith('-'))
            {
                result.AddError($"unknown option '{token.Value}'");
                return;
            }
        }
    });

    /// <summary>
    /// The first thing wrong, in one line: an unknown command or option by its spelling, else the parser's message
    /// (which names the option or argument).
    /// </summary>
    public static string ErrorLine(ParseResult parsed)
    {
        var command = parsed.CommandResult.Command;
        bool serving = command is RootCommand || command.Name == "serve";
        string prefix = serving ? "anycastdns" : $"anycastdns {command.Name}";
        string see = command is RootCommand ? "anycastdns --help" : $"anycastdns {command.Name} --help";
        if (parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("unknown option", StringComparison.Ordinal)) is { } unknown)
        {
            return $"{prefix}: {unknown.Message} (see {see})";
        }
        if (parsed.UnmatchedTokens.Count > 0)
        {
            string token = parsed.UnmatchedTokens[0];
            string what = token.StartsWith('-') ? "unknown option"
                : command is RootCommand && parsed.Tokens.Count > 0 && parsed.Tokens[0].Value == token ? "unknown command"
                : "unexpected argument";
            return $"{prefix}: {what} '{token}' (see {see})";
        }
        string message = parsed.Errors[0].Message.ReplaceLineEndings(" ").Trim();
        return $"{prefix}: {message} (see {see})";
    }

    /// <summary><c>--version</c>: the version the build stamped, as <c>anycastdns x.y.z</c>.</summary>
    private sealed class PrintVersion(TextWriter output) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult) => Write(output);

        public static int Write(TextWriter output)
        {
            output.WriteLine($"anycastdns {VersionInfo.Text}");
            return 0;
        }
    }
}
