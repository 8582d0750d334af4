using System.Text.Json;
using AnycastDns.Zones;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace AnycastDns.Server.Http;

/// <summary>
/// A small HTTP endpoint for orchestration and operators, on its own address (<c>--http</c>):
/// <c>/healthz</c> (the process lives), <c>/readyz</c> (it answers and is announced), <c>/state</c> (the anycast state
/// machine and the cookie secrets' fingerprint, JSON), <c>/zones</c> (per zone: serial, ZONEMD digest, records, load time, errors, JSON),
/// <c>POST /reload</c>, <c>POST /drain</c> and <c>POST /undrain</c> (maintenance on and off), and <c>/metrics</c>
/// (Prometheus text, from the OpenTelemetry SDK's Prometheus exporter). Kestrel runs it apart from the DNS path.
/// </summary>
internal sealed class StatusEndpoint(ServerOptions options, DnsServer server, Anycast.AnycastLifecycle lifecycle, IServiceProvider services, ILogger<StatusEndpoint> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    // Without --http nothing here runs: the methods that name Kestrel's and ASP.NET Core's types are reached only when
    // there is an endpoint, so the runtime never loads those assemblies (about 3 MiB resident) into a server that has
    // none.
    public Task StartAsync(CancellationToken cancellationToken) =>
        options.Http is { } address ? StartEndpointAsync(address, cancellationToken) : Task.CompletedTask;

    private async Task StartEndpointAsync(ListenAddress address, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(address.EndPoint));
        var app = builder.Build();
        // The exporter lives in the server's own meter provider; this small app only serves its scrapes.
        if (services.GetService(typeof(MeterProvider)) is MeterProvider meters)
        {
            var scrape = (Telemetry.PrometheusScrape)services.GetService(typeof(Telemetry.PrometheusScrape))!;
            app.UseOpenTelemetryPrometheusScrapingEndpoint(meters, predicate: null, path: "/metrics",
                configureBranchedPipeline: branch => branch.Use((context, next) => scrape.AppendAsync(context, () => next(context))), optionsName: null);
        }
        else
        {
            app.MapGet("/metrics", () => Results.Text("metrics are off (Metrics:Enabled is false)\n", statusCode: StatusCodes.Status404NotFound));
        }
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", () =>
        {
            // Ready means serving and announced: wanting the route is not enough while the BGP speaker cannot be reached.
            var state = lifecycle.Current;
            string? why = server.NotReadyReason
                ?? (state.State != Anycast.ServingState.Announced ? $"{state.State.ToString().ToLowerInvariant()}: {state.Reason}" : null)
                ?? (lifecycle.SpeakerError is { } error ? $"cannot announce: {error}" : null);
            return why is null
                ? Results.Text("ready: announced\n")
                : Results.Text($"not ready: {why}\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        });
        app.MapGet("/state", () => Json(WriteState));
        app.MapGet("/zones", (HttpRequest request) =>
        {
            if (!ZonesPage.TryParse(request.Query["from"], request.Query["limit"], out var page, out string? problem))
            {
                return Results.Text($"/zones: {problem}\n", statusCode: StatusCodes.Status400BadRequest);
            }
            return Json(w => WriteZones(w, server.Reloader.Catalog, page));
        });
        if (!options.HttpControl)
        {
            // A read-only endpoint: what it can be asked to do, it refuses, saying how else to do it.
            foreach (string command in (string[])["/reload", "/drain", "/undrain"])
            {
                app.MapPost(command, () => Results.Text(
                    "control over HTTP is off (HttpControl is false): reload with SIGHUP, drain with the maintenance file\n",
                    statusCode: StatusCodes.Status403Forbidden));
            }
            await StartAppAsync(app, address, cancellationToken).ConfigureAwait(false);
            logger.LogInformation("status endpoint on http://{Address}/ (healthz, readyz, state, zones, metrics; read-only)", address);
            return;
        }
        app.MapPost("/drain", () =>
        {
            lifecycle.SetMaintenance(true);
            return Results.Text("maintenance on: withdrawing, still answering\n");
        });
        app.MapPost("/undrain", () =>
        {
            lifecycle.SetMaintenance(false);
            return Results.Text(options.MaintenanceFile is { } file && File.Exists(file)
                ? $"maintenance off, but {file} exists: still withdrawn\n"
                : "maintenance off: announcing again once the self-check passes\n");
        });
        app.MapPost("/reload", async () =>
        {
            var changes = await server.Reloader.ReloadAsync("POST /reload").ConfigureAwait(false);
            var cookies = server.Cookies.Reload("POST /reload");
            var keys = server.TsigKeysFile.Reload("POST /reload");
            return Json(w => WriteChanges(w, changes, cookies, server.Cookies, keys, server.TsigKeysFile.Error));
        });
        await StartAppAsync(app, address, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("status endpoint on http://{Address}/ (healthz, readyz, state, zones, metrics, POST reload, drain, undrain)", address);
    }

    private async Task StartAppAsync(WebApplication app, ListenAddress address, CancellationToken cancellationToken)
    {
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new ConfigurationException($"cannot listen on {address}/http: {e.Message}", e);
        }
        _app = app;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _app is null ? Task.CompletedTask : StopEndpointAsync(cancellationToken);

    public ValueTask DisposeAsync() => _app is null ? ValueTask.CompletedTask : DisposeEndpointAsync();

    private Task StopEndpointAsync(CancellationToken cancellationToken) => _app!.StopAsync(cancellationToken);

    private ValueTask DisposeEndpointAsync() => _app!.DisposeAsync();

    private IResult Json(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            write(writer);
        }
        return Results.Bytes(stream.ToArray(), "application/json");
    }

    private void WriteState(Utf8JsonWriter w)
    {
        var current = lifecycle.Current;
        w.WriteStartObject();
        w.WriteString("pop", options.PopId);
        w.WriteString("state", current.State.ToString().ToLowerInvariant());
        w.WriteString("since", current.At);
        w.WriteString("reason", current.Reason);
        w.WriteBoolean("maintenance", lifecycle.Maintenance);
        w.WriteString("speaker", lifecycle.Speaker);
        w.WriteBoolean("speakerReachable", lifecycle.SpeakerError is null);
        if (lifecycle.SpeakerError is { } error)
        {
            w.WriteString("speakerError", error);
        }
        if (lifecycle.Problem is { } problem)
        {
            w.WriteString("problem", problem);
        }
        WriteCookies(w);
        WriteTransfers(w);
        WriteSecondary(w);
        w.WriteStartObject("queries");
        foreach (var address in server.Addresses.Select(a => a.EndPoint.Address).Distinct())
        {
            w.WriteNumber(address.ToString(), server.QueriesOn(address));
        }
        w.WriteEndObject();
        w.WriteStartArray("transitions");
        foreach (var t in lifecycle.Transitions)
        {
            w.WriteStartObject();
            w.WriteString("state", t.State.ToString().ToLowerInvariant());
            w.WriteString("at", t.At);
            w.WriteString("reason", t.Reason);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>
    /// The cookie secrets: the fingerprint of the one making cookies (never a secret), those of all that verify, where
    /// they come from, and the problem of the latest read of the file, while the previous secrets stay in force.
    /// </summary>
    private void WriteCookies(Utf8JsonWriter w)
    {
        var cookies = server.Cookies;
        var secrets = cookies.Holder.Current;
        w.WriteStartObject("cookies");
        w.WriteString("fingerprint", secrets.Fingerprint);
        w.WriteStartArray("fingerprints");
        foreach (string fingerprint in secrets.Fingerprints)
        {
            w.WriteStringValue(fingerprint);
        }
        w.WriteEndArray();
        w.WriteString("source", cookies.Source);
        w.WriteString("loadedAt", cookies.LoadedAt);
        if (cookies.Error is { } error)
        {
            w.WriteString("error", error);
        }
        w.WriteEndObject();
    }

    /// <summary>Who may transfer, the TSIG keys by name and algorithm (never a secret), and the transfers running.</summary>
    private void WriteTransfers(Utf8JsonWriter w)
    {
        var transfers = options.Transfers;
        w.WriteStartObject("transfers");
        w.WriteStartArray("allow");
        foreach (var prefix in transfers.Allow.Prefixes)
        {
            w.WriteStringValue(prefix.ToString());
        }
        foreach (var key in transfers.Allow.Keys)
        {
            w.WriteStringValue(Transfers.TransferAllowList.KeyPrefix + key);
        }
        w.WriteEndArray();
        w.WriteStartArray("keys");
        foreach (var key in server.TsigKeys?.Keys ?? [])
        {
            w.WriteStartObject();
            w.WriteString("name", key.Name.ToString());
            w.WriteString("algorithm", Protocol.Tsig.TsigAlgorithms.Name(key.Algorithm));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (server.TsigKeysFile.Error is { } keysError)
        {
            w.WriteString("keysError", keysError);
        }
        w.WriteStartArray("notify");
        foreach (var target in transfers.Notify)
        {
            w.WriteStringValue(target.ToString());
        }
        w.WriteEndArray();
        w.WriteNumber("notifyPending", server.Notifier?.Pending ?? 0);
        w.WriteNumber("maxConcurrent", transfers.MaxConcurrent);
        w.WriteNumber("running", server.Transfers?.Running ?? 0);
        w.WriteEndObject();
    }

    /// <summary>
    /// The zone files of <paramref name="catalog"/> in canonical order of their origins (RFC 4034 §6.1), the order the
    /// summary digest covers them in and pages follow; sorted once per catalog.
    /// </summary>
    private static ZoneFileState[] Sorted(ZoneCatalog catalog) => SortedFiles.GetValue(catalog, static c =>
    {
        var files = c.Files.ToArray();
        Array.Sort(files, static (a, b) => a.Origin.CompareTo(b.Origin));
        return files;
    });

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ZoneCatalog, ZoneFileState[]> SortedFiles = new();

    private void WriteZones(Utf8JsonWriter w, ZoneCatalog catalog, ZonesPage page)
    {
        var files = Sorted(catalog);
        var identity = Authority.ZoneSetIdentity.Of(catalog.ZoneSet);
        int start = 0;
        if (page.From is { } from)
        {
            // The first file whose origin sorts after 'from': a binary search over the sorted files.
            int low = 0, high = files.Length;
            while (low < high)
            {
                int middle = (low + high) >>> 1;
                if (files[middle].Origin.CompareTo(from) <= 0)
                {
                    low = middle + 1;
                }
                else
                {
                    high = middle;
                }
            }
            start = low;
        }
        int end = (int)Math.Min(files.Length, (long)start + page.Limit);
        w.WriteStartObject();
        w.WriteString("pop", options.PopId);
        // What CH TXT zones.server says first: the number of zones served and the digest over all of them.
        w.WriteStartObject("summary");
        w.WriteNumber("zones", identity.Count);
        w.WriteString("digest", identity.DigestHex);
        w.WriteEndObject();
        w.WriteNumber("files", files.Length);
        if (end < files.Length)
        {
            // The next page starts after the last origin of this one.
            w.WriteString("next", files[end - 1].Origin.ToString());
        }
        w.WriteStartArray("zones");
        for (int i = start; i < end; i++)
        {
            var file = files[i];
            w.WriteStartObject();
            w.WriteString("origin", file.Origin.ToString());
            w.WriteString("file", file.Path);
            // ok: the file as it is now is served; stale: it has errors, an older version is served; failed: nothing served.
            w.WriteString("status", !file.IsStale ? "ok" : file.Served is not null ? "stale" : "failed");
            if (file.Served is { } zone)
            {
                w.WriteNumber("serial", zone.Serial);
                w.WriteString("zonemd", $"{zone.Serial} 1 1 {zone.DigestHex}");
                w.WriteString("digest", zone.DigestHex);
                w.WriteNumber("records", zone.RecordCount);
            }
            if (file.LoadedAt is { } at)
            {
                w.WriteString("loadedAt", at);
            }
            w.WriteStartArray("diagnostics");
            foreach (var d in file.LastResult.Diagnostics)
            {
                w.WriteStringValue(d.ToString());
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        WriteSecondary(w);
        w.WriteEndObject();
    }

    /// <summary>Each secondary zone: serial, where it came from, when last refreshed, when it expires, the last problem.</summary>
    private void WriteSecondary(Utf8JsonWriter w)
    {
        w.WriteStartArray("secondary");
        if (server.Secondary is { } secondary)
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var zone in secondary.Zones)
            {
                w.WriteStartObject();
                w.WriteString("origin", zone.Options.Origin.ToString());
                if (zone.CatalogOptions is not null)
                {
                    // A catalog (RFC 9432): transferred, not served; how many members its last correct version gave.
                    w.WriteString("role", "catalog");
                    w.WriteNumber("members", zone.MemberCount);
                    if (zone.CatalogProblem is { } problem)
                    {
                        w.WriteString("catalogProblem", problem);
                    }
                }
                else if (zone.Catalog is { } catalog)
                {
                    w.WriteString("role", "member");
                    w.WriteString("catalog", catalog.ToString());
                    w.WriteString("memberId", zone.Member?.Id);
                    if (zone.Member?.Group is { } group)
                    {
                        w.WriteString("group", group);
                    }
                    if (zone.Member?.ChangeOfOwnership is { } coo)
                    {
                        w.WriteString("coo", coo.ToString());
                    }
                }
                else
                {
                    w.WriteString("role", "zone");
                }
                // ok: current; failing: the last refresh failed, the previous version serves; expired: not served; none: never transferred.
                w.WriteString("status", zone.Current is null ? "none" : zone.Expired ? "expired" : zone.LastError is not null ? "failing" : "ok");
                w.WriteStartArray("primaries");
                foreach (var primary in zone.Options.Primaries)
                {
                    w.WriteStringValue(primary.ToString());
                }
                w.WriteEndArray();
                if (zone.Current is { } current)
                {
                    w.WriteNumber("serial", current.Serial);
                    w.WriteNumber("records", current.RecordCount);
                    w.WriteString("source", zone.Source);
                }
                if (zone.LastRefresh is { } refreshed)
                {
                    w.WriteString("lastRefresh", refreshed);
                    w.WriteNumber("secondsSinceRefresh", Math.Round((now - refreshed).TotalSeconds, 1));
                }
                if (zone.ExpiresAt is { } expires)
                {
                    w.WriteString("expiresAt", expires);
                    w.WriteNumber("secondsToExpiry", zone.SecondsToExpiry(now));
                }
                w.WriteNumber("failures", zone.Failures);
                if (zone.LastError is { } error)
                {
                    w.WriteString("lastError", error);
                }
                w.WriteEndObject();
            }
        }
        w.WriteEndArray();
    }

    private static void WriteChanges(Utf8JsonWriter w, IReadOnlyList<ZoneChange> changes, Cookies.CookieSecretsChange cookies, Cookies.CookieSecretReloader secrets, Transfers.TsigKeysChange keys, string? keysError)
    {
        w.WriteStartObject();
        w.WriteStartObject("tsigKeys");
        w.WriteString("change", keys == Transfers.TsigKeysChange.NoFile ? "none" : keys.ToString().ToLowerInvariant());
        if (keys == Transfers.TsigKeysChange.Failed)
        {
            w.WriteString("error", keysError);
        }
        w.WriteEndObject();
        w.WriteStartObject("cookies");
        w.WriteString("change", cookies switch
        {
            Cookies.CookieSecretsChange.NoFile => "none",
            _ => cookies.ToString().ToLowerInvariant(),
        });
        w.WriteString("fingerprint", secrets.Holder.Current.Fingerprint);
        w.WriteString("source", secrets.Source);
        if (cookies == Cookies.CookieSecretsChange.Failed)
        {
            w.WriteString("error", secrets.Error);
        }
        w.WriteEndObject();
        w.WriteStartArray("changes");
        foreach (var change in changes)
        {
            w.WriteStartObject();
            w.WriteString("origin", change.Origin.ToString());
            w.WriteString("file", change.Path);
            w.WriteString("change", change.Kind.ToString().ToLowerInvariant());
            if (change.After is { } after)
            {
                w.WriteNumber("serial", after.Serial);
            }
            w.WriteStartArray("messages");
            foreach (var m in change.Messages)
            {
                w.WriteStringValue(m);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
