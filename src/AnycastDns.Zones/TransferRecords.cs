using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// The records of a zone transfer's answer (RFC 5936 AXFR, RFC 1995 IXFR) in the order received, held as a zone file's
/// records are while it loads (<see cref="RecordArena"/>): no object or array per record, each owner name made once per
/// run of records that share it (a primary sends an owner's records together), the RDATA packed in large blocks. An
/// AXFR of a million names is built from here into the zone (<see cref="ZoneBuilder.Build(DnsName, TransferRecords, int, List{ZoneDiagnostic}, string, ZoneLoadOptions?)"/>)
/// without first being a million objects.
/// </summary>
public sealed class TransferRecords
{
    private readonly RecordArena _arena = new();
    private readonly SourceLocation _location;
    private DnsName? _lastOwner;

    /// <param name="source">What every record is located at in diagnostics (e.g. "AXFR from 192.0.2.1:53").</param>
    public TransferRecords(string source)
    {
        _location = new SourceLocation(source, 1, 1);
    }

    public int Count => _arena.Count;

    /// <summary>
    /// Adds a record whose owner is <paramref name="ownerWire"/> (uncompressed wire form); returns its owner name, the
    /// previous record's when the octets are the same.
    /// </summary>
    public DnsName Add(ReadOnlySpan<byte> ownerWire, RecordType type, RecordClass recordClass, uint ttl, ReadOnlySpan<byte> rdata)
    {
        var owner = _lastOwner is not null && _lastOwner.Wire.SequenceEqual(ownerWire) ? _lastOwner : DnsName.FromWire(ownerWire);
        Add(owner, type, recordClass, ttl, rdata);
        return owner;
    }

    public void Add(DnsName owner, RecordType type, RecordClass recordClass, uint ttl, ReadOnlySpan<byte> rdata)
    {
        ArgumentNullException.ThrowIfNull(owner);
        _lastOwner = owner;
        _arena.Add(owner, type, recordClass, ttl, rdata, _location);
    }

    public DnsName Owner(int index) => _arena.Owner(index);

    public RecordType Type(int index) => _arena[index].Type;

    public RecordClass Class(int index) => _arena[index].Class;

    public uint Ttl(int index) => _arena[index].Ttl;

    public ReadOnlySpan<byte> Rdata(int index) => _arena.Rdata(index);

    /// <summary>True when record <paramref name="index"/> is the SOA of <paramref name="origin"/>.</summary>
    public bool IsSoa(int index, DnsName origin) => Type(index) == RecordType.SOA && Owner(index) == origin;

    /// <summary>The arena itself, for the build: it is the zone's after, nothing may add to it.</summary>
    internal RecordArena Arena => _arena;
}
