using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Commands;

/// <summary>
/// Puts a fresh ZONEMD record (RFC 8976, SIMPLE, SHA-384) into a zone file, for a zones repository's CI to run before
/// deploy: removes the apex ZONEMD lines already there, computes the digest of the rest, appends the record, checks
/// that the result loads and verifies, and only then replaces the file (by rename, so no reader sees half of it).
/// </summary>
internal static class ZonemdWriter
{
    private const string Comment = "; the zone's digest (RFC 8976), written by anycastdns check --zonemd-write";

    /// <summary>Rewrites <paramref name="path"/>; returns the record written, or throws <see cref="InvalidOperationException"/> with one line.</summary>
    public static string Write(string path, DnsName origin)
    {
        var parsed = ZoneFileReader.ReadFile(path, origin);
        if (parsed.HasErrors)
        {
            throw new InvalidOperationException($"{path}: has errors; fix them before writing a ZONEMD");
        }
        string fullPath = Path.GetFullPath(path);
        var lines = new List<string>(File.ReadAllLines(fullPath));
        var remove = new SortedSet<int>();
        foreach (var record in parsed.Records)
        {
            if (record.Type != RecordType.ZONEMD || !record.Owner.Equals(origin))
            {
                continue;
            }
            int index = record.Location.Line - 1;
            if (Path.GetFullPath(record.Location.File) != fullPath || lines[index].Contains('(', StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{record.Location}: a ZONEMD record in an included file or over several lines cannot be rewritten here; remove it by hand");
            }
            remove.Add(index);
            if (index > 0 && lines[index - 1] == Comment)
            {
                remove.Add(index - 1);
            }
        }
        foreach (int index in remove.Reverse())
        {
            lines.RemoveAt(index);
        }

        string folder = Path.GetDirectoryName(fullPath)!;
        string temporary = Path.Combine(folder, $".{Path.GetFileName(fullPath)}.{Environment.ProcessId}.tmp");
        try
        {
            File.WriteAllLines(temporary, lines);
            var zone = Load(temporary, origin);
            var zonemd = ZoneDigest.CreateZonemd(zone, ZonemdHashAlgorithm.Sha384);
            // Absolute owner: the $ORIGIN in force at the end of the file may be another one.
            string record = $"{origin} {zone.Soa.Ttl} IN ZONEMD {zonemd}";
            lines.Add(Comment);
            lines.Add(record);
            File.WriteAllLines(temporary, lines);
            Load(temporary, origin); // verifies the digest just written
            File.Move(temporary, fullPath, overwrite: true);
            return record;
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static Zone Load(string path, DnsName origin)
    {
        var result = ZoneLoader.LoadFile(path, origin);
        return result.Zone ?? throw new InvalidOperationException(
            string.Join("; ", result.Diagnostics.Where(d => d.Severity == Severity.Error).Select(d => d.ToString())));
    }
}
