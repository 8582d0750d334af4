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
    public static Zone FromAxfr(DnsName origin, TransferRecords answer, string source, ZoneLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var diagnostics = new List<ZoneDiagnostic>();
        return Checked(ZoneBuilder.Build(origin, answer, answer.Count - 1, diagnostics, source, options), diagnostics, source);
    }

    /// <summary>
    /// True when an IXFR answer is incremental (RFC 1995 §4: the second record is an SOA), false when it is the whole
    /// zone in AXFR form.
    /// </summary>
    public static bool IsIncremental(TransferRecords answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return answer.Count >= 2 && answer.Type(1) == RecordType.SOA;
    }

    /// <summary>
    /// Applies an incremental IXFR answer to <paramref name="current"/>: each difference's first SOA must be the
    /// serial reached so far, each deleted record must be there (RFC 1995 §4 gives no meaning to deleting what is
    /// not), then the added records go in; the last SOA becomes the apex SOA.
    /// </summary>
    public static Zone ApplyIxfr(Zone current, TransferRecords answer, string source, ZoneLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(answer);
        var origin = current.Origin;
        var update = new ZoneUpdate(current);
        uint serial = current.Serial;
        int soa = -1;
        bool deleting = false, adding = false;
        // The first record is the new SOA, the last the same again: the differences are between them, each an SOA
        // (the serial it starts from) and the records deleted, then an SOA (the serial it reaches) and the records added.
        for (int i = 1; i < answer.Count - 1; i++)
        {
            if (answer.IsSoa(i, origin))
            {
                uint at = TransferClient.SoaSerial(answer.Rdata(i));
                if (deleting)
                {
                    (deleting, adding, serial, soa) = (false, true, at, i);
                    continue;
                }
                if (at != serial)
                {
                    throw new TransferException($"{source}: an IXFR difference starts at serial {at}, but the zone is at serial {serial}");
                }
                (deleting, adding) = (true, false);
                continue;
            }
            var (owner, type) = (answer.Owner(i), answer.Type(i));
            if (adding)
            {
                update.Add(owner, type, answer.Ttl(i), answer.Rdata(i));
            }
            else if (!deleting)
            {
                throw new TransferException($"{source}: the IXFR has a record before its first difference");
            }
            else if (!update.Delete(owner, type, answer.Rdata(i)))
            {
                throw new TransferException($"{source}: the IXFR deletes {owner} {RecordTypeNames.ToText(type)} {Protocol.Presentation.RdataPresentation.Format(type, answer.Rdata(i))}, which serial {serial} does not have");
            }
        }
        uint newSerial = TransferClient.SoaSerial(answer.Rdata(0));
        if (!adding || soa < 0 || serial != newSerial)
        {
            throw new TransferException($"{source}: the IXFR does not end with a difference reaching serial {newSerial}");
        }
        update.SetSoa(answer.Ttl(soa), answer.Rdata(soa));
        var diagnostics = new List<ZoneDiagnostic>();
        return Checked(update.Build(diagnostics, source, options), diagnostics, source);
    }

    private static Zone Checked(Zone? zone, List<ZoneDiagnostic> diagnostics, string source)
    {
        if (zone is null)
        {
            var first = diagnostics.Find(d => d.Severity == Severity.Error) ?? diagnostics.FirstOrDefault();
            throw new TransferException($"{source}: the transferred zone does not pass the zone checks: {first?.Message ?? "unknown error"}");
        }
        return zone;
    }
}
