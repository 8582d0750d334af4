using System.Buffers.Binary;
using System.Globalization;
using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// Checks what would make a signed zone fail validation: the NSEC3 chain the NSEC3PARAM names, a signed zone without a
/// denial chain, and signature times against the clock. Changes nothing: the signatures and chains answering reads are
/// set by <see cref="ZoneAdjust.Dnssec"/>. A zone without RRSIGs passes through untouched.
/// </summary>
internal static class DnssecChecks
{
    /// <summary>RFC 4034 §3.1: type covered (2), algorithm (1), labels (1), original TTL (4), then expiration and inception.</summary>
    private const int ExpirationOffset = 8;

    /// <summary>The types only a DNSSEC-signed zone holds.</summary>
    internal static bool IsDnssecType(RecordType type) =>
        type is RecordType.RRSIG or RecordType.NSEC or RecordType.NSEC3 or RecordType.NSEC3PARAM or RecordType.DNSKEY;

    /// <summary>Where the apex SOA and NSEC3PARAM were read, for the warnings about the chains.</summary>
    internal readonly record struct ApexLocations(SourceLocation Soa, SourceLocation Nsec3Param);

    /// <summary>What <see cref="ScanSignatureTimes"/> found: when the first signature expires, and its warnings.</summary>
    internal sealed record SignatureTimes(DateTimeOffset? EarliestExpiry, List<ZoneDiagnostic> Warnings);

    /// <summary>
    /// Checks <paramref name="zone"/>, adjusted by <see cref="ZoneAdjust.Dnssec"/>; false when an error keeps it from
    /// being served. The builder says whether any record is of a DNSSEC type (<see cref="IsDnssecType"/>): a zone without
    /// one has nothing to check. The signature times were read from the records as read (<see cref="ScanSignatureTimes"/>),
    /// before the builder let them go.
    /// </summary>
    internal static bool Check(Zone zone, ApexLocations locations, SignatureTimes signatureTimes, List<ZoneDiagnostic> diagnostics, bool hasDnssecRecords)
    {
        if (!hasDnssecRecords)
        {
            return true;
        }
        bool ok = true;
        if (zone.Apex.Get(RecordType.NSEC3PARAM) is { } nsec3param)
        {
            ok = CheckNsec3Chain(zone, nsec3param, locations.Nsec3Param, diagnostics);
        }
        if (zone.IsSigned && zone.Nsec is null && zone.Nsec3 is null)
        {
            diagnostics.Add(new ZoneDiagnostic(locations.Soa, Severity.Warning,
                $"{zone.Origin} is signed but has neither an NSEC chain nor an NSEC3 chain named by an NSEC3PARAM: negative answers carry no proof (RFC 4035 §3.1.3)"));
        }
        diagnostics.AddRange(signatureTimes.Warnings);
        return ok;
    }

    /// <summary>RFC 5155 §4: the NSEC3PARAM tells the server which chain to answer from, so one must match it, apex included.</summary>
    private static bool CheckNsec3Chain(Zone zone, RRset nsec3param, SourceLocation at, List<ZoneDiagnostic> diagnostics)
    {
        Nsec3Chain.TryReadParameters(nsec3param.Rdata(0), out byte algorithm, out ushort iterations, out var salt);
        string parameters = $"hash algorithm {algorithm}, {iterations} iterations, salt {(salt.IsEmpty ? "-" : Convert.ToHexString(salt))}";
        if (algorithm != Nsec3Chain.Sha1)
        {
            diagnostics.Add(new ZoneDiagnostic(at, Severity.Error, $"NSEC3PARAM hash algorithm {algorithm} is unknown; only 1 (SHA-1) is defined (RFC 5155 §11)"));
            return false;
        }
        if (zone.Nsec3 is not { } chain)
        {
            diagnostics.Add(new ZoneDiagnostic(at, Severity.Error, $"NSEC3PARAM ({parameters}) matches no NSEC3 chain in the zone (RFC 5155 §4)"));
            return false;
        }
        if (chain.MatchingName(zone.Origin.Wire) is null)
        {
            diagnostics.Add(new ZoneDiagnostic(at, Severity.Error, $"the NSEC3 chain of the NSEC3PARAM ({parameters}) has no NSEC3 for the apex {zone.Origin} (RFC 5155 §7.1)"));
            return false;
        }
        if (iterations > 0 || !salt.IsEmpty)
        {
            diagnostics.Add(new ZoneDiagnostic(at, Severity.Warning,
                $"NSEC3PARAM has {parameters}: RFC 9276 §3.1 asks for 0 extra iterations and no salt, and validators may treat many iterations as insecure (§3.2)"));
        }
        return true;
    }

    /// <summary>
    /// RFC 4034 §3.1.5 and RFC 4035 §5.3.1: outside [inception, expiration] a signature does not validate. Reported once
    /// per kind and zone, at the record that is first to fail, with a count, because a zone has as many RRSIGs as RRsets.
    /// </summary>
    internal static SignatureTimes ScanSignatureTimes(ZoneGrouping grouping, ZoneLoadOptions options)
    {
        var diagnostics = new List<ZoneDiagnostic>();
        DateTimeOffset? earliestExpiry = null;
        var now = options.Clock.GetUtcNow();
        uint nowSerial = (uint)now.ToUnixTimeSeconds();
        uint windowSeconds = (uint)Math.Clamp(options.SignatureExpiryWarning.TotalSeconds, 0, int.MaxValue);
        RecordAsRead? firstExpired = null, firstExpiring = null, firstFuture = null, first = null;
        int expired = 0, expiring = 0, future = 0;
        foreach (var owner in grouping.Owners)
        {
            if (owner.Find(RecordType.RRSIG) is not { } rrsigs)
            {
                continue;
            }
            foreach (var record in rrsigs)
            {
                Scan(record);
            }
        }
        void Scan(RecordAsRead record)
        {
            if (record.Rdata.Length < ExpirationOffset + 8)
            {
                return;
            }
            // Serial-number arithmetic (RFC 1982, RFC 4034 §3.1.5): the 32-bit times wrap in 2106.
            first = Earlier(first, record);
            int untilExpiry = (int)(Expiration(record) - nowSerial);
            int sinceInception = (int)(nowSerial - Inception(record));
            if (untilExpiry < 0)
            {
                expired++;
                firstExpired = Earlier(firstExpired, record);
            }
            else if ((uint)untilExpiry <= windowSeconds)
            {
                expiring++;
                firstExpiring = Earlier(firstExpiring, record);
            }
            if (sinceInception < 0)
            {
                future++;
                firstFuture ??= record;
            }
        }
        if (first is not null)
        {
            // The 32-bit time taken nearest to now (RFC 4034 §3.1.5 serial arithmetic), so that 2106's wrap reads right.
            earliestExpiry = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds() + (int)(Expiration(first.Value) - nowSerial));
        }
        if (firstExpired is { } expiredRecord)
        {
            diagnostics.Add(new ZoneDiagnostic(expiredRecord.Location, Severity.Warning,
                $"{Count(expired)} expired; the first, over {Covered(expiredRecord)}, at {Time(Expiration(expiredRecord))}: validators reject them (RFC 4035 §5.3.1)"));
        }
        if (firstExpiring is { } expiringRecord)
        {
            diagnostics.Add(new ZoneDiagnostic(expiringRecord.Location, Severity.Warning,
                $"{Count(expiring)} expire within {options.SignatureExpiryWarning.TotalDays.ToString("0.##", CultureInfo.InvariantCulture)} days; the first, over {Covered(expiringRecord)}, at {Time(Expiration(expiringRecord))}: re-sign the zone"));
        }
        if (firstFuture is { } futureRecord)
        {
            diagnostics.Add(new ZoneDiagnostic(futureRecord.Location, Severity.Warning,
                $"{Count(future)} not valid yet (inception {Time(Inception(futureRecord))}, over {Covered(futureRecord)}): validators reject them until then (RFC 4035 §5.3.1)"));
        }

        return new SignatureTimes(earliestExpiry, diagnostics);

        static RecordAsRead Earlier(RecordAsRead? first, RecordAsRead candidate) =>
            first is not { } earlier || (int)(Expiration(candidate) - Expiration(earlier)) < 0 ? candidate : earlier;
    }

    private static uint Expiration(RecordAsRead rrsig) => BinaryPrimitives.ReadUInt32BigEndian(rrsig.Rdata[ExpirationOffset..]);

    private static uint Inception(RecordAsRead rrsig) => BinaryPrimitives.ReadUInt32BigEndian(rrsig.Rdata[(ExpirationOffset + 4)..]);

    private static string Count(int n) => n == 1 ? "1 RRSIG" : $"{n} RRSIGs";

    private static string Covered(RecordAsRead rrsig) => $"{rrsig.Owner} {RecordTypeNames.ToText(CoveringSignatures.TypeCovered(rrsig.Rdata))}";

    private static string Time(uint seconds) =>
        DateTimeOffset.FromUnixTimeSeconds(seconds).ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
