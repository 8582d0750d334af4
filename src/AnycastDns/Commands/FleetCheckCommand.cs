using System.Globalization;
using System.Net;
using AnycastDns.Fleet;
using AnycastDns.Server;

namespace AnycastDns.Commands;

/// <summary>
/// <c>anycastdns fleet-check &lt;pop&gt;... [--file pops.txt] [--timeout seconds]</c>: asks every PoP (by its unicast
/// address) who it is, which zones it serves, at which serial and ZONEMD digest, and with which DNS cookie secret it
/// makes cookies (its fingerprint), prints one table, and exits 1 when any PoP does not answer or differs from the
/// rest. This is what an operator runs after a deploy.
/// </summary>
internal static class FleetCheckCommand
{
    public const string Usage = "usage: anycastdns fleet-check <ip[:port] | [ipv6]:port>... [--file <pops.txt>] [--timeout <seconds>]";

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        List<IPEndPoint> pops;
        TimeSpan timeout;
        try
        {
            (pops, timeout) = Parse(args);
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"anycastdns fleet-check: {e.Message}");
            error.WriteLine(Usage);
            return 2;
        }
        var reports = Task.WhenAll(pops.Select(p => PopReport.ProbeAsync(p, timeout, CancellationToken.None))).GetAwaiter().GetResult();
        return FleetTable.Write(reports, output) ? 0 : 1;
    }

    private static (List<IPEndPoint> Pops, TimeSpan Timeout) Parse(string[] args)
    {
        var pops = new List<IPEndPoint>();
        var timeout = TimeSpan.FromSeconds(2);
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--file" when i + 1 < args.Length:
                    string file = args[++i];
                    if (!File.Exists(file))
                    {
                        throw new ArgumentException($"{file}: no such file");
                    }
                    var lines = File.ReadAllLines(file);
                    for (int n = 0; n < lines.Length; n++)
                    {
                        string line = lines[n].Split('#')[0].Trim();
                        if (line.Length > 0)
                        {
                            pops.Add(Address(line, $"{file}:{n + 1}: "));
                        }
                    }
                    break;
                case "--timeout" when i + 1 < args.Length:
                    if (!double.TryParse(args[++i], NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) || seconds <= 0 || seconds > 60)
                    {
                        throw new ArgumentException($"--timeout '{args[i]}': expected seconds, more than 0 and at most 60");
                    }
                    timeout = TimeSpan.FromSeconds(seconds);
                    break;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal))
                    {
                        throw new ArgumentException($"unknown option or missing value: '{args[i]}'");
                    }
                    pops.Add(Address(args[i], ""));
                    break;
            }
        }
        if (pops.Count == 0)
        {
            throw new ArgumentException("no PoP addresses given");
        }
        return (pops, timeout);
    }

    /// <summary>A PoP's unicast address; port 53 unless given.</summary>
    private static IPEndPoint Address(string text, string where)
    {
        if (IPAddress.TryParse(text, out var bare))
        {
            return new IPEndPoint(bare, 53);
        }
        if (!ListenAddress.TryParse(text, out var address, out string problem))
        {
            throw new ArgumentException(where + problem.Replace("listen address", "PoP address", StringComparison.Ordinal));
        }
        return address.EndPoint;
    }
}
