using System.CommandLine;

namespace AnycastDns.Commands;

/// <summary>
/// <c>anycastdns drain|undrain [--http ip:port]</c>: maintenance on or off for a running server. Drain withdraws the
/// anycast route while the server keeps answering every address (its unicast one for debugging); undrain announces
/// again once the server's self-check passes. Through the status endpoint, default <c>ANYCASTDNS_HTTP</c>.
/// </summary>
internal static class MaintenanceCommand
{
    public static Command Create(bool on, TextWriter output, TextWriter error)
    {
        var command = new Command(on ? "drain" : "undrain", on
            ? "maintenance on: withdraw the anycast route, keep answering"
            : "maintenance off: announce again once the self-check passes")
        {
            StatusEndpointClient.HttpOption,
        };
        command.SetAction(r => Run(on, r.GetValue(StatusEndpointClient.HttpOption), output, error));
        return command;
    }

    public static int Run(bool on, string? http, TextWriter output, TextWriter error)
    {
        string command = on ? "drain" : "undrain";
        if (StatusEndpointClient.Address(command, http, error) is not { } address)
        {
            return 2;
        }
        if (StatusEndpointClient.Post(command, address, on ? "/drain" : "/undrain", error) is not { Success: true } reply)
        {
            return 1;
        }
        output.Write(reply.Body);
        return 0;
    }
}
