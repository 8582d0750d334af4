using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using AnycastDns.Server;

namespace AnycastDns.Commands;

/// <summary>
/// Typed options that check their value while the command line is parsed, so that a bad value is a parse error: one
/// line naming the option, exit code 2, before the command runs.
/// </summary>
internal static class CheckedOptions
{
    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static Option<int> WholeNumber(string name, string description, int min, int max, int fallback) => new(name)
    {
        HelpName = "n",
        Description = $"{description} ({min}-{max})",
        DefaultValueFactory = _ => fallback,
        CustomParser = result =>
        {
            string text = result.Tokens[0].Value;
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            {
                result.AddError($"{name} '{text}': expected a whole number from {min} to {max}");
            }
            return n;
        },
    };

    /// <summary>Seconds, more than 0 and at most <paramref name="max"/>.</summary>
    public static Option<double> Seconds(string name, string description, double max, double fallback) => new(name)
    {
        HelpName = "seconds",
        Description = description,
        DefaultValueFactory = _ => fallback,
        CustomParser = result =>
        {
            string text = result.Tokens[0].Value;
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) || !(seconds > 0) || seconds > max)
            {
                result.AddError($"{name} '{text}': expected seconds, more than 0 and at most {max.ToString(CultureInfo.InvariantCulture)}");
            }
            return seconds;
        },
    };

    /// <summary>An address and port, ip:port or [ipv6]:port.</summary>
    public static Option<IPEndPoint> EndPoint(string name, string description) => new(name)
    {
        HelpName = "ip:port",
        Description = description,
        CustomParser = result =>
        {
            string text = result.Tokens[0].Value;
            if (!ListenAddress.TryParse(text, out var address, out string problem))
            {
                result.AddError($"{name}: {problem}");
                return null;
            }
            return address.EndPoint;
        },
    };
}
