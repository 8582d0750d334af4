using System.Diagnostics;
using System.Net;
using AnycastDns.Authority.Transfers;
using AnycastDns.Protocol;
using AnycastDns.Protocol.Tsig;
using AnycastDns.Zones;

namespace AnycastDns.Server.Telemetry;

/// <summary>
/// The spans the server makes: zone loads and reloads, zone transfers out, NOTIFYs, anycast state transitions and
/// drains: the rare events an
/// operator traces across a fleet. Never one per query: at 100k queries a second that is a firehose, not a trace,
/// and the query path must not allocate. Without a listener (no OTLP endpoint) <see cref="ActivitySource.StartActivity(string, ActivityKind)"/>
/// returns null and this costs nothing.
/// </summary>
internal static class ServerActivities
{
    /// <summary>The ActivitySource name, also the Meter name (OpenTelemetry: instrumentation scope = the library).</summary>
    public const string Name = "AnycastDns";

    /// <summary>The server's version (major.minor.patch): the ActivitySource's and the meters' version, the scope version of every series.</summary>
    public static readonly string? Version = typeof(ServerActivities).Assembly.GetName().Version?.ToString(3);

    public static readonly ActivitySource Source = new(Name, Version);

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

    /// <summary>
    /// Starts the span of a zone transfer out (<c>zone.transfer</c>, kind Server), once the request passed TSIG, the
    /// allow list and the concurrency limit: refused and single-message error answers get none. The client's address
    /// and the key's name are only turned into text when someone listens.
    /// </summary>
    public static Activity? StartTransfer(TransferMessages transfer, ReadOnlySpan<byte> clientAddress, TsigKey? key)
    {
        ArgumentNullException.ThrowIfNull(transfer);
        var activity = Source.StartActivity("zone.transfer", ActivityKind.Server);
        if (activity is null)
        {
            return null;
        }
        activity.SetTag("anycastdns.zone", transfer.Zone.Origin.ToString());
        activity.SetTag("anycastdns.zone.serial", (long)transfer.Zone.Serial);
        activity.SetTag("anycastdns.transfer.type", transfer.IsIxfr ? "ixfr" : "axfr");
        activity.SetTag("anycastdns.transfer.kind", transfer.Kind);
        activity.SetTag("anycastdns.transfer.client", clientAddress.Length is 4 or 16 ? new IPAddress(clientAddress).ToString() : "unknown");
        if (key is not null)
        {
            // The key's name says who asked; its secret never leaves the keyring.
            activity.SetTag("anycastdns.transfer.tsig_key", key.Name.ToString());
        }
        return activity;
    }

    /// <summary>
    /// Ends a transfer's span with what was sent: <c>completed</c> when the last message went out, else
    /// <c>aborted</c> with an error status (the client went away, or a record did not fit: <paramref name="error"/>).
    /// </summary>
    public static void EndTransfer(Activity? activity, TransferMessages transfer, long octets, bool completed, string? error)
    {
        if (activity is null)
        {
            return;
        }
        activity.SetTag("anycastdns.transfer.records", transfer.Records);
        activity.SetTag("anycastdns.transfer.messages", transfer.Messages);
        activity.SetTag("anycastdns.transfer.octets", octets);
        activity.SetTag("anycastdns.transfer.outcome", completed ? "completed" : "aborted");
        if (!completed)
        {
            activity.SetStatus(ActivityStatusCode.Error, error ?? "aborted");
        }
        activity.Dispose();
    }

    /// <summary>
    /// Starts the span of one zone's serial on its way to one NOTIFY target (<c>zone.notify</c>, kind Client), from
    /// the reload that brought the serial (its parent, when traced) until acknowledged, rejected, given up or replaced.
    /// It outlives the call: <see cref="Activity.Current"/> is put back, so that what the caller does next is not
    /// traced as part of the NOTIFY.
    /// </summary>
    public static Activity? StartNotify(DnsName zone, uint serial, IPEndPoint target, DnsName? keyName)
    {
        var current = Activity.Current;
        var activity = Source.StartActivity("zone.notify", ActivityKind.Client);
        if (activity is null)
        {
            return null;
        }
        Activity.Current = current;
        activity.SetTag("anycastdns.zone", zone.ToString());
        activity.SetTag("anycastdns.zone.serial", (long)serial);
        activity.SetTag("anycastdns.notify.target", target.ToString());
        if (keyName is not null)
        {
            activity.SetTag("anycastdns.notify.tsig_key", keyName.ToString());
        }
        return activity;
    }

    /// <summary>
    /// Ends a NOTIFY's span: <paramref name="outcome"/> is acknowledged, rejected, failed, superseded (as
    /// <c>anycastdns_notifies_total</c>), removed (the zone went) or stopped (the server did); rejected and failed are
    /// errors, <paramref name="problem"/> saying why.
    /// </summary>
    public static void EndNotify(Activity? activity, int attempts, string outcome, string? problem)
    {
        if (activity is null)
        {
            return;
        }
        activity.SetTag("anycastdns.notify.attempts", attempts);
        activity.SetTag("anycastdns.notify.outcome", outcome);
        if (outcome is "rejected" or "failed")
        {
            activity.SetStatus(ActivityStatusCode.Error, problem ?? outcome);
        }
        // The span ends on another thread than the one that started it: whatever is current there stays current.
        var current = Activity.Current;
        activity.Stop();
        Activity.Current = current;
    }
}
