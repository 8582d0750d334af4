using System.Globalization;

namespace AnycastDns.Fleet;

/// <summary>
/// Compares what the PoPs said: for every zone the version most PoPs serve is the reference, and a PoP that lacks a
/// zone, serves another version, serves an extra zone or did not answer is the odd one out. Likewise for the DNS cookie
/// secret: a PoP that makes cookies with another secret than most, or cannot verify the cookies another PoP makes, is
/// the odd one out, since a client's next query may reach any PoP with the cookie it got from this one.
/// </summary>
internal static class FleetTable
{
    /// <summary>Prints the PoP table and the zone table; true when every PoP answered and all agree.</summary>
    public static bool Write(IReadOnlyList<PopReport> reports, TextWriter output)
    {
        var answered = reports.Where(r => r.Answered).ToList();
        var origins = answered.SelectMany(r => r.Zones!).Select(z => z.Origin).Distinct().Order(StringComparer.Ordinal).ToList();
        // The reference version of each zone: the most common (serial, digest) among the PoPs that serve it.
        var reference = new Dictionary<string, ZoneReport>(StringComparer.Ordinal);
        foreach (var origin in origins)
        {
            reference[origin] = answered.SelectMany(r => r.Zones!).Where(z => z.Origin == origin)
                .GroupBy(z => (z.Serial, z.Digest)).OrderByDescending(g => g.Count()).ThenBy(g => g.Key.Serial, StringComparer.Ordinal).First().First();
        }

        // The reference cookie secret: the one most PoPs make cookies with (of those that say).
        var cookieReports = answered.Where(r => r.Cookies is not null).Select(r => r.Cookies!).ToList();
        string? cookieReference = cookieReports.GroupBy(c => c.Fingerprint, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).FirstOrDefault()?.Key;

        bool allGood = true;
        var rows = new List<string[]> { new[] { "POP", "IDENTITY", "ZONES", "COOKIE SECRET", "RESULT" } };
        foreach (var report in reports)
        {
            string result;
            if (!report.Answered)
            {
                result = "NO ANSWER: " + report.Failure;
            }
            else
            {
                var problems = Differences(report, origins, reference);
                problems.AddRange(CookieDifferences(report.Cookies, cookieReports, cookieReference));
                result = problems.Count == 0 ? "ok" : "DIFFERS: " + string.Join("; ", problems);
            }
            allGood &= result == "ok";
            string cookies = report.Cookies is { } c ? c.Fingerprint + (c.IsRandom ? " (random)" : "") : "-";
            rows.Add([report.Address.ToString(), report.Identity ?? "-", report.Zones?.Count.ToString(CultureInfo.InvariantCulture) ?? "-", cookies, result]);
        }
        WriteColumns(output, rows);
        output.WriteLine();

        var zoneRows = new List<string[]> { new[] { "ZONE", "SERIAL", "ZONEMD SHA-384", "POPS" } };
        foreach (var origin in origins)
        {
            foreach (var version in answered.SelectMany(r => r.Zones!).Where(z => z.Origin == origin).GroupBy(z => (z.Serial, z.Digest)).OrderByDescending(g => g.Count()))
            {
                bool isReference = version.Key == (reference[origin].Serial, reference[origin].Digest);
                zoneRows.Add([origin, version.Key.Serial, version.Key.Digest, $"{version.Count()} of {reports.Count}{(isReference ? "" : "  <- differs")}"]);
            }
        }
        WriteColumns(output, zoneRows);
        output.WriteLine();
        int bad = rows.Count - 1 - rows.Skip(1).Count(r => r[^1] == "ok");
        string sameCookies = cookieReports.Count == reports.Count ? $" and make cookies with secret {cookieReference}" : "";
        output.WriteLine(allGood ? $"all {reports.Count} PoPs serve the same zones{sameCookies}" : $"{bad} of {reports.Count} PoPs differ or did not answer");
        return allGood;
    }

    /// <summary>
    /// What is wrong with one PoP's cookie secrets beside the others': it makes cookies with another secret than most
    /// (a random one, or a rollover half done), or it cannot verify the cookies another PoP makes from a file.
    /// </summary>
    private static List<string> CookieDifferences(CookieReport? mine, List<CookieReport> all, string? reference)
    {
        var problems = new List<string>();
        if (mine is null || all.Count < 2)
        {
            return problems;
        }
        if (mine.Fingerprint != reference)
        {
            problems.Add(mine.IsRandom
                ? $"cookie secret {mine.Fingerprint} is random (no Cookies:SecretFile), others {reference}"
                : $"cookie secret {mine.Fingerprint}, others {reference}");
        }
        foreach (string theirs in all.Where(c => !c.IsRandom).Select(c => c.Fingerprint).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (!mine.Fingerprints.Contains(theirs, StringComparer.Ordinal))
            {
                problems.Add($"does not verify cookies made with secret {theirs}");
            }
        }
        return problems;
    }

    private static List<string> Differences(PopReport report, List<string> origins, Dictionary<string, ZoneReport> reference)
    {
        var problems = new List<string>();
        var mine = report.Zones!.ToDictionary(z => z.Origin, StringComparer.Ordinal);
        foreach (var origin in origins)
        {
            var want = reference[origin];
            if (!mine.TryGetValue(origin, out var have))
            {
                problems.Add($"{origin} missing");
            }
            else if (have.Serial != want.Serial)
            {
                problems.Add($"{origin} serial {have.Serial}, others {want.Serial}");
            }
            else if (have.Digest != want.Digest)
            {
                problems.Add($"{origin} serial {have.Serial} with different content (zonemd {Short(have.Digest)}, others {Short(want.Digest)})");
            }
        }
        return problems;
    }

    private static string Short(string digest) => digest.Length > 12 ? digest[..12] + "…" : digest;

    private static void WriteColumns(TextWriter output, List<string[]> rows)
    {
        var widths = new int[rows[0].Length];
        foreach (var row in rows)
        {
            for (int i = 0; i < row.Length - 1; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }
        foreach (var row in rows)
        {
            for (int i = 0; i < row.Length; i++)
            {
                output.Write(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
            }
            output.WriteLine();
        }
    }
}
