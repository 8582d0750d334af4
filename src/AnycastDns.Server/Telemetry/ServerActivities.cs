using System.Diagnostics;
using AnycastDns.Zones;

namespace AnycastDns.Server.Telemetry;

/// <summary>
/// The spans the server makes: zone loads and reloads, anycast state transitions and drains: the rare events an
/// operator traces across a fleet. Never one per query: at 100k queries a second that is a firehose, not a trace,
/// and the query path must not allocate. Without a listener (no OTLP endpoint) <see cref="ActivitySource.StartActivity(string, ActivityKind)"/>
/// returns null and this costs nothing.
/// </summary>
public static class ServerActivities
{
    /// <summary>The ActivitySource name, also the Meter name (OpenTelemetry: instrumentation scope = the library).</summary>
    public const string Name = "AnycastDns";

    public static readonly ActivitySource Source = new(Name, typeof(ServerActivities).Assembly.GetName().Version?.ToString(3));

    /// <summary>Starts the span of a load of the zones folder: <c>zones.load</c> at start, <c>zones.reload</c> after.</summary>
    public static Activity? StartZoneLoad(bool initial, string reason, string folder)
    {
        var activity = Source.StartActivity(initial ? "zones.load" : "zones.reload");
        activity?.SetTag("anycastdns.reload.reason", reason);
        activity?.SetTag("anycastdns.zones.folder", folder);
        return activity;
    }

    /// <summary>Records what a load did to each zone file, one event per file, and the totals on the span.</summary>
    public static void ZonesLoaded(Activity? activity, IReadOnlyList<ZoneChange> changes)
    {
        if (activity is null)
        {
            return;
        }
        int failed = 0;
        foreach (var change in changes)
        {
            failed += change.Kind == ZoneChangeKind.Failed ? 1 : 0;
            var tags = new ActivityTagsCollection
            {
                ["anycastdns.zone"] = change.Origin.ToString(),
                ["anycastdns.zone.file"] = change.Path,
                ["anycastdns.zone.change"] = change.Kind.ToString().ToLowerInvariant(),
            };
            if (change.After is { } zone)
            {
                tags["anycastdns.zone.serial"] = (long)zone.Serial;
                tags["anycastdns.zone.records"] = zone.RecordCount;
            }
            activity.AddEvent(new ActivityEvent("zone.load", tags: tags));
        }
        activity.SetTag("anycastdns.zones.changed", changes.Count(c => c.Kind != ZoneChangeKind.Unchanged));
        activity.SetTag("anycastdns.zones.failed", failed);
        if (failed > 0)
        {
            activity.SetStatus(ActivityStatusCode.Error, $"{failed} zone file(s) failed to load");
        }
    }

    /// <summary>One short span per anycast state change, so a fleet's flaps line up on one time axis.</summary>
    public static void Transition(string from, string to, string reason)
    {
        using var activity = Source.StartActivity("anycast.transition");
        activity?.SetTag("anycastdns.anycast.from", from);
        activity?.SetTag("anycastdns.anycast.to", to);
        activity?.SetTag("anycastdns.anycast.reason", reason);
    }

    /// <summary>The drain after a withdrawal on stop: how long the PoP kept answering.</summary>
    public static Activity? StartDrain(TimeSpan limit)
    {
        var activity = Source.StartActivity("anycast.drain");
        activity?.SetTag("anycastdns.drain.limit_seconds", limit.TotalSeconds);
        return activity;
    }
}
