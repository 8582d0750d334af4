using System.Globalization;
using System.Net;
using System.Text.Json;

namespace AnycastDns.Fleet;

/// <summary>
/// A PoP's per-zone list from its status endpoint, <c>GET /zones?from=&lt;origin&gt;&amp;limit=&lt;n&gt;</c>, page by
/// page in canonical order of the origins: what fleet-check compares zone by zone when two PoPs' zones.server
/// summaries differ and the list is too long for one DNS message; and the PoP's secondary zones from the same page.
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
        var zones = new List<ZoneReport>();
        string? from = null;
        for (int page = 0; page < MaxPages; page++)
        {
            var uri = new Uri($"http://{http}/zones?limit={PageSize.ToString(CultureInfo.InvariantCulture)}"
                + (from is null ? "" : "&from=" + Uri.EscapeDataString(from)));
            string? next = null;
            string? problem = await ReadAsync(uri, timeout, cancel, root =>
            {
                foreach (var zone in root.GetProperty("zones").EnumerateArray())
                {
                    if (zone.TryGetProperty("digest", out var digest) && zone.TryGetProperty("serial", out var serial))
                    {
                        zones.Add(new ZoneReport(zone.GetProperty("origin").GetString()!.ToLowerInvariant(),
                            serial.GetUInt32().ToString(CultureInfo.InvariantCulture), digest.GetString()!));
                    }
                }
                next = root.TryGetProperty("next", out var more) ? more.GetString() : null;
            }).ConfigureAwait(false);
            if (problem is not null)
            {
                return (null, problem);
            }
            if (next is null)
            {
                return (zones, null);
            }
            from = next;
        }
        return (null, $"http://{http}/zones: more than {MaxPages} pages");
    }

    /// <summary>
    /// The PoP's secondary zones, from one page of <c>/zones</c> (the <c>secondary</c> array is whole on every page, so
    /// a page of one file zone is enough), or the reason they could not be had in one line.
    /// </summary>
    public static async Task<(List<SecondaryReport>? Zones, string? Problem)> FetchSecondariesAsync(IPEndPoint http, TimeSpan timeout, CancellationToken cancel)
    {
        var zones = new List<SecondaryReport>();
        string? problem = await ReadAsync(new Uri($"http://{http}/zones?limit=1"), timeout, cancel, root =>
        {
            if (!root.TryGetProperty("secondary", out var secondary))
            {
                return;
            }
            foreach (var zone in secondary.EnumerateArray())
            {
                zones.Add(new SecondaryReport(
                    zone.GetProperty("origin").GetString()!.ToLowerInvariant(),
                    zone.GetProperty("status").GetString()!,
                    zone.TryGetProperty("serial", out var serial) ? serial.GetUInt32() : null,
                    zone.TryGetProperty("secondsSinceRefresh", out var since) ? since.GetDouble() : null,
                    zone.TryGetProperty("role", out var role) ? role.GetString() : null,
                    zone.TryGetProperty("catalog", out var catalog) ? catalog.GetString() : null));
            }
        }).ConfigureAwait(false);
        return problem is null ? (zones, null) : (null, problem);
    }

    /// <summary>GETs <paramref name="uri"/> and hands its JSON to <paramref name="read"/>; null, or what went wrong in one line.</summary>
    private static async Task<string?> ReadAsync(Uri uri, TimeSpan timeout, CancellationToken cancel, Action<JsonElement> read)
    {
        using var client = new HttpClient { Timeout = timeout };
        try
        {
            using var response = await client.GetAsync(uri, cancel).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return $"{uri}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
            }
            await using var body = await response.Content.ReadAsStreamAsync(cancel).ConfigureAwait(false);
            using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancel).ConfigureAwait(false);
            read(json.RootElement);
            return null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return $"{uri}: {(e is TaskCanceledException ? $"no answer within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s" : e.Message)}";
        }
    }
}
