namespace AnycastDns.Commands;

/// <summary>
/// How the operator commands (reload, drain, undrain) reach a running server: its status endpoint, given as
/// <c>--http ip:port</c> or <c>ANYCASTDNS_HTTP</c>.
/// </summary>
internal static class StatusEndpointClient
{
    /// <summary>The endpoint address from the arguments or the environment, or null after printing why not.</summary>
    public static string? Address(string command, string[] args, TextWriter error)
    {
        string? address = Environment.GetEnvironmentVariable(ServeCommand.EnvironmentPrefix + "HTTP");
        if (args is ["--http", var given])
        {
            address = given;
        }
        else if (args.Length > 0)
        {
            error.WriteLine($"usage: anycastdns {command} [--http <ip:port>]   (default: $ANYCASTDNS_HTTP)");
            return null;
        }
        if (string.IsNullOrEmpty(address))
        {
            error.WriteLine($"anycastdns {command}: no status endpoint: give --http <ip:port> (the server's --http) or set ANYCASTDNS_HTTP");
            return null;
        }
        return address;
    }

    /// <summary>POSTs to <paramref name="path"/>; returns the status and body, or null after printing why it failed.</summary>
    public static (bool Success, string Body)? Post(string command, string address, string path, TextWriter error)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        try
        {
            using var response = http.PostAsync(new Uri($"http://{address}{path}"), content: null).GetAwaiter().GetResult();
            string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            if (!response.IsSuccessStatusCode)
            {
                error.WriteLine($"anycastdns {command}: {address} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            }
            return (response.IsSuccessStatusCode, body);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException)
        {
            error.WriteLine($"anycastdns {command}: {address}: {e.Message}");
            return null;
        }
    }
}
