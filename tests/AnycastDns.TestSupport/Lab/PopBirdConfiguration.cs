using System.Globalization;
using System.Text.RegularExpressions;

namespace AnycastDns.TestSupport.Lab;

/// <summary>
/// deploy/bird/bird.conf, the PoP's BIRD template, as the labs run it: the PoP's values in its <c>define</c> lines, BGP
/// timers of a few seconds (hold 3, keepalive 1, connect retry 1) so that tests are quick, and the log on standard
/// error rather than syslog. Nothing else changes; a template that no longer has one of these lines fails here,
/// naming it.
/// </summary>
public static class PopBirdConfiguration
{
    /// <summary>deploy/bird/bird.conf.</summary>
    public static string TemplatePath => Path.Combine(RepositoryPaths.Root, "deploy", "bird", "bird.conf");

    /// <summary>The template with a PoP's link address (also its router id), AS numbers, upstream and anycast prefix.</summary>
    public static string Render(string localAddress, int localAs, string upstreamAddress, int upstreamAs, string anycastPrefix)
    {
        string text = File.ReadAllText(TemplatePath);
        text = Replace(text, "log syslog all;", "log stderr all;");
        text = Define(text, "ROUTER_ID", localAddress);
        text = Define(text, "LOCAL_ADDRESS", localAddress);
        text = Define(text, "LOCAL_AS", localAs.ToString(CultureInfo.InvariantCulture));
        text = Define(text, "UPSTREAM_ADDRESS", upstreamAddress);
        text = Define(text, "UPSTREAM_AS", upstreamAs.ToString(CultureInfo.InvariantCulture));
        text = Define(text, "ANYCAST_PREFIX", anycastPrefix);
        text = Define(text, "HOLD_TIME", "3");
        text = Define(text, "KEEPALIVE_TIME", "1");
        return Define(text, "CONNECT_RETRY_TIME", "1");
    }

    private static string Replace(string text, string line, string replacement)
    {
        if (!text.Contains(line, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{TemplatePath}: the lab expects the line '{line}'");
        }
        return text.Replace(line, replacement, StringComparison.Ordinal);
    }

    /// <summary>Sets the value of <c>define NAME = value;</c>, which must appear exactly once.</summary>
    private static string Define(string text, string name, string value)
    {
        var define = new Regex($@"^define {name} = [^;]+;", RegexOptions.Multiline | RegexOptions.CultureInvariant);
        int count = define.Count(text);
        if (count != 1)
        {
            throw new InvalidOperationException($"{TemplatePath}: the lab expects one 'define {name} = ...;', found {count}");
        }
        return define.Replace(text, $"define {name} = {value};");
    }
}
