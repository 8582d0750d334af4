using System.Globalization;
using System.Net;

namespace AnycastDns.TestSupport;

/// <summary>kdig, Knot's dig, as a client nobody here wrote: runs it against a server and returns its text output.</summary>
public static class Kdig
{
    public const string ClientPath = "/usr/bin/kdig";

    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Runs <c>kdig @address -p port +time=2 +retry=0 arguments...</c>, e.g. <c>["example.test", "SOA", "+tcp"]</c>.
    /// A DNS failure (NXDOMAIN, timeout) is in the output and exit code, not an exception.
    /// </summary>
    public static Task<ToolResult> QueryAsync(IPEndPoint server, IEnumerable<string> arguments, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        ExternalTool.RequireInstalled(ClientPath, "knot-dnsutils");
        return ExternalTool.RunAsync(ClientPath, Prefix(server).Concat(arguments), RunTimeout, cancellationToken);
    }

    /// <summary>The same, run inside <paramref name="space"/> (<c>ip netns exec</c>): a query from a box of the lab.</summary>
    public static Task<ToolResult> QueryInAsync(Lab.NetworkNamespace space, IPEndPoint server, IEnumerable<string> arguments, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(server);
        ExternalTool.RequireInstalled(ClientPath, "knot-dnsutils");
        return space.RunAsync(ClientPath, Prefix(server).Concat(arguments), RunTimeout, cancellationToken);
    }

    private static string[] Prefix(IPEndPoint server) =>
        ["@" + server.Address, "-p", server.Port.ToString(CultureInfo.InvariantCulture), "+time=2", "+retry=0"];
}
