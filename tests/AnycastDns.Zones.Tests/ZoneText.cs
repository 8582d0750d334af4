using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Zones.Tests;

/// <summary>Reads zone text for the zone example.test. the way the zone-file tests need it.</summary>
internal static class ZoneText
{
    public const string FileName = "example.test.zone";

    public static readonly DnsName Origin = DnsName.Parse("example.test.");

    public static ZoneFileResult Read(string text) => ZoneFileReader.ReadText(text, FileName, Origin);

    /// <summary>Reads text that must give no diagnostic at all, not even a warning.</summary>
    public static List<ZoneRecord> ReadClean(string text)
    {
        var result = Read(text);
        Assert.True(result.Diagnostics.Count == 0, string.Join("\n", result.Diagnostics));
        return result.Records;
    }

    /// <summary>Reads text that must give exactly one record and no diagnostic.</summary>
    public static ZoneRecord Single(string text) => Assert.Single(ReadClean(text));

    /// <summary>Each diagnostic as it is printed: <c>file:line:column: error: message</c>.</summary>
    public static string[] Printed(ZoneFileResult result) => result.Diagnostics.ConvertAll(d => d.ToString()).ToArray();

    /// <summary>Reads text that must give exactly one diagnostic, an error, and returns it as printed.</summary>
    public static string SingleError(string text)
    {
        var result = Read(text);
        Assert.True(result.HasErrors, "expected an error, got none");
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(Severity.Error, diagnostic.Severity);
        return diagnostic.ToString();
    }

    public static string Hex(ZoneRecord record) => Convert.ToHexStringLower(record.Rdata);

    public static DnsName Name(string text) => DnsName.Parse(text);
}
