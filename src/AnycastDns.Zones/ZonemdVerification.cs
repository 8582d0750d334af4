using System.Globalization;
using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// Verifies a zone against the ZONEMD records at its apex as it loads (RFC 8976 §4). The zone is served only when
/// one ZONEMD of a supported scheme and hash algorithm, with the SOA serial, carries the digest the zone has; a match
/// with any one is enough (RFC 8976 §4). A zone whose ZONEMDs are all of schemes or algorithms this server does not
/// compute loads with a warning: nothing says it is wrong. DNSSEC validation of the ZONEMD RRset (§4 steps 1 and 2)
/// is not done: the server holds no trust anchors.
/// </summary>
internal static class ZonemdVerification
{
    /// <summary>
    /// Computes the zone's SHA-384 digest (for <see cref="Zone.Digest"/>) together with whatever the apex ZONEMDs
    /// need, in one walk, and judges them. Returns false when the zone must not load; the reasons, one per ZONEMD,
    /// point at the ZONEMD records' lines.
    /// </summary>
    public static bool Verify(Zone zone, IReadOnlyList<ZoneRecord> zonemds, List<ZoneDiagnostic> diagnostics, out byte[] sha384)
    {
        if (zonemds.Count == 0)
        {
            sha384 = ZoneDigest.Compute(zone, ZonemdHashAlgorithm.Sha384);
            return true;
        }

        var parsed = new Zonemd?[zonemds.Count];
        bool needSha512 = false;
        for (int i = 0; i < zonemds.Count; i++)
        {
            if (Zonemd.TryParse(zonemds[i].Rdata, out var zonemd))
            {
                parsed[i] = zonemd;
                needSha512 |= zonemd.IsSupported && zonemd.HashAlgorithm == (byte)ZonemdHashAlgorithm.Sha512;
            }
        }
        var digests = needSha512
            ? ZoneDigest.Compute(zone, [ZonemdHashAlgorithm.Sha384, ZonemdHashAlgorithm.Sha512])
            : ZoneDigest.Compute(zone, [ZonemdHashAlgorithm.Sha384]);
        sha384 = digests[0];

        // Each ZONEMD's finding: null when it verifies the zone; otherwise why not, and whether it could have.
        var findings = new string?[zonemds.Count];
        var supported = new bool[zonemds.Count];
        bool verified = false;
        bool anySupported = false;
        for (int i = 0; i < zonemds.Count; i++)
        {
            var zonemd = parsed[i];
            if (zonemd is null)
            {
                findings[i] = $"the ZONEMD RDATA is {zonemds[i].Rdata.Length} octets long; at least {Zonemd.FixedLength + Zonemd.MinimumDigestLength} expected (RFC 8976 §2.2.4)";
                supported[i] = true;
                anySupported = true;
                continue;
            }
            supported[i] = zonemd.IsSupported;
            anySupported |= zonemd.IsSupported;
            findings[i] = Judge(zone, zonemd, parsed, digests);
            verified |= findings[i] is null;
        }

        for (int i = 0; i < zonemds.Count; i++)
        {
            if (findings[i] is not { } finding)
            {
                continue;
            }
            var at = zonemds[i].Location;
            if (verified)
            {
                // One match is enough (RFC 8976 §4); a supported ZONEMD that fails is still worth a word.
                if (supported[i])
                {
                    diagnostics.Add(new ZoneDiagnostic(at, Severity.Warning, finding + "; another ZONEMD verifies the zone"));
                }
            }
            else if (!anySupported)
            {
                diagnostics.Add(new ZoneDiagnostic(at, Severity.Warning, finding + "; the zone loads unverified"));
            }
            else
            {
                diagnostics.Add(new ZoneDiagnostic(at, supported[i] ? Severity.Error : Severity.Warning, finding));
            }
        }
        return verified || !anySupported;
    }

    /// <summary>Why one ZONEMD does not verify the zone, or null when it does (RFC 8976 §4).</summary>
    private static string? Judge(Zone zone, Zonemd zonemd, Zonemd?[] all, byte[][] digests)
    {
        var kind = Zonemd.Describe(zonemd.Scheme, zonemd.HashAlgorithm);
        if (!zonemd.IsSupported)
        {
            return $"ZONEMD {kind} is not supported here, so it does not verify the zone (RFC 8976 §4)";
        }
        // RFC 8976 §4: two ZONEMDs of one scheme and hash algorithm verify nothing, neither of them.
        int same = 0;
        foreach (var other in all)
        {
            if (other is not null && other.Scheme == zonemd.Scheme && other.HashAlgorithm == zonemd.HashAlgorithm)
            {
                same++;
            }
        }
        if (same > 1)
        {
            return $"more than one ZONEMD with {kind}: none of them can verify the zone (RFC 8976 §4)";
        }
        // RFC 8976 §4 step 3: the ZONEMD must describe this version of the zone.
        if (zonemd.Serial != zone.Serial)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"ZONEMD serial {zonemd.Serial} does not match the SOA serial {zone.Serial} (RFC 8976 §4)");
        }
        var computed = digests[zonemd.HashAlgorithm == (byte)ZonemdHashAlgorithm.Sha384 ? 0 : 1];
        if (!zonemd.Digest.Span.SequenceEqual(computed))
        {
            return $"ZONEMD digest does not match the zone ({kind}): the zone's digest is {Convert.ToHexStringLower(computed)}, "
                + $"the record has {zonemd.DigestHex} (RFC 8976 §4)";
        }
        return null;
    }
}
