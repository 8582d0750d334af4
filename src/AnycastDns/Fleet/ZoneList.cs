using System.Globalization;
using System.Net;
using System.Text.Json;

namespace AnycastDns.Fleet;

/// <summary>
/// A PoP's per-zone list from its status endpoint, <c>GET /zones?from=&lt;origin&gt;&amp;limit=&lt;n&gt;</c>, page by
/// page in canonical order of the origins: what fleet-check compares zone by zone when two PoPs' zones.server
/// summaries differ and the list is too long for one DNS message.
/// </summary>
internal static class ZoneList
{
    /// <summary>Zones per page: about 5 MB of JSON, 0.14 s to make on the test VM (the whole list of 100,000 would be about 48 MB).</summary>
    public const int PageSize = 10_000;

    /// <summary>At most this many pages (10 million zones): the loop ends even if a server keeps saying there is more.</summary>
    private const int MaxPages = 1_000;

    /// <summary>
    /// The zones the PoP serves (files that failed to load have no serial and are left out, as zones.server leaves
    /// them out), or the reason it could not be had in one line.
    /// </summary>
    public static async Task<(List<ZoneReport>? Zones, string? Problem)> FetchAsync(IPEndPoint http, TimeSpan timeout, CancellationToken cancel)
    {
        using var client = new HttpClient { Timeout = timeout };
        var zones = new List<ZoneReport>();
        string? from = null;
        for (int page = 0; page < MaxPages; page++)
        {
            var uri = new Uri($"http://{http}/zones?limit={PageSize.ToString(CultureInfo.InvariantCulture)}"
                + (from is null ? "" : "&from=" + Uri.EscapeDataString(from)));
            try
            {
                using var response = await client.GetAsync(uri, cancel).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    return (null, $"{uri}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
                }
                await using var body = await response.Content.ReadAsStreamAsync(cancel).ConfigureAwait(false);
                using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancel).ConfigureAwait(false);
                foreach (var zone in json.RootElement.GetProperty("zones").EnumerateArray())
                {
                    if (zone.TryGetProperty("digest", out var digest) && zone.TryGetProperty("serial", out var serial))
                    {
                        zones.Add(new ZoneReport(zone.GetProperty("origin").GetString()!.ToLowerInvariant(),
                            serial.GetUInt32().ToString(CultureInfo.InvariantCulture), digest.GetString()!));
                    }
                }
                if (!json.RootElement.TryGetProperty("next", out var next))
                {
                    return (zones, null);
                }
                from = next.GetString();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                string why = e is TaskCanceledException ? $"no answer within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s" : e.Message;
                return (null, $"{uri}: {why}");
            }
        }
        return (null, $"http://{http}/zones: more than {MaxPages} pages");
    }
}
