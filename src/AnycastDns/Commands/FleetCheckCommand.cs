using System.CommandLine;
using System.Globalization;
using System.Net;
using AnycastDns.Fleet;
using AnycastDns.Server;

namespace AnycastDns.Commands;

/// <summary>
/// <c>anycastdns fleet-check &lt;pop&gt;... [--file pops.txt] [--timeout seconds] [--http-port port]</c>: asks every
/// PoP (by its unicast address) who it is, which zones it serves (the zones.server summary: their number and one digest
/// over every zone's serial and ZONEMD digest, and the per-zone list when it fits one message), and with which DNS
/// cookie secret it makes cookies (its fingerprint), prints one table, and exits 1 when any PoP does not answer or
/// differs from the rest. When the summaries differ, the per-zone list of each PoP that did not give it over DNS is
/// fetched from its status endpoint's <c>/zones</c>, in pages, so that the table names the zones that differ, among
/// 100,000 as among 3; a PoP whose endpoint is not given or does not answer is compared by its summary alone, and a
/// line says so. Where the status endpoint is given, a second table shows every secondary zone per PoP: the serial it
/// holds, the seconds since a primary last confirmed it, and its status. This is what an operator runs after a deploy.
/// </summary>
internal static class FleetCheckCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var pops = new Argument<string[]>("pop")
        {
            Description = "a PoP's unicast DNS address, ip[:port] or [ipv6]:port, optionally ,http=<ip:port> (its status endpoint)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var file = new Option<string[]>("--file")
        {
            HelpName = "pops.txt",
            Description = "more PoPs, one a line as <pop>; '#' starts a comment; repeatable",
            AllowMultipleArgumentsPerToken = false,
        };
        var timeout = CheckedOptions.Seconds("--timeout", "how long each PoP has to answer", 60, 2);
        var httpPort = new Option<int?>("--http-port")
        {
            HelpName = "port",
            Description = "every PoP's status endpoint is on its DNS address at this port, for the per-zone list (default: none)",
            CustomParser = result =>
            {
                string text = result.Tokens[0].Value;
                if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port < 1 || port > 65535)
                {
                    result.AddError($"--http-port '{text}': expected a port from 1 to 65535");
                }
                return port;
            },
        };
        CommandTree.RejectOptionLikeValues(pops);
        var command = new Command("fleet-check", "compare identity, zone serials and ZONEMD digests across PoPs; exit 1 if any differs")
        {
            pops, file, timeout, httpPort,
        };
        command.SetAction(r => Run(r.GetValue(pops) ?? [], r.GetValue(file) ?? [], TimeSpan.FromSeconds(r.GetValue(timeout)), r.GetValue(httpPort), output, error));
        return command;
    }

    public static int Run(IReadOnlyList<string> arguments, IReadOnlyList<string> files, TimeSpan timeout, int? httpPort, TextWriter output, TextWriter error)
    {
        List<(IPEndPoint Dns, IPEndPoint? Http)> pops;
        try
        {
            pops = Pops(arguments, files, httpPort);
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"anycastdns fleet-check: {e.Message}");
            return 2;
        }
        var reports = Task.WhenAll(pops.Select(p => PopReport.ProbeAsync(p.Dns, p.Http, timeout, CancellationToken.None))).GetAwaiter().GetResult();
        // Where the status endpoint is known: each secondary zone's serial and the time since its last refresh.
        reports = Task.WhenAll(reports.Select(r => WithSecondariesAsync(r, timeout))).GetAwaiter().GetResult();
        if (reports.Where(r => r.Answered).Select(r => r.Summary!.Digest).Distinct(StringComparer.Ordinal).Count() > 1)
        {
            // The summaries differ: which zones? Every PoP's list, from /zones where zones.server could not hold it.
            // A page of 10,000 zones may take longer than one DNS answer: the timeout per page is at least 10 s.
            var pageTimeout = TimeSpan.FromSeconds(Math.Max(10, timeout.TotalSeconds));
            reports = Task.WhenAll(reports.Select(r => WithZoneListAsync(r, pageTimeout))).GetAwaiter().GetResult();
        }
        return FleetTable.Write(reports, output) ? 0 : 1;
    }

    private static async Task<PopReport> WithSecondariesAsync(PopReport report, TimeSpan timeout)
    {
        if (!report.Answered || report.Http is not { } http)
        {
            return report;
        }
        var (zones, problem) = await ZoneList.FetchSecondariesAsync(http, timeout, CancellationToken.None).ConfigureAwait(false);
        return zones is null
            ? report with { SecondariesNote = "cannot fetch its secondary zones: " + problem }
            : report with { Secondaries = zones };
    }

    private static async Task<PopReport> WithZoneListAsync(PopReport report, TimeSpan timeout)
    {
        if (!report.Answered || report.Zones is not null)
        {
            return report;
        }
        if (report.Http is not { } http)
        {
            return report with { ZonesNote = "its zones.server holds no per-zone list and no status endpoint was given (--http-port, or ,http=)" };
        }
        var (zones, problem) = await ZoneList.FetchAsync(http, timeout, CancellationToken.None).ConfigureAwait(false);
        if (zones is null)
        {
            return report with { ZonesNote = "cannot fetch its per-zone list: " + problem };
        }
        var fetched = ZoneSummary.Of(zones);
        return report with
        {
            Zones = zones,
            // The files the endpoint lists may not be what zones.server summarised (a reload in between): say so.
            ZonesNote = fetched == report.Summary ? null : $"its /zones ({fetched.Count} zones, {FleetTable.Short(fetched.Digest)}) is not what its zones.server summarised (a reload in between?)",
        };
    }

    /// <summary>The PoPs given as arguments, then those in the <paramref name="files"/>; throws <see cref="ArgumentException"/> naming a bad one.</summary>
    private static List<(IPEndPoint Dns, IPEndPoint? Http)> Pops(IReadOnlyList<string> arguments, IReadOnlyList<string> files, int? httpPort)
    {
        var specs = arguments.Select(a => (Text: a, Where: "")).ToList();
        foreach (string file in files)
        {
            if (!File.Exists(file))
            {
                throw new ArgumentException($"--file {file}: no such file");
            }
            var lines = File.ReadAllLines(file);
            for (int n = 0; n < lines.Length; n++)
            {
                string line = lines[n].Split('#')[0].Trim();
                if (line.Length > 0)
                {
                    specs.Add((line, $"{file}:{n + 1}: "));
                }
            }
        }
        if (specs.Count == 0)
        {
            throw new ArgumentException("no PoP addresses given (see anycastdns fleet-check --help)");
        }
        var pops = new List<(IPEndPoint, IPEndPoint?)>(specs.Count);
        foreach (var (text, where) in specs)
        {
            pops.Add(Pop(text, where, httpPort));
        }
        return pops;
    }

    /// <summary>
    /// A PoP: its unicast DNS address, then optionally <c>,http=&lt;ip:port&gt;</c>, its status endpoint; without that,
    /// <c>--http-port</c> on the DNS address, or none.
    /// </summary>
    private static (IPEndPoint Dns, IPEndPoint? Http) Pop(string text, string where, int? httpPort)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        var dns = Address(parts[0], 53, where);
        IPEndPoint? http = httpPort is { } port ? new IPEndPoint(dns.Address, port) : null;
        if (parts.Length > 2 || (parts.Length == 2 && !parts[1].StartsWith("http=", StringComparison.Ordinal)))
        {
            throw new ArgumentException($"{where}'{text}': expected <address>[,http=<ip:port>]");
        }
        if (parts.Length == 2)
        {
            http = Address(parts[1]["http=".Length..], null, where + "http=");
        }
        return (dns, http);
    }

    /// <summary>An address with a port, or a bare IP address and <paramref name="defaultPort"/> when there is one.</summary>
    private static IPEndPoint Address(string text, int? defaultPort, string where)
    {
        if (defaultPort is { } port && IPAddress.TryParse(text, out var bare))
        {
            return new IPEndPoint(bare, port);
        }
        if (!ListenAddress.TryParse(text, out var address, out string problem))
        {
            throw new ArgumentException(where + problem.Replace("listen address", "PoP address", StringComparison.Ordinal));
        }
        return address.EndPoint;
    }
}
