using System.CommandLine;
using System.Text.Json;

namespace AnycastDns.Commands;

/// <summary>
/// <c>anycastdns reload [--http ip:port]</c>: asks a running server, through its status endpoint, to re-read its zones
/// and its cookie secret file now, and prints what changed. The address defaults to <c>ANYCASTDNS_HTTP</c>. Exit 0 when
/// every changed zone loaded, 1 when one failed or the secret file has a problem (the server keeps the previous version)
/// or the server could not be reached. Sending SIGHUP to the server does the same without the report.
/// </summary>
internal static class ReloadCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("reload", "make a running server re-read its zones and cookie secret file now, and print what changed")
        {
            StatusEndpointClient.HttpOption,
        };
        command.SetAction(r => Run(r.GetValue(StatusEndpointClient.HttpOption), output, error));
        return command;
    }

    public static int Run(string? http, TextWriter output, TextWriter error)
    {
        if (StatusEndpointClient.Address("reload", http, error) is not { } address)
        {
            return 2;
        }
        if (StatusEndpointClient.Post("reload", address, "/reload", error) is not { Success: true } reply)
        {
            return 1;
        }
        try
        {
            return Report(reply.Body, output, error);
        }
        catch (JsonException e)
        {
            error.WriteLine($"anycastdns reload: {address}: unexpected answer: {e.Message}");
            return 1;
        }
    }

    private static int Report(string body, TextWriter output, TextWriter error)
    {
        using var json = JsonDocument.Parse(body);
        bool failed = false;
        int count = 0;
        foreach (var change in json.RootElement.GetProperty("changes").EnumerateArray())
        {
            string kind = change.GetProperty("change").GetString()!;
            if (kind == "unchanged")
            {
                continue;
            }
            count++;
            failed |= kind == "failed";
            string serial = change.TryGetProperty("serial", out var s) ? $" serial {s.GetUInt32()}" : "";
            output.WriteLine($"{change.GetProperty("origin").GetString()}\t{kind}{serial}\t{change.GetProperty("file").GetString()}");
            foreach (var message in change.GetProperty("messages").EnumerateArray())
            {
                (kind == "failed" ? error : output).WriteLine("  " + message.GetString());
            }
        }
        if (count == 0)
        {
            output.WriteLine("no zone changed");
        }
        // Servers from before cookies say nothing about them.
        if (json.RootElement.TryGetProperty("cookies", out var cookies))
        {
            string kind = cookies.GetProperty("change").GetString()!;
            string fingerprint = cookies.GetProperty("fingerprint").GetString()!;
            if (kind == "failed")
            {
                failed = true;
                error.WriteLine($"cookie secrets not reloaded: {cookies.GetProperty("error").GetString()}; still making cookies with {fingerprint}");
            }
            else if (kind == "changed")
            {
                output.WriteLine($"cookie secrets\tchanged, making cookies with {fingerprint}\t{cookies.GetProperty("source").GetString()}");
            }
        }
        return failed ? 1 : 0;
    }
}
