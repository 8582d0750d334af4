using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>A place in a zone file: 1-based line and column (columns count characters; a tab is one).</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}

public enum Severity
{
    Warning,
    Error,
}

/// <summary>One finding of the zone-file reader, printed as <c>file:line:column: error: message</c>.</summary>
public sealed record ZoneDiagnostic(SourceLocation Location, Severity Severity, string Message)
{
    public override string ToString() => $"{Location}: {(Severity == Severity.Error ? "error" : "warning")}: {Message}";
}

/// <summary>One resource record as read from a master file; <see cref="Rdata"/> is uncompressed wire RDATA.</summary>
#pragma warning disable CA1819 // RDATA is an octet string by nature; the zone model takes ownership of the array.
public sealed record ZoneRecord(DnsName Owner, RecordType Type, RecordClass Class, uint Ttl, byte[] Rdata, SourceLocation Location);
#pragma warning restore CA1819

/// <summary>What <see cref="ZoneFileReader"/> read: the records of every well-formed entry, and a diagnostic for every other.</summary>
public sealed class ZoneFileResult
{
    private int _errors;

    public List<ZoneRecord> Records { get; } = new();

    public List<ZoneDiagnostic> Diagnostics { get; } = new();

    /// <summary>Full paths of the files read: the zone file, then every $INCLUDE in the order met.</summary>
    public List<string> Sources { get; } = new();

    public bool HasErrors => _errors > 0;

    /// <summary>
    /// When set, every record read goes into it instead of into <see cref="Records"/>: the zone loader's form, without
    /// an object and an array per record (<see cref="RecordArena"/>).
    /// </summary>
    internal RecordArena? Arena { get; init; }

    internal void AddRecord(DnsName owner, RecordType type, RecordClass recordClass, uint ttl, ReadOnlySpan<byte> rdata, in SourceLocation location)
    {
        if (Arena is not null)
        {
            Arena.Add(owner, type, recordClass, ttl, rdata, location);
        }
        else
        {
            Records.Add(new ZoneRecord(owner, type, recordClass, ttl, rdata.ToArray(), location));
        }
    }

    internal void Add(ZoneDiagnostic diagnostic)
    {
        Diagnostics.Add(diagnostic);
        if (diagnostic.Severity == Severity.Error)
        {
            _errors++;
        }
    }
}
