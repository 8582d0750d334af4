using System.Text.Json;
using AnycastDns.Zones;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server.Http;

/// <summary>
/// A small HTTP endpoint for orchestration and operators, on its own address (<c>--http</c>):
/// <c>/healthz</c> (the process lives), <c>/readyz</c> (it answers queries), <c>/zones</c> (per zone: serial, ZONEMD
/// digest, records, load time, errors, as JSON) and <c>POST /reload</c>. Kestrel runs it apart from the DNS path.
/// </summary>
public sealed class StatusEndpoint(ServerOptions options, DnsServer server, ILogger<StatusEndpoint> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Http is not { } address)
        {
            return;
        }
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(address.EndPoint));
        var app = builder.Build();
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", () => server.IsReady
            ? Results.Text("ready\n")
            : Results.Text($"not ready: {server.NotReadyReason}\n", statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapGet("/zones", () => Json(w => WriteZones(w, server.Reloader.Catalog)));
        app.MapPost("/reload", async () =>
        {
            var changes = await server.Reloader.ReloadAsync("POST /reload").ConfigureAwait(false);
            return Json(w => WriteChanges(w, changes));
        });
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
        logger.LogInformation("status endpoint on http://{Address}/ (healthz, readyz, zones, POST reload)", address);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private IResult Json(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            write(writer);
        }
        return Results.Bytes(stream.ToArray(), "application/json");
    }

    private void WriteZones(Utf8JsonWriter w, ZoneCatalog catalog)
    {
        w.WriteStartObject();
        w.WriteString("pop", options.PopId);
        w.WriteStartArray("zones");
        foreach (var file in catalog.Files)
        {
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
        w.WriteEndObject();
    }

    private static void WriteChanges(Utf8JsonWriter w, IReadOnlyList<ZoneChange> changes)
    {
        w.WriteStartObject();
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
