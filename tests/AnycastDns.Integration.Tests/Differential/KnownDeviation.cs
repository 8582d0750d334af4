using AnycastDns.Protocol;

namespace AnycastDns.Integration.Tests.Differential;

/// <summary>
/// Where we deliberately differ from Knot 3.2, each case with the RFC that decides it. Everything else must match.
/// </summary>
public static class KnownDeviation
{
    public static List<string> Apply(QueryCase query, DnsMessage reference, DnsMessage ours, List<string> diffs)
    {
        diffs = ApplyDnssec(query, reference, ours, diffs);
        // RFC 8482 §4.1: over TCP we answer ANY with every RRset, where Knot 3.2 gives one; Knot's must be among ours.
        if (query.Type == RecordType.ANY && query.Tcp && ours.ResponseCode == ResponseCode.NoError)
        {
            return diffs.Where(d => !d.StartsWith("answer extra", StringComparison.Ordinal) && !d.StartsWith("additional extra", StringComparison.Ordinal)).ToList();
        }
        // Zone transfers are not offered: REFUSED, as NSD answers without provide-xfr (RFC 5936 §4.2 leaves the code to
        // policy); Knot 3.2 answers NOTAUTH over TCP and NOTIMP for AXFR over UDP.
        if (query.Type is RecordType.AXFR or RecordType.IXFR && ours.ResponseCode == ResponseCode.Refused
            && reference.ResponseCode is ResponseCode.NotAuth or ResponseCode.NotImp)
        {
            return diffs.Where(d => !d.StartsWith("rcode", StringComparison.Ordinal)).ToList();
        }
        // A CNAME synthesised from a DNAME keeps the query's case in the part taken from the query (RFC 4343 §4.1:
        // preserve case where it can be); Knot lower-cases it. The names must be equal ignoring case.
        if (reference.Answers.Any(a => a.Type == RecordType.DNAME))
        {
            diffs = diffs.Where(d => !IsCaseOnlyCnameDifference(d, diffs)).ToList();
        }
        // RFC 8482 §4.1: over UDP we answer ANY with one RRset. Ours must be one of Knot's RRsets.
        if (query.Type == RecordType.ANY && !query.Tcp && ours.ResponseCode == ResponseCode.NoError && ours.Answers.Count > 0)
        {
            // With DO the RRset comes with its RRSIGs (RFC 4035 §3.1.1), which are not a second RRset.
            var types = ours.Answers.Where(a => a.Type != RecordType.RRSIG).Select(a => (a.Name.ToString().ToLowerInvariant(), a.Type)).Distinct().ToList();
            var referenceKeys = reference.Answers.Select(ResponseComparison.Key).ToHashSet();
            var rest = diffs.Where(d => !d.StartsWith("answer lacks", StringComparison.Ordinal)).ToList();
            if (types.Count != 1)
            {
                rest.Add($"ANY over UDP returned {types.Count} RRsets, expected 1 (RFC 8482 §4.1)");
            }
            foreach (var rr in ours.Answers.Where(a => !referenceKeys.Contains(ResponseComparison.Key(a))))
            {
                rest.Add($"ANY answer {ResponseComparison.Key(rr)} is not one of Knot's");
            }
            // The reference's additional data for the RRsets we left out does not apply to us.
            return rest.Where(d => !d.StartsWith("additional lacks", StringComparison.Ordinal)).ToList();
        }
        return diffs;
    }

    /// <summary>The DNSSEC deviations (tests/zones-dnssec).</summary>
    private static List<string> ApplyDnssec(QueryCase query, DnsMessage reference, DnsMessage ours, List<string> diffs)
    {
        // An RRSIG query is answered with the name's RRSIG RRset: every signature there, whatever it covers (RFC 4034
        // §3 makes them one RRset of type RRSIG). Knot 3.2 gives the signatures of one covered type only, as for a
        // minimal ANY. Knot's must be among ours, and ours must all be RRSIGs of the name asked.
        if (query.Type == RecordType.RRSIG && ours.Answers.Count > 0
            && ours.Answers.All(a => a.Type == RecordType.RRSIG && string.Equals(a.Name.ToString(), query.Name.ToString(), StringComparison.OrdinalIgnoreCase)))
        {
            diffs = diffs.Where(d => !d.StartsWith("answer extra", StringComparison.Ordinal)).ToList();
        }
        // When both are truncated, each stops where a whole RRset with its RRSIGs no longer fits (RFC 2181 §9, RFC 4035
        // §3.1.1): we keep each NSEC/NSEC3 with its RRSIG or leave both out, Knot 3.2 may keep a record without its RRSIG.
        // The client retries over TCP and uses neither (RFC 7766 §5).
        if (query.DnssecOk && reference.Truncated && ours.Truncated)
        {
            diffs = diffs.Where(d => !d.StartsWith("authority", StringComparison.Ordinal) && !d.StartsWith("additional", StringComparison.Ordinal)).ToList();
        }
        // Additional data with DO: an address RRset goes with its RRSIGs or not at all, so a validator never meets
        // unsigned data of a signed zone; RFC 4035 §3.1.1 only forbids TC for them. Knot 3.2 adds the RRset without its
        // RRSIGs when they do not fit. Ours must be whole: every RRset in our additional section signed.
        if (query.DnssecOk && !ours.Truncated && IsSignedThroughout(ours.Additional))
        {
            diffs = diffs.Where(d => !d.StartsWith("additional lacks", StringComparison.Ordinal)
                && !(d.StartsWith("additional extra", StringComparison.Ordinal) && d.Contains(" IN RRSIG ", StringComparison.Ordinal))).ToList();
        }
        return diffs;
    }

    /// <summary>Every RRset of <paramref name="section"/> has an RRSIG over it in the section.</summary>
    private static bool IsSignedThroughout(List<ResourceRecord> section)
    {
        var signedSets = section.Where(r => r.Type == RecordType.RRSIG && r.Data.Length >= 2)
            .Select(r => (r.Name.ToString().ToLowerInvariant(), (RecordType)((r.Data[0] << 8) | r.Data[1]))).ToHashSet();
        return section.Where(r => r.Type != RecordType.RRSIG).All(r => signedSets.Contains((r.Name.ToString().ToLowerInvariant(), r.Type)));
    }

    private static bool IsCaseOnlyCnameDifference(string diff, List<string> all)
    {
        const string lacks = "answer lacks   ", extra = "answer extra   ";
        if (!diff.Contains(" IN CNAME ", StringComparison.Ordinal) || !(diff.StartsWith(lacks, StringComparison.Ordinal) || diff.StartsWith(extra, StringComparison.Ordinal)))
        {
            return false;
        }
        string record = diff[lacks.Length..];
        string otherPrefix = diff.StartsWith(lacks, StringComparison.Ordinal) ? extra : lacks;
        // RDATA is hex; ASCII letters differ by 0x20 between cases, so compare the decoded names without case.
        return all.Any(d => d.StartsWith(otherPrefix, StringComparison.Ordinal)
            && string.Equals(DecodeLower(d[otherPrefix.Length..]), DecodeLower(record), StringComparison.Ordinal));
    }

    private static string DecodeLower(string record)
    {
        int at = record.LastIndexOf(' ');
        var bytes = Convert.FromHexString(record[(at + 1)..]);
        return record[..at] + " " + System.Text.Encoding.Latin1.GetString(bytes).ToLowerInvariant();
    }
}
