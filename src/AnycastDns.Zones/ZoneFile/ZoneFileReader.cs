using System.Text;
using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// Reads RFC 1035 §5 master files: $ORIGIN, $INCLUDE, $TTL (RFC 2308 §4), BIND's $GENERATE, parentheses, comments,
/// quoted strings, escapes, TTL units, owner inheritance, TYPEnnn/CLASSnnn and the RFC 3597 generic RDATA form.
/// Only syntax is checked here; zone rules (one SOA, CNAME and other data, glue, ...) belong to the zone model.
/// Every problem becomes a <see cref="ZoneDiagnostic"/> at the offending token, and reading goes on with the next
/// entry, so one pass reports all errors of a file.
/// </summary>
public static class ZoneFileReader
{
    /// <summary>
    /// Reads the zone file at <paramref name="path"/> for the zone <paramref name="origin"/>. $INCLUDE paths are
    /// relative to the zone file's folder and may not leave it.
    /// </summary>
    public static ZoneFileResult ReadFile(string path, DnsName origin) => ReadFile(path, origin, arena: null);

    /// <summary>
    /// As <see cref="ReadFile(string, DnsName)"/>, the records put into <paramref name="arena"/> instead of
    /// <see cref="ZoneFileResult.Records"/>; a reload passes the version served (<paramref name="served"/>), whose owner
    /// names the records then share (<see cref="ZoneFileParser.ServedNames"/>).
    /// </summary>
    internal static ZoneFileResult ReadFile(string path, DnsName origin, RecordArena? arena, Zone? served = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(origin);
        var result = new ZoneFileResult { Arena = arena };
        string fullPath = Path.GetFullPath(path);
        var parser = new ZoneFileParser(result, Path.GetDirectoryName(fullPath), Path.GetDirectoryName(path) ?? string.Empty)
        {
            ServedNames = served?.NodeTable,
        };
        if (!parser.ReadFile(fullPath, path, origin, out string? error))
        {
            result.Add(new ZoneDiagnostic(new SourceLocation(path, 1, 1), Severity.Error, $"cannot read the zone file: {error}"));
        }
        return result;
    }

    /// <summary>
    /// Reads zone text held in memory, reported as <paramref name="fileName"/>. <paramref name="includeRoot"/> is the
    /// folder $INCLUDE paths are relative to (null makes $INCLUDE an error). The text is taken as the UTF-8 file it
    /// would be on disk, so non-ASCII characters become the same octets as when read from a file.
    /// </summary>
    public static ZoneFileResult ReadText(string text, string fileName, DnsName origin, string? includeRoot = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(origin);
        if (text.AsSpan().ContainsAnyExceptInRange('\0', '\x7F'))
        {
            text = Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(text));
        }
        var result = new ZoneFileResult();
        var parser = new ZoneFileParser(result, includeRoot is null ? null : Path.GetFullPath(includeRoot), includeRoot ?? string.Empty);
        parser.Read(text, fileName, null, origin);
        return result;
    }
}
