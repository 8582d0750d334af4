using System.Text;
using AnycastDns.Protocol;

namespace AnycastDns.Integration.Tests.Differential;

/// <summary>
/// Compares two responses the way a resolver sees them: RCODE, AA, TC, the question as sent, and each section
/// as a set of records (owner compared without case, RDATA names decompressed). Returns the differences, one per line.
/// </summary>
public static class ResponseComparison
{
    public static List<string> Differences(DnsMessage expected, DnsMessage actual, bool compareAdditional)
    {
        var diffs = new List<string>();
        if (expected.ResponseCode != actual.ResponseCode) diffs.Add($"rcode {actual.ResponseCode}, reference {expected.ResponseCode}");
        if (expected.AuthoritativeAnswer != actual.AuthoritativeAnswer) diffs.Add($"AA {actual.AuthoritativeAnswer}, reference {expected.AuthoritativeAnswer}");
        if (expected.Truncated != actual.Truncated) diffs.Add($"TC {actual.Truncated}, reference {expected.Truncated}");
        if (expected.Questions.Count != actual.Questions.Count
            || (expected.Questions.Count == 1 && expected.Questions[0].Name.ToString() != actual.Questions[0].Name.ToString()))
        {
            diffs.Add($"question {string.Join(",", actual.Questions)}, reference {string.Join(",", expected.Questions)}");
        }
        if ((expected.Edns is null) != (actual.Edns is null)) diffs.Add($"OPT present {actual.Edns is not null}, reference {expected.Edns is not null}");
        CompareSection("answer", expected.Answers, actual.Answers, diffs);
        CompareSection("authority", expected.Authority, actual.Authority, diffs);
        if (compareAdditional)
        {
            CompareSection("additional", expected.Additional, actual.Additional, diffs);
        }
        return diffs;
    }

    public static string Key(ResourceRecord rr) =>
        $"{rr.Name.ToString().ToLowerInvariant()} {rr.Ttl} {RecordTypeNames.ToText(rr.Class)} {RecordTypeNames.ToText(rr.Type)} {Convert.ToHexString(rr.Data)}";

    private static void CompareSection(string name, List<ResourceRecord> expected, List<ResourceRecord> actual, List<string> diffs)
    {
        var e = expected.Select(Key).ToHashSet();
        var a = actual.Select(Key).ToHashSet();
        foreach (var missing in e.Except(a)) diffs.Add($"{name} lacks   {missing}");
        foreach (var extra in a.Except(e)) diffs.Add($"{name} extra   {extra}");
    }

    public static string Describe(DnsMessage m)
    {
        var sb = new StringBuilder();
        sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"  {m.ResponseCode} aa={m.AuthoritativeAnswer} tc={m.Truncated} an={m.Answers.Count} ns={m.Authority.Count} ar={m.Additional.Count}\n");
        foreach (var rr in m.Answers) sb.Append("  AN ").Append(Key(rr)).Append('\n');
        foreach (var rr in m.Authority) sb.Append("  NS ").Append(Key(rr)).Append('\n');
        foreach (var rr in m.Additional) sb.Append("  AR ").Append(Key(rr)).Append('\n');
        return sb.ToString();
    }
}
