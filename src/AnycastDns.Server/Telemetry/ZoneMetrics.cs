using System.Diagnostics.Metrics;
using System.Globalization;
using AnycastDns.Zones;

namespace AnycastDns.Server.Telemetry;

/// <summary>
/// The series kept per zone (serial, records, load time, staleness, signature expiry, load failures, and the secondary
/// zones' timers), defined once and written two ways: straight into the <c>/metrics</c> scrape for every zone served,
/// and as observable instruments on a meter of their own that only the OTLP export reads.
/// </summary>
/// <remarks>
/// Not through the SDK's Prometheus exporter, because the SDK sets aside a point for every attribute set a stream may
/// have, when the stream is made (its cardinality limit, 2,000 by default): thirteen per-zone streams held 1.9 MiB
/// whatever the number of zones, and past 2,000 zones they folded the rest into one overflow series, so a server of
/// 10,000 zones showed the serial of only 2,000 of them. Written here, a scrape has one series per zone at any scale
/// and costs nothing between scrapes. Over OTLP the SDK's limit still applies (the first 2,000 zones; the README says
/// so): a provider with more zones reads <c>/zones</c>.
/// </remarks>
internal sealed class ZoneMetrics
{
    /// <summary>The meter of the per-zone instruments, exported over OTLP only.</summary>
    public const string MeterName = "AnycastDns.Zones";

    private readonly DnsServer _server;
    private readonly Series[] _series;

    public ZoneMetrics(DnsServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        _server = server;
        _series =
        [
            new("anycastdns.zone.serial", "anycastdns_zone_serial", null, false,
                "SOA serial of the zone version served", () => PerFile(f => f.Served?.Serial)),
            new("anycastdns.zone.records", "anycastdns_zone_records", "{record}", false,
                "Records in the zone version served", () => PerFile(f => f.Served?.RecordCount)),
            new("anycastdns.zone.loaded.timestamp", "anycastdns_zone_loaded_timestamp_seconds", "s", false,
                "When the zone version served was loaded, Unix time", () => PerFile(f => f.LoadedAt?.ToUnixTimeMilliseconds() / 1000.0)),
            new("anycastdns.zone.stale", "anycastdns_zone_stale", null, false,
                "1 while the zone file's latest version failed to load and an older one is served", () => PerFile(f => f.Served is null ? null : f.IsStale ? 1 : 0)),
            new("anycastdns.zone.signatures.expiry.timestamp", "anycastdns_zone_signatures_expiry_timestamp_seconds", "s", false,
                "When the first RRSIG of the zone version served expires, Unix time (signed zones only; RFC 4035 §5.3.1)", () => PerFile(f => f.Served?.EarliestSignatureExpiry?.ToUnixTimeSeconds())),
            new("anycastdns.zone.load.failures", "anycastdns_zone_load_failures", "{load}", true,
                "Loads of the zone's file that failed since start (the previous version kept serving)", ZoneFailures),
            new("anycastdns.secondary.serial", "anycastdns_secondary_serial", null, false,
                "SOA serial of the secondary zone's last good version (Secondary:Zones)", () => PerSecondary(z => z.Current?.Serial)),
            new("anycastdns.secondary.expired", "anycastdns_secondary_expired", null, false,
                "1 while the secondary zone is past its SOA EXPIRE without a successful refresh: not served, SERVFAIL (EDE 24)", () => PerSecondary(z => z.Expired ? 1 : 0)),
            new("anycastdns.secondary.refresh.timestamp", "anycastdns_secondary_refresh_timestamp_seconds", "s", false,
                "When a primary last confirmed or gave the secondary zone's version, Unix time (expiry counts from here)", () => PerSecondary(z => z.LastRefresh?.ToUnixTimeSeconds())),
            new("anycastdns.secondary.expiry.timestamp", "anycastdns_secondary_expiry_timestamp_seconds", "s", false,
                "When the secondary zone expires without a successful refresh, Unix time", () => PerSecondary(z => z.ExpiresAt?.ToUnixTimeSeconds())),
            new("anycastdns.secondary.refresh.failures", "anycastdns_secondary_refresh_failures", "{refresh}", true,
                "Refreshes of the secondary zone that failed on every primary since start (the previous version kept serving)", () => PerSecondary(z => z.Failures)),
            new("anycastdns.secondary.catalog.members", "anycastdns_secondary_catalog_members", "{zone}", false,
                "Member zones of the catalog's last correct version (Secondary:Catalogs, RFC 9432); members have the secondary metrics of any zone", () => PerSecondary(z => z.CatalogOptions is null ? null : z.MemberCount)),
        ];
    }

    /// <summary>One value of one zone; exact as a double for every integer these series take (serials, counts, Unix seconds).</summary>
    private readonly record struct ZoneValue(string Zone, double Value);

    /// <param name="Name">The OpenTelemetry name (OTLP).</param>
    /// <param name="PrometheusName">The Prometheus family name, as the SDK's exporter would make it (unit suffix; a
    /// counter's samples add <c>_total</c>).</param>
    /// <param name="Unit">The OpenTelemetry unit; <c>s</c> (seconds) values have decimals, the others are integers.</param>
    private sealed record Series(string Name, string PrometheusName, string? Unit, bool Counter, string Description,
        Func<IEnumerable<ZoneValue>> Values)
    {
        public bool Fractional => Unit == "s";
    }

    /// <summary>The instruments the OTLP export reads, on <paramref name="meter"/> (named <see cref="MeterName"/>).</summary>
    public void Register(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        foreach (var series in _series)
        {
            var values = series.Values;
            switch (series.Counter, series.Fractional)
            {
                case (true, _):
                    meter.CreateObservableCounter(series.Name, () => Measure(values, v => (long)v), series.Unit, series.Description);
                    break;
                case (false, true):
                    meter.CreateObservableGauge(series.Name, () => Measure(values, v => v), series.Unit, series.Description);
                    break;
                case (false, false):
                    meter.CreateObservableGauge(series.Name, () => Measure(values, v => (long)v), series.Unit, series.Description);
                    break;
            }
        }
    }

    private static IEnumerable<Measurement<T>> Measure<T>(Func<IEnumerable<ZoneValue>> values, Func<double, T> convert)
        where T : struct =>
        values().Select(v => new Measurement<T>(convert(v.Value), new KeyValuePair<string, object?>("zone", v.Zone)));

    /// <summary>
    /// Every series in the text exposition format (<paramref name="openMetrics"/>: OpenMetrics 1.0), with the labels the
    /// SDK's exporter gives its own series: scope name and version, then the zone, then the PoP.
    /// </summary>
    public async Task WritePrometheusAsync(TextWriter writer, bool openMetrics, string popId, string? scopeVersion)
    {
        ArgumentNullException.ThrowIfNull(writer);
        string scope = $"otel_scope_name=\"{ServerActivities.Name}\"" + (scopeVersion is null ? "" : $",otel_scope_version=\"{PrometheusLabels.Escape(scopeVersion)}\"");
        string pop = $",pop=\"{PrometheusLabels.Escape(popId)}\"}} ";
        foreach (var series in _series)
        {
            using var values = series.Values().GetEnumerator();
            if (!values.MoveNext())
            {
                continue; // no zone has this one (no secondary zones, no signed zones): no family, as the exporter does
            }
            // Text format 0.0.4 names a counter's family with _total; OpenMetrics names it without and puts _total on
            // the samples (OpenMetrics 1.0, "Counter"), as does the SDK's exporter.
            string family = series.Counter && !openMetrics ? series.PrometheusName + "_total" : series.PrometheusName;
            string sample = series.Counter ? series.PrometheusName + "_total" : series.PrometheusName;
            await writer.WriteAsync($"# TYPE {family} {(series.Counter ? "counter" : "gauge")}\n").ConfigureAwait(false);
            if (openMetrics && series.Fractional)
            {
                await writer.WriteAsync($"# UNIT {family} seconds\n").ConfigureAwait(false);
            }
            await writer.WriteAsync($"# HELP {family} {series.Description}\n").ConfigureAwait(false);
            do
            {
                var value = values.Current;
                string number = series.Fractional
                    ? value.Value.ToString("R", CultureInfo.InvariantCulture)
                    : ((long)value.Value).ToString(CultureInfo.InvariantCulture);
                await writer.WriteAsync($"{sample}{{{scope},zone=\"{PrometheusLabels.Escape(value.Zone)}\"{pop}{number}\n").ConfigureAwait(false);
            }
            while (values.MoveNext());
        }
    }

    /// <summary>One value per zone file that has one (most: the version served).</summary>
    private IEnumerable<ZoneValue> PerFile(Func<ZoneFileState, double?> value)
    {
        foreach (var file in _server.Reloader.LoadedCatalog?.Files ?? [])
        {
            if (value(file) is { } v)
            {
                yield return new(file.Origin.ToString(), v);
            }
        }
    }

    /// <summary>Every zone file, failures or not, so that a rate() over the counter starts from 0, not from its first failure.</summary>
    private IEnumerable<ZoneValue> ZoneFailures()
    {
        var failures = _server.Reloader.Failures;
        var origins = (_server.Reloader.LoadedCatalog?.Files.Select(f => f.Origin.ToString()) ?? []).Union(failures.Keys);
        return origins.Select(o => new ZoneValue(o, failures.GetValueOrDefault(o)));
    }

    /// <summary>One value per secondary zone that has one.</summary>
    private IEnumerable<ZoneValue> PerSecondary(Func<Secondary.SecondaryZone, long?> value)
    {
        foreach (var zone in _server.Secondary?.Zones ?? [])
        {
            if (value(zone) is { } v)
            {
                yield return new(zone.Options.Origin.ToString(), v);
            }
        }
    }
}
