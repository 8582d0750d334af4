using System.Globalization;

namespace AnycastDns.Fleet;

/// <summary>
/// Compares what the PoPs said: the zones.server summary most PoPs give is the reference, and for every zone the
/// version most PoPs with a per-zone list serve; a PoP that lacks a zone, serves another version, serves an extra zone
/// or did not answer is the odd one out, named zone by zone when its list is known, else by its summary. Likewise for
/// the DNS cookie secret: a PoP that makes cookies with another secret than most, or cannot verify the cookies another
/// PoP makes, is the odd one out, since a client's next query may reach any PoP with the cookie it got from this one.
/// Built for 100,000 zones a PoP: each list is read once into a table, and the zone table lists every zone only when
/// there are few, else the zones that differ.
/// </summary>
internal static class FleetTable
{
    /// <summary>Up to this many zones, the zone table lists them all, as an operator of a small fleet reads it.</summary>
    private const int ListAllZonesUpTo = 100;

    /// <summary>A PoP's result names at most this many zones, then says how many more differ.</summary>
    private const int ProblemsShown = 10;

    /// <summary>Prints the PoP table and the zone table; true when every PoP answered and all agree.</summary>
    public static bool Write(IReadOnlyList<PopReport> reports, TextWriter output)
    {
        var answered = reports.Where(r => r.Answered).ToList();
        // The reference summary: the one most PoPs give.
        var summaryReference = answered.GroupBy(r => r.Summary!).OrderByDescending(g => g.Count())
            .ThenBy(g => g.Key.Digest, StringComparer.Ordinal).FirstOrDefault()?.Key;

        // Every version of every zone among the PoPs with a list: origin -> (serial, digest) -> how many PoPs.
        var listed = answered.Where(r => r.Zones is not null).ToList();
        var versions = new Dictionary<string, Dictionary<(string Serial, string Digest), int>>(StringComparer.Ordinal);
        foreach (var report in listed)
        {
            foreach (var zone in report.Zones!)
            {
                if (!versions.TryGetValue(zone.Origin, out var counts))
                {
                    versions[zone.Origin] = counts = [];
                }
                counts[(zone.Serial, zone.Digest)] = counts.GetValueOrDefault((zone.Serial, zone.Digest)) + 1;
            }
        }
        // The reference version of each zone: the most common (serial, digest) among the PoPs that list it; in a tie
        // (two PoPs), the one a PoP with the reference summary serves, so that the zones named are what makes the
        // summaries differ.
        var referenceList = new Dictionary<string, ZoneReport>(StringComparer.Ordinal);
        foreach (var zone in listed.FirstOrDefault(r => r.Summary == summaryReference)?.Zones ?? [])
        {
            referenceList.TryAdd(zone.Origin, zone);
        }
        var reference = new Dictionary<string, ZoneReport>(StringComparer.Ordinal);
        foreach (var (origin, counts) in versions)
        {
            var inReference = referenceList.GetValueOrDefault(origin);
            var best = counts.OrderByDescending(c => c.Value)
                .ThenByDescending(c => inReference is not null && c.Key == (inReference.Serial, inReference.Digest))
                .ThenBy(c => c.Key.Serial, StringComparer.Ordinal).First().Key;
            reference[origin] = new ZoneReport(origin, best.Serial, best.Digest);
        }
        var origins = versions.Keys.ToList();
        origins.Sort(StringComparer.Ordinal);

        // The reference cookie secret: the one most PoPs make cookies with (of those that say).
        var cookieReports = answered.Where(r => r.Cookies is not null).Select(r => r.Cookies!).ToList();
        string? cookieReference = cookieReports.GroupBy(c => c.Fingerprint, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).FirstOrDefault()?.Key;

        bool allGood = true;
        var rows = new List<string[]> { new[] { "POP", "IDENTITY", "ZONES", "COOKIE SECRET", "RESULT" } };
        var notes = new List<string>();
        foreach (var report in reports)
        {
            string result;
            if (!report.Answered)
            {
                result = "NO ANSWER: " + report.Failure;
            }
            else
            {
                var problems = ZoneDifferences(report, summaryReference!, origins, reference, referenceList);
                problems.AddRange(CookieDifferences(report.Cookies, cookieReports, cookieReference));
                result = problems.Count == 0 ? "ok" : "DIFFERS: " + string.Join("; ", problems);
                if (report.ZonesNote is { } note)
                {
                    notes.Add($"{report.Address}: {note}{(report.Zones is null ? "; compared by its zones.server summary only" : "")}");
                }
            }
            allGood &= result == "ok";
            string cookies = report.Cookies is { } c ? c.Fingerprint + (c.IsRandom ? " (random)" : "") : "-";
            rows.Add([report.Address.ToString(), report.Identity ?? "-", report.Summary?.Count.ToString(CultureInfo.InvariantCulture) ?? "-", cookies, result]);
        }
        WriteColumns(output, rows);
        foreach (string note in notes)
        {
            output.WriteLine(note);
        }
        output.WriteLine();

        // The zone table: every zone of a small fleet; of a large one, the zones some PoP with a list serves otherwise.
        var zoneRows = new List<string[]> { new[] { "ZONE", "SERIAL", "ZONEMD SHA-384", "POPS" } };
        int agreeing = 0;
        foreach (var origin in origins)
        {
            var counts = versions[origin];
            bool differs = counts.Count > 1 || counts.First().Value < listed.Count;
            if (!differs && origins.Count > ListAllZonesUpTo)
            {
                agreeing++;
                continue;
            }
            foreach (var (version, count) in counts.OrderByDescending(c => c.Value))
            {
                bool isReference = version == (reference[origin].Serial, reference[origin].Digest);
                zoneRows.Add([origin, version.Serial, version.Digest, $"{count} of {reports.Count}{(isReference ? "" : "  <- differs")}"]);
            }
        }
        if (zoneRows.Count > 1)
        {
            WriteColumns(output, zoneRows);
        }
        if (agreeing > 0)
        {
            output.WriteLine($"{agreeing} more zones agree on every PoP that listed them");
        }
        if (summaryReference is not null)
        {
            int same = answered.Count(r => r.Summary == summaryReference);
            output.WriteLine($"zones.server summary {summaryReference.Digest} ({summaryReference.Count} zones): {same} of {reports.Count} PoPs");
        }
        WriteSecondaries(reports, output);
        output.WriteLine();
        int bad = rows.Count - 1 - rows.Skip(1).Count(r => r[^1] == "ok");
        string sameCookies = cookieReports.Count == reports.Count ? $" and make cookies with secret {cookieReference}" : "";
        output.WriteLine(allGood ? $"all {reports.Count} PoPs serve the same zones{sameCookies}" : $"{bad} of {reports.Count} PoPs differ or did not answer");
        return allGood;
    }

    /// <summary>
    /// The secondary zones each PoP with a status endpoint holds: serial, seconds since a primary last confirmed it
    /// (expiry counts from there), status (and catalog role). Every row for a small fleet; past <see cref="ListAllZonesUpTo"/>
    /// rows, those not ok. Informational: a zone a PoP does not serve, or serves otherwise, already counts above.
    /// </summary>
    private static void WriteSecondaries(IReadOnlyList<PopReport> reports, TextWriter output)
    {
        var held = reports.Where(r => r.Secondaries is not null).SelectMany(r => r.Secondaries!.Select(z => (Report: r, Zone: z))).ToList();
        bool all = held.Count <= ListAllZonesUpTo;
        var rows = new List<string[]> { new[] { "SECONDARY ZONE", "POP", "SERIAL", "REFRESHED", "STATUS" } };
        foreach (var (report, zone) in held.OrderBy(h => h.Zone.Origin, StringComparer.Ordinal))
        {
            if (all || zone.Status != "ok")
            {
                string refreshed = zone.SecondsSinceRefresh is { } s ? $"{s.ToString("0", CultureInfo.InvariantCulture)} s ago" : "never";
                rows.Add([zone.Origin, report.Identity ?? report.Address.ToString(), zone.Serial?.ToString(CultureInfo.InvariantCulture) ?? "-", refreshed, zone.Shown]);
            }
        }
        if (rows.Count > 1)
        {
            output.WriteLine();
            WriteColumns(output, rows);
        }
        if (!all && held.Count - (rows.Count - 1) is > 0 and int fine)
        {
            output.WriteLine($"{fine} more secondary zones ok");
        }
        foreach (var report in reports.Where(r => r.SecondariesNote is not null))
        {
            output.WriteLine($"{report.Address}: {report.SecondariesNote}");
        }
    }

    /// <summary>
    /// What differs in one PoP's zones: nothing when its summary is the reference; zone by zone when its list and the
    /// others' are known; else its summary against the reference.
    /// </summary>
    private static List<string> ZoneDifferences(PopReport report, ZoneSummary summaryReference, List<string> origins, Dictionary<string, ZoneReport> reference, Dictionary<string, ZoneReport> referenceList)
    {
        var problems = new List<string>();
        if (report.Summary == summaryReference)
        {
            return problems;
        }
        if (report.Zones is not null)
        {
            problems = Differences(report, origins, reference);
            if (referenceList.Count > 0)
            {
                foreach (var zone in report.Zones)
                {
                    if (!referenceList.ContainsKey(zone.Origin))
                    {
                        problems.Add($"{zone.Origin} extra (not served by the PoPs with the most common summary)");
                    }
                }
            }
        }
        if (problems.Count == 0)
        {
            // No list, or a list the majority of lists agrees with while most summaries do not: the summaries decide.
            problems.Add($"zones.server summary {Short(report.Summary!.Digest)} ({report.Summary.Count} zones), others {Short(summaryReference.Digest)} ({summaryReference.Count} zones)");
        }
        else if (problems.Count > ProblemsShown)
        {
            int more = problems.Count - ProblemsShown;
            problems.RemoveRange(ProblemsShown, more);
            problems.Add($"and {more} more zones");
        }
        return problems;
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
        var mine = new Dictionary<string, ZoneReport>(report.Zones!.Count, StringComparer.Ordinal);
        foreach (var zone in report.Zones!)
        {
            mine.TryAdd(zone.Origin, zone);
        }
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

    internal static string Short(string digest) => digest.Length > 12 ? digest[..12] + "…" : digest;

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
