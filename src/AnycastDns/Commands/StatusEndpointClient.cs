using System.CommandLine;

namespace AnycastDns.Commands;

/// <summary>
/// How the operator commands (reload, drain, undrain) reach a running server: its status endpoint, given as
/// <c>--http ip:port</c> or <c>ANYCASTDNS_HTTP</c>.
/// </summary>
internal static class StatusEndpointClient
{
    /// <summary>The <c>--http</c> option of reload, drain and undrain: declared once, added to each.</summary>
    public static readonly Option<string> HttpOption = new("--http")
    {
        HelpName = "ip:port",
        Description = $"the server's status endpoint (its --http) (default: ${ServeCommand.EnvironmentPrefix}HTTP)",
    };

    /// <summary>The endpoint address from the option or the environment, or null after printing why not.</summary>
    public static string? Address(string command, string? given, TextWriter error)
    {
        string? address = given ?? Environment.GetEnvironmentVariable(ServeCommand.EnvironmentPrefix + "HTTP");
        if (string.IsNullOrEmpty(address))
        {
            error.WriteLine($"anycastdns {command}: no status endpoint: give --http <ip:port> (the server's --http) or set {ServeCommand.EnvironmentPrefix}HTTP");
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
