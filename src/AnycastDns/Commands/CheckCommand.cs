using System.CommandLine;
using AnycastDns.Zones;

namespace AnycastDns.Commands;

/// <summary>
/// <c>anycastdns check [--zonemd | --zonemd-write] &lt;zones-folder | zone-file&gt;</c>: loads zones exactly as the server
/// would and prints, like named-checkzone, each zone's origin, serial and record count, or every problem as
/// <c>file:line:column</c>. <c>--zonemd</c> also prints each zone's ZONEMD record (RFC 8976, SIMPLE, SHA-384);
/// <c>--zonemd-write</c> puts it into the zone file. Exit code 0 when every zone loads, 1 when any has an error, 2 for a
/// usage error.
/// </summary>
internal static class CheckCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var print = new Option<bool>("--zonemd") { Description = "also print each zone's ZONEMD record (RFC 8976, SIMPLE, SHA-384)" };
        var write = new Option<bool>("--zonemd-write") { Description = "write a fresh ZONEMD record into each zone file" };
        var path = new Argument<string>("path") { Description = "a zones folder (its *.zone files) or one zone file" };
        CommandTree.RejectOptionLikeValues(path);
        var command = new Command("check", "check a zones folder or one zone file as the server would load it; exit 1 on any error")
        {
            print, write, path,
        };
        command.SetAction(r => Run(r.GetRequiredValue(path), r.GetValue(print), r.GetValue(write), output, error));
        return command;
    }

    public static int Run(string path, bool print, bool write, TextWriter output, TextWriter error)
    {
        IReadOnlyList<ZoneLoadResult> results;
        if (Directory.Exists(path))
        {
            results = ZoneLoader.LoadFolder(path).Results;
            if (results.Count == 0)
            {
                error.WriteLine($"{path}: no *{ZoneLoader.Extension} files in this folder");
                return 1;
            }
        }
        else if (File.Exists(path))
        {
            results = [ZoneLoader.LoadFile(path)];
        }
        else
        {
            error.WriteLine($"{path}: no such file or folder");
            return 1;
        }

        bool failed = false;
        foreach (var result in results)
        {
            if (write)
            {
                // A stale ZONEMD fails the load, so the writer works from the file, not from the result.
                try
                {
                    output.WriteLine($"{result.Path}: wrote {ZonemdWriter.Write(result.Path, result.Origin)}");
                    continue;
                }
                catch (InvalidOperationException e)
                {
                    foreach (var diagnostic in result.Diagnostics.Where(d => d.Severity == Severity.Error && !d.Message.StartsWith("ZONEMD", StringComparison.Ordinal)))
                    {
                        error.WriteLine(diagnostic.ToString());
                    }
                    error.WriteLine(e.Message);
                    failed = true;
                    continue;
                }
            }
            foreach (var diagnostic in result.Diagnostics)
            {
                error.WriteLine(diagnostic.ToString());
            }
            if (result.Zone is { } zone)
            {
                output.WriteLine($"{zone.Origin}\tserial {zone.Serial}\t{zone.RecordCount} records\tOK");
                if (print)
                {
                    output.WriteLine($"{zone.Origin} {zone.Soa.Ttl} IN ZONEMD {ZoneDigest.CreateZonemd(zone, ZonemdHashAlgorithm.Sha384)}");
                }
            }
            else
            {
                failed = true;
                output.WriteLine($"{result.Origin}\tFAILED\t{result.Path}");
            }
        }
        return failed ? 1 : 0;
    }
}
