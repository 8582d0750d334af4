using System.CommandLine;
using AnycastDns.Commands;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// The executable's one command line (<see cref="CommandTree"/>): <c>--help</c> on every command lists every option
/// and exits 0; <c>--opt=value</c> means what <c>--opt value</c> means on every command; a bad argument is one line on
/// stderr naming it, exit code 2; serve's options become exactly the configuration keys they always did, and only the
/// ones given, so that appsettings and the environment still count below them.
/// </summary>
public sealed class CommandTreeTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Every command the executable takes ("" is the root, which serves).</summary>
    public static readonly TheoryData<string> Commands = ["", "serve", "check", "reload", "drain", "undrain", "watchdog", "fleet-check"];

    /// <summary>A value each option accepts, where "x" would not do.</summary>
    private static readonly Dictionary<string, string> Samples = new(StringComparer.Ordinal)
    {
        ["--target"] = "127.0.0.1:53",
        ["--interval-ms"] = "100",
        ["--timeout-ms"] = "100",
        ["--fail-after"] = "2",
        ["--recover-after"] = "2",
        ["--timeout"] = "1.5",
        ["--http-port"] = "8053",
        ["--listen"] = "[::1]:53",
        ["--notify"] = "192.0.2.1:53 key:k=1",
    };

    private static Task<ToolResult> Run(params string[] arguments) =>
        ExternalTool.RunAsync("dotnet", ["exec", AnycastDnsServer.DllPath, .. arguments], RunTimeout);

    private static string[] Words(string command, params string[] rest) => command.Length == 0 ? rest : [command, .. rest];

    private static Command Find(string command)
    {
        var root = CommandTree.Create(TextWriter.Null, TextWriter.Null);
        return command.Length == 0 ? root : root.Subcommands.Single(c => c.Name == command);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Help_exits_0_and_lists_every_option(string command)
    {
        var declared = Find(command).Options.Where(o => !o.Hidden).Select(o => o.Name).ToList();
        Assert.NotEmpty(declared);
        foreach (string help in new[] { "--help", "-h" })
        {
            var result = await Run(Words(command, help));
            Assert.True(result.ExitCode == 0, result.Output);
            Assert.Equal("", result.StandardError);
            foreach (string option in declared)
            {
                Assert.Contains(option, result.StandardOutput, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Help_lists_what_each_command_always_took_with_the_defaults_serve_runs_with()
    {
        // The options of the hand-written grammars this tree replaced: none may have gone missing.
        string[][] expected =
        [
            ["check", "--zonemd", "--zonemd-write", "<path>"],
            ["reload", "--http"],
            ["drain", "--http"],
            ["undrain", "--http"],
            ["watchdog", "--target", "--bird-socket", "--bird-protocol", "--interval-ms", "--timeout-ms", "--fail-after", "--recover-after"],
            ["fleet-check", "<pop>", "--file", "--timeout", "--http-port"],
        ];
        foreach (var entry in expected)
        {
            var result = await Run(entry[0], "--help");
            Assert.True(result.ExitCode == 0, result.Output);
            foreach (string option in entry[1..])
            {
                Assert.Contains(option, result.StandardOutput, StringComparison.Ordinal);
            }
        }
        // serve's defaults come from ServerOptions: what it runs with when nothing is configured.
        var defaults = AnycastDns.Server.ServerOptions.FromConfiguration(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
        var serve = await Run("serve", "--help");
        Assert.Matches($@"--tcp-max-connections <n>\s+.*\[Tcp:MaxConnections\] \[default: {defaults.TcpMaxConnections}\]", serve.StandardOutput);
        Assert.Matches($@"--rrl-rate <n>\s+.*\[Rrl:ResponsesPerSecond\] \[default: {defaults.RateLimit.ResponsesPerSecond}\]", serve.StandardOutput);
        Assert.Matches(@"--listen <ip:port>\s+.*\[Listen\] \[default: 127\.0\.0\.1:5300\|\[::1\]:5300\]", serve.StandardOutput);
        Assert.Contains("--drain-seconds", serve.StandardOutput, StringComparison.Ordinal);
        var root = await Run("--help");
        foreach (string command in new[] { "serve", "check", "reload", "drain", "undrain", "watchdog", "fleet-check" })
        {
            Assert.Matches($@"(?m)^  {command}\b", root.StandardOutput);
        }
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Equals_and_space_give_the_same_values(string command)
    {
        var root = CommandTree.Create(TextWriter.Null, TextWriter.Null);
        ParseResult Parse(string[] arguments) => CommandTree.Parse(root, arguments);
        var options = (command.Length == 0 ? root : root.Subcommands.Single(c => c.Name == command)).Options
            .Where(o => o.Name.StartsWith("--", StringComparison.Ordinal) && o is not System.CommandLine.Help.HelpOption && o is not VersionOption).ToList();
        Assert.NotEmpty(options);
        foreach (var option in options)
        {
            // What the command needs besides: check a path, watchdog its required options (but the one under test).
            string[] required = command switch
            {
                "check" => ["zones"],
                "watchdog" => [.. new[] { ("--target", "127.0.0.1:5300"), ("--bird-socket", "/run/bird.ctl") }.Where(r => r.Item1 != option.Name).SelectMany(r => new[] { r.Item1, r.Item2 })],
                _ => [],
            };
            // A flag's spaced form is the flag alone; --flag=true must mean the same.
            bool flag = option.ValueType == typeof(bool);
            string value = flag ? "true" : Samples.GetValueOrDefault(option.Name, "some value");
            var spaced = Parse(Words(command, flag ? [.. required, option.Name] : [.. required, option.Name, value]));
            var joined = Parse(Words(command, [.. required, $"{option.Name}={value}"]));
            Assert.True(spaced.Errors.Count == 0, $"{option.Name} {value}: {string.Join("; ", spaced.Errors.Select(e => e.Message))}");
            Assert.True(joined.Errors.Count == 0, $"{option.Name}={value}: {string.Join("; ", joined.Errors.Select(e => e.Message))}");
            string given = Show(joined.GetResult(option)?.GetValueOrDefault<object>());
            Assert.Equal(Show(spaced.GetResult(option)?.GetValueOrDefault<object>()), given);
            // The option was read: without it the value is another (a required option has none without it).
            Assert.True(option.Required || Show(Parse(Words(command, [.. required])).GetResult(option)?.GetValueOrDefault<object>()) != given, $"{option.Name}: given or not, {given}");
        }
        if (command is "" or "serve")
        {
            // And the configuration serve runs with, every option at once.
            var spacedAll = new List<string>();
            var joinedAll = new List<string>();
            foreach (var option in options)
            {
                if (option.ValueType == typeof(bool))
                {
                    spacedAll.Add(option.Name);
                    joinedAll.Add($"{option.Name}=true");
                    continue;
                }
                string value = Samples.GetValueOrDefault(option.Name, "v-" + option.Name[2..]);
                spacedAll.AddRange([option.Name, value]);
                joinedAll.Add($"{option.Name}={value}");
            }
            var spacedPairs = ServeArguments.Configuration(Parse(Words(command, [.. spacedAll])));
            var joinedPairs = ServeArguments.Configuration(Parse(Words(command, [.. joinedAll])));
            Assert.Equal(options.Count, spacedPairs.Count);
            Assert.Equal(spacedPairs.OrderBy(p => p.Key, StringComparer.Ordinal), joinedPairs.OrderBy(p => p.Key, StringComparer.Ordinal));
        }
    }

    [Fact]
    public void Serve_options_become_the_configuration_keys_they_always_did_and_only_those_given()
    {
        // Nothing given: nothing on the command line, so appsettings and ANYCASTDNS_* decide (no defaults slipped in).
        Assert.Empty(ServeArguments.Configuration(Parse([])));
        Assert.Empty(ServeArguments.Configuration(Parse(["serve"])));

        var pairs = ServeArguments.Configuration(Parse(["serve", "--zones", "z", "--listen", "127.0.0.1:53", "--listen=[::1]:53",
            "--tcp-max-connections=5", "--tcp-idle-timeout", "0.5", "--no-watch", "--no-http-control", "--freebind", "--rrl-log-only",
            "--no-metrics", "--http", "127.0.0.1:8053", "--rrl-exempt", "none", "--dnstap-responses", "nxdomain", "--dnstap-responses=refused",
            "--secondary-zone", "example. 192.0.2.1:53; 192.0.2.2:53", "--query-log=-1", "--config", "a.json"]));
        var expected = new Dictionary<string, string?>
        {
            ["Zones"] = "z",
            ["Listen:0"] = "127.0.0.1:53",
            ["Listen:1"] = "[::1]:53",
            ["Tcp:MaxConnections"] = "5",
            ["Tcp:IdleTimeoutSeconds"] = "0.5",
            ["Reload:Watch"] = "false",
            ["HttpControl"] = "false",
            ["FreeBind"] = "true",
            ["Rrl:LogOnly"] = "true",
            ["Metrics:Enabled"] = "false",
            ["Http"] = "127.0.0.1:8053",
            ["Rrl:Exempt:0"] = "none",
            ["Dnstap:Responses:0"] = "nxdomain",
            ["Dnstap:Responses:1"] = "refused",
            ["Secondary:Zones:0"] = "example. 192.0.2.1:53; 192.0.2.2:53",
            ["QueryLog:OneIn"] = "-1",
            ["Config"] = "a.json",
        };
        Assert.Equal(expected.OrderBy(p => p.Key, StringComparer.Ordinal), pairs.OrderBy(p => p.Key, StringComparer.Ordinal));
        // Given twice, the last counts (a script may append an override), as it always has.
        var twice = ServeArguments.Configuration(Parse(["serve", "--zones", "a", "--pop-id=p1", "--zones=b", "--pop-id", "p2"]));
        Assert.Equal("b", twice["Zones"]);
        Assert.Equal("p2", twice["PopId"]);
        // Serving is the default: the same options without the command name mean the same.
        Assert.Equal(ServeArguments.Configuration(Parse(["--zones", "z", "--no-watch"])), ServeArguments.Configuration(Parse(["serve", "--zones=z", "--no-watch"])));
    }

    /// <summary>For each command, an argument it does not take and a value it cannot use.</summary>
    public static readonly TheoryData<string[], string> BadArguments = new()
    {
        { ["--bogus"], "unknown option '--bogus'" },
        { ["frobnicate"], "unknown command 'frobnicate'" },
        { ["serve", "--bogus=1"], "unknown option '--bogus=1'" },
        { ["serve", "--zones"], "--zones" },
        { ["serve", "--listen", "127.0.0.1:53", "127.0.0.1:54"], "unexpected argument '127.0.0.1:54'" },
        { ["check"], "'path'" },
        { ["check", "zones", "more-zones"], "unexpected argument 'more-zones'" },
        { ["check", "--zonemd-all", "zones"], "unknown option '--zonemd-all'" },
        { ["check", "--zonemd-all"], "unknown option '--zonemd-all'" },
        { ["fleet-check", "--bogus", "127.0.0.1"], "unknown option '--bogus'" },
        { ["reload", "--http"], "--http" },
        { ["reload", "127.0.0.1:8053"], "unexpected argument '127.0.0.1:8053'" },
        { ["drain", "--htp", "127.0.0.1:8053"], "unknown option '--htp'" },
        { ["undrain", "--http=127.0.0.1:8053", "now"], "unexpected argument 'now'" },
        { ["watchdog", "--bird-socket", "/run/bird.ctl"], "--target" },
        { ["watchdog", "--target", "127.0.0.1", "--bird-socket", "/run/bird.ctl"], "--target: " },
        { ["watchdog", "--target=127.0.0.1:53", "--bird-socket=/run/bird.ctl", "--interval-ms=5"], "--interval-ms '5': expected a whole number from 10 to 60000" },
        { ["watchdog", "--target", "127.0.0.1:53", "--bird-socket", "/run/bird.ctl", "--fail-after", "many"], "--fail-after 'many'" },
        { ["fleet-check"], "no PoP addresses given" },
        { ["fleet-check", "127.0.0.1", "--timeout", "0"], "--timeout '0': expected seconds" },
        { ["fleet-check", "127.0.0.1", "--http-port=65536"], "--http-port '65536'" },
        { ["fleet-check", "--file", "/nonexistent/pops.txt"], "--file /nonexistent/pops.txt: no such file" },
        { ["fleet-check", "127.0.0.1,https=127.0.0.1:8053"], "expected <address>[,http=<ip:port>]" },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public async Task A_bad_argument_is_one_line_naming_it_and_exit_2(string[] arguments, string expected)
    {
        var result = await Run(arguments);
        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}:\n{result.Output}");
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{result.StandardError}");
        Assert.StartsWith("anycastdns", lines[0], StringComparison.Ordinal);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        Assert.Equal("", result.StandardOutput);
    }

    [Fact]
    public async Task The_command_line_wins_over_the_environment_which_still_counts_without_it()
    {
        // A bad value names where it came from: the environment when the option is not given, the command line when it is.
        var environment = new Dictionary<string, string?> { ["ANYCASTDNS_TCP__IDLETIMEOUTSECONDS"] = "soon" };
        string[] serve = ["serve", "--zones", RepositoryPaths.TestZones, "--listen", "127.0.0.1:0"];
        var fromEnvironment = await ExternalTool.RunAsync("dotnet", ["exec", AnycastDnsServer.DllPath, .. serve], RunTimeout, environment: environment);
        Assert.Equal(1, fromEnvironment.ExitCode);
        Assert.Contains("Tcp:IdleTimeoutSeconds: 'soon'", fromEnvironment.StandardError, StringComparison.Ordinal);
        foreach (string[] option in new[] { new[] { "--tcp-idle-timeout", "later" }, ["--tcp-idle-timeout=later"] })
        {
            var fromCommandLine = await ExternalTool.RunAsync("dotnet", ["exec", AnycastDnsServer.DllPath, .. serve, .. option], RunTimeout, environment: environment);
            Assert.Equal(1, fromCommandLine.ExitCode);
            Assert.Contains("Tcp:IdleTimeoutSeconds: 'later'", fromCommandLine.StandardError, StringComparison.Ordinal);
        }
    }

    /// <summary>Command lines written elsewhere in the repository (deploy/, bench/, the lab, the zones workflow).</summary>
    public static readonly TheoryData<string> Invocations =
    [
        // deploy/k8s/base/daemonset.yaml (the image's entrypoint is `anycastdns serve`)
        "serve --zones /git/current/zones --no-watch --listen 198.19.53.1:53 --listen 10.0.0.1:53 --anycast-address 198.19.53.1 --freebind --bird-socket /run/bird/bird.ctl --drain-seconds 30 --maintenance-file /var/lib/anycastdns/maintenance --cookie-secret-file /secrets/cookie-secrets.txt",
        // deploy/k8s/pops/fra1-secondary (a PoP fed by a hidden primary) appends these (the entries' values hold spaces)
        "serve --zones /git/current/zones --tsig-keys /tsig/tsig.keys --secondary-state /var/lib/anycastdns/secondary --secondary-catalog catalog.invalid. --secondary-zone example.net.",
        // deploy/systemd/anycastdns.service
        "serve --config /etc/anycastdns/appsettings.json",
        // bench/compare.sh, with its extra options appended
        "serve --zones z --listen 127.0.0.1:5300 --pop-id bench --no-watch --udp-receive-loops 2 --tcp-max-queries 0 --rrl-exempt none --rrl-rate 1000000 --allow-transfer 127.0.0.1/32",
        "serve --zones z --listen 127.0.0.1:5300 --pop-id bench --no-watch --udp-receive-loops 2 --rrl-rate 0 --dnstap-socket /tmp/dnstap.sock",
        // deploy/docker/sidecar-entrypoint.sh and the lab
        "watchdog --target 198.18.1.1:53 --bird-socket /run/bird/bird.ctl --bird-protocol anycast --interval-ms 150 --timeout-ms 200 --fail-after 3",
        // deploy/zones-repository workflow and deploy/README.md
        "check --zonemd-write zones",
        "check --zonemd zones",
        "fleet-check --file pops.txt --timeout 3",
        "drain --http 127.0.0.1:8053",
        "undrain",
        "reload",
    ];

    [Theory]
    [MemberData(nameof(Invocations))]
    public void Command_lines_the_repository_writes_still_parse(string line)
    {
        var parsed = Parse(line.Split(' '));
        Assert.True(parsed.Errors.Count == 0, string.Join("; ", parsed.Errors.Select(e => e.Message)));
    }

    [Fact]
    public async Task The_readme_options_table_has_every_serve_option_with_the_default_help_shows()
    {
        // The README's Configuration table against `serve --help`: every option has a row, and the row's default column
        // holds what --help says the default is (which --help reads from ServerOptions).
        var rows = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "README.md"))
            .Where(l => l.StartsWith("| `--", StringComparison.Ordinal)).Select(l => l.Split(" | ")).ToList();
        var help = await Run("serve", "--help");
        Assert.True(help.ExitCode == 0, help.Output);
        foreach (var option in ServeArguments.Options)
        {
            var row = rows.FirstOrDefault(r => System.Text.RegularExpressions.Regex.IsMatch(r[0], $@"`{option.Name}[ `]"));
            Assert.True(row is not null, $"README: no row for {option.Name}");
            var shown = System.Text.RegularExpressions.Regex.Match(help.StandardOutput, $@"(?m)^  {option.Name} .*\[default: (.*)\]$");
            if (!shown.Success)
            {
                continue;
            }
            foreach (string value in shown.Groups[1].Value.Split('|'))
            {
                Assert.True(row![2].Contains(value, StringComparison.Ordinal), $"README row of {option.Name}: default '{row[2]}', --help says {value}");
            }
        }
    }

    private static ParseResult Parse(string[] arguments) => CommandTree.Parse(CommandTree.Create(TextWriter.Null, TextWriter.Null), arguments);

    private static string Show(object? value) => value switch
    {
        null => "(none)",
        string s => s,
        System.Collections.IEnumerable list => string.Join("|", list.Cast<object>()),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}
