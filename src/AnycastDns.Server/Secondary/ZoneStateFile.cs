using System.Globalization;
using System.Text;
using AnycastDns.Protocol;
using AnycastDns.Protocol.Presentation;
using AnycastDns.Zones;

namespace AnycastDns.Server.Secondary;

/// <summary>
/// A secondary zone kept across restarts in <c>Secondary:StateFolder</c>: the last transferred version as a zone file
/// (<c>&lt;origin&gt;zone</c>) and its timers (<c>&lt;origin&gt;timers</c>: the time of the last successful refresh,
/// from which expiry counts, RFC 1034 §4.3.5). Each is written to a temporary file and renamed over the old one, so a
/// crash leaves the previous file or the new one, never half of one.
/// </summary>
internal static class ZoneStateFile
{
    /// <summary>The file name stem of a zone: its origin as text (the root is "root.").</summary>
    private static string Stem(DnsName origin) => origin.IsRoot ? "root." : origin.ToString().ToLowerInvariant();

    public static string ZonePath(string folder, DnsName origin) => Path.Combine(folder, Stem(origin) + "zone");

    public static string TimersPath(string folder, DnsName origin) => Path.Combine(folder, Stem(origin) + "timers");

    /// <summary>A catalog's last version that was processed (RFC 9432 §5.1: after a restart its members are served even when the kept version is broken).</summary>
    public static string CatalogPath(string folder, DnsName origin) => Path.Combine(folder, Stem(origin) + "catalog");

    /// <summary>Writes the zone (SOA first) as a zone file.</summary>
    public static void SaveZone(string folder, Zone zone) => SaveZoneAs(ZonePath(folder, zone?.Origin!), zone!);

    /// <summary>Writes a catalog version that was processed, the one whose members a restart serves.</summary>
    public static void SaveCatalog(string folder, Zone catalog) => SaveZoneAs(CatalogPath(folder, catalog?.Origin!), catalog!);

    /// <summary>The catalog's last processed version, or null (none kept, or it does not load).</summary>
    public static Zone? LoadCatalog(string folder, DnsName origin, ZoneLoadOptions options)
    {
        string path = CatalogPath(folder, origin);
        return File.Exists(path) ? ZoneLoader.LoadFile(path, origin, options).Zone : null;
    }

    /// <summary>
    /// Writes the zone record by record through a buffer, each owner's text made once: a million names are never one
    /// string (that took about twice the zone file's size in memory, beside the zone, and seconds).
    /// </summary>
    private static void SaveZoneAs(string path, Zone zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        WriteAtomically(path, writer =>
        {
            var line = new StringBuilder(256);
            writer.Write("; transferred by anycastdns, serial ");
            writer.Write(zone.Serial.ToString(CultureInfo.InvariantCulture));
            writer.Write('\n');
            string apex = zone.Origin.ToString();
            Write(writer, line, apex, RecordType.SOA, zone.Soa.RecordTtl(0), zone.Soa.Rdata(0));
            foreach (var node in zone.Nodes)
            {
                string? owner = null;
                foreach (var rrset in node.RRsets)
                {
                    if (node.IsApex && rrset.Type == RecordType.SOA)
                    {
                        continue;
                    }
                    owner ??= node.Name.ToString();
                    for (int i = 0; i < rrset.Count; i++)
                    {
                        Write(writer, line, owner, rrset.Type, rrset.RecordTtl(i), rrset.Rdata(i));
                    }
                }
            }
        });
    }

    /// <summary>Writes the serial and the time of the last successful refresh.</summary>
    public static void SaveTimers(string folder, DnsName origin, uint serial, DateTimeOffset refreshed) =>
        WriteAtomically(TimersPath(folder, origin), writer => writer.Write(string.Create(CultureInfo.InvariantCulture, $"serial {serial}\nrefreshed {refreshed.ToUnixTimeMilliseconds()}\n")));

    /// <summary>Deletes a zone's kept version and timers (a catalog member removed or reset, RFC 9432 §5.3, §5.4).</summary>
    public static void Delete(string folder, DnsName origin)
    {
        foreach (string path in (string[])[ZonePath(folder, origin), TimersPath(folder, origin)])
        {
            File.Delete(path + ".tmp");
            File.Delete(path);
        }
    }

    /// <summary>
    /// The kept version and its last refresh, or null when there is none; a kept file that does not load is
    /// <paramref name="problem"/> (the zone then starts empty, as if never transferred).
    /// </summary>
    public static (Zone Zone, DateTimeOffset Refreshed)? Load(string folder, DnsName origin, ZoneLoadOptions options, out string? problem)
    {
        problem = null;
        string zonePath = ZonePath(folder, origin);
        string timersPath = TimersPath(folder, origin);
        if (!File.Exists(zonePath))
        {
            return null;
        }
        var result = ZoneLoader.LoadFile(zonePath, origin, options);
        if (result.Zone is null)
        {
            var first = result.Diagnostics.FirstOrDefault(d => d.Severity == Severity.Error) ?? result.Diagnostics.FirstOrDefault();
            problem = $"{zonePath}: the kept version does not load: {first?.Message ?? "unknown error"}";
            return null;
        }
        long? refreshed = null;
        try
        {
            foreach (string line in File.ReadAllLines(timersPath))
            {
                if (line.StartsWith("refreshed ", StringComparison.Ordinal) && long.TryParse(line.AsSpan(10), NumberStyles.None, CultureInfo.InvariantCulture, out long ms))
                {
                    refreshed = ms;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"{timersPath}: {e.Message}";
            return null;
        }
        if (refreshed is null)
        {
            problem = $"{timersPath}: no 'refreshed' line";
            return null;
        }
        return (result.Zone, DateTimeOffset.FromUnixTimeMilliseconds(refreshed.Value));
    }

    private static void Write(StreamWriter writer, StringBuilder line, string owner, RecordType type, uint ttl, ReadOnlySpan<byte> rdata)
    {
        line.Clear().Append(owner).Append(' ').Append(ttl).Append(" IN ").Append(RecordTypeNames.ToText(type)).Append(' ');
        RdataPresentation.Append(line, type, rdata).Append('\n');
        writer.Write(line);
    }

    private static void WriteAtomically(string path, Action<StreamWriter> write)
    {
        string temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1))
        {
            using (var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 1 << 16, leaveOpen: true))
            {
                write(writer);
            }
            // On disk before the rename, so that the rename never makes an empty file the kept version.
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
