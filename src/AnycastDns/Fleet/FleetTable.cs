using System.Globalization;

namespace AnycastDns.Fleet;

/// <summary>
/// Compares what the PoPs said: for every zone the version most PoPs serve is the reference, and a PoP that lacks a
/// zone, serves another version, serves an extra zone or did not answer is the odd one out.
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

        bool allGood = true;
        var rows = new List<string[]> { new[] { "POP", "IDENTITY", "ZONES", "RESULT" } };
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
                result = problems.Count == 0 ? "ok" : "DIFFERS: " + string.Join("; ", problems);
            }
            allGood &= result == "ok";
            rows.Add([report.Address.ToString(), report.Identity ?? "-", report.Zones?.Count.ToString(CultureInfo.InvariantCulture) ?? "-", result]);
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
        int bad = rows.Count - 1 - rows.Skip(1).Count(r => r[3] == "ok");
        output.WriteLine(allGood ? $"all {reports.Count} PoPs serve the same zones" : $"{bad} of {reports.Count} PoPs differ or did not answer");
        return allGood;
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
