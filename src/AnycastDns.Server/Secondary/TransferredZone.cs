using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Server.Secondary;

/// <summary>
/// Turns a transfer's records into a zone through the same <see cref="ZoneBuilder"/> checks (and ZONEMD
/// verification, RFC 8976 §4) a zone file goes through: an AXFR is the whole zone (RFC 5936 §2.2: SOA, records,
/// SOA); an IXFR is applied to the zone served, difference by difference (RFC 1995 §4). Anything wrong is a
/// <see cref="TransferException"/>, and nothing of it is served.
/// </summary>
internal static class TransferredZone
{
    /// <summary>Builds the zone from an AXFR (or the AXFR form of an IXFR answer): every record but the closing SOA.</summary>
    public static Zone FromAxfr(DnsName origin, List<ResourceRecord> answer, string source, ZoneLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var records = new List<ZoneRecord>(answer.Count);
        for (int i = 0; i < answer.Count - 1; i++)
        {
            records.Add(ToZoneRecord(answer[i], source));
        }
        return Build(origin, records, source, options);
    }

    /// <summary>
    /// True when an IXFR answer is incremental (RFC 1995 §4: the second record is an SOA), false when it is the whole
    /// zone in AXFR form.
    /// </summary>
    public static bool IsIncremental(List<ResourceRecord> answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return answer.Count >= 2 && answer[1].Type == RecordType.SOA;
    }

    /// <summary>
    /// Applies an incremental IXFR answer to <paramref name="current"/>: each difference's first SOA must be the
    /// serial reached so far, each deleted record must be there (RFC 1995 §4 gives no meaning to deleting what is
    /// not), then the added records go in; the last SOA becomes the apex SOA.
    /// </summary>
    public static Zone ApplyIxfr(Zone current, List<ResourceRecord> answer, string source, ZoneLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(answer);
        var origin = current.Origin;
        var records = new Dictionary<string, ZoneRecord>(StringComparer.Ordinal);
        foreach (var node in current.Nodes)
        {
            foreach (var rrset in node.RRsets)
            {
                if (node.IsApex && rrset.Type == RecordType.SOA)
                {
                    continue;
                }
                for (int i = 0; i < rrset.Count; i++)
                {
                    var record = new ZoneRecord(node.Name, rrset.Type, RecordClass.IN, rrset.RecordTtl(i), rrset.Rdata(i).ToArray(), new SourceLocation(source, 1, 1));
                    records[Key(record.Owner, record.Type, record.Rdata)] = record;
                }
            }
        }
        uint serial = current.Serial;
        ResourceRecord? soa = null;
        bool deleting = false, adding = false;
        // The first record is the new SOA, the last the same again: the differences are between them, each an SOA
        // (the serial it starts from) and the records deleted, then an SOA (the serial it reaches) and the records added.
        for (int i = 1; i < answer.Count - 1; i++)
        {
            var record = answer[i];
            if (record.Type == RecordType.SOA && record.Name == origin)
            {
                uint at = TransferClient.SoaSerial(record.Data);
                if (deleting)
                {
                    (deleting, adding, serial, soa) = (false, true, at, record);
                    continue;
                }
                if (at != serial)
                {
                    throw new TransferException($"{source}: an IXFR difference starts at serial {at}, but the zone is at serial {serial}");
                }
                (deleting, adding) = (true, false);
                continue;
            }
            string key = Key(record.Name, record.Type, record.Data);
            if (adding)
            {
                records[key] = ToZoneRecord(record, source);
            }
            else if (!deleting)
            {
                throw new TransferException($"{source}: the IXFR has a record before its first difference");
            }
            else if (!records.Remove(key))
            {
                throw new TransferException($"{source}: the IXFR deletes {record.Name} {RecordTypeNames.ToText(record.Type)} {Protocol.Presentation.RdataPresentation.Format(record.Type, record.Data)}, which serial {serial} does not have");
            }
        }
        if (!adding || soa is null || serial != TransferClient.SoaSerial(answer[0].Data))
        {
            throw new TransferException($"{source}: the IXFR does not end with a difference reaching serial {TransferClient.SoaSerial(answer[0].Data)}");
        }
        var list = new List<ZoneRecord>(records.Count + 1) { ToZoneRecord(soa, source) };
        list.AddRange(records.Values);
        return Build(origin, list, source, options);
    }

    private static Zone Build(DnsName origin, List<ZoneRecord> records, string source, ZoneLoadOptions options)
    {
        var diagnostics = new List<ZoneDiagnostic>();
        var zone = ZoneBuilder.Build(origin, records, diagnostics, source, options);
        if (zone is null)
        {
            var first = diagnostics.Find(d => d.Severity == Severity.Error) ?? diagnostics.FirstOrDefault();
            throw new TransferException($"{source}: the transferred zone does not pass the zone checks: {first?.Message ?? "unknown error"}");
        }
        return zone;
    }

    private static ZoneRecord ToZoneRecord(ResourceRecord record, string source) =>
        new(record.Name, record.Type, record.Class, record.Ttl, record.Data, new SourceLocation(source, 1, 1));

    /// <summary>A record's identity for IXFR (owner case-insensitive, type, RDATA; the TTL is not part of it).</summary>
    private static string Key(DnsName owner, RecordType type, ReadOnlySpan<byte> rdata) =>
        $"{owner.ToLowerCase()}|{(int)type}|{Convert.ToHexString(rdata)}";
}
