using System.Text.Json;

namespace AnycastDns.Commands;

/// <summary>
/// <c>anycastdns reload [--http ip:port]</c>: asks a running server, through its status endpoint, to re-read its zones
/// now, and prints what changed. The address defaults to <c>ANYCASTDNS_HTTP</c>. Exit 0 when every changed zone loaded,
/// 1 when one failed (the server keeps its previous version) or the server could not be reached. Sending SIGHUP to the
/// server does the same without the report.
/// </summary>
internal static class ReloadCommand
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        string? address = Environment.GetEnvironmentVariable(ServeCommand.EnvironmentPrefix + "HTTP");
        if (args is ["--http", var given])
        {
            address = given;
        }
        else if (args.Length > 0)
        {
            error.WriteLine("usage: anycastdns reload [--http <ip:port>]   (default: $ANYCASTDNS_HTTP)");
            return 2;
        }
        if (string.IsNullOrEmpty(address))
        {
            error.WriteLine("anycastdns reload: no status endpoint: give --http <ip:port> (the server's --http) or set ANYCASTDNS_HTTP");
            return 2;
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        try
        {
            using var response = http.PostAsync(new Uri($"http://{address}/reload"), content: null).GetAwaiter().GetResult();
            string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            if (!response.IsSuccessStatusCode)
            {
                error.WriteLine($"anycastdns reload: {address} answered {(int)response.StatusCode} {response.ReasonPhrase}");
                return 1;
            }
            return Report(body, output, error);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException or JsonException)
        {
            error.WriteLine($"anycastdns reload: {address}: {e.Message}");
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
        return failed ? 1 : 0;
    }
}
