using AnycastDns.Zones;

namespace AnycastDns.Commands;

/// <summary>
/// <c>anycastdns check &lt;zones-folder | zone-file&gt;</c>: loads zones exactly as the server would and prints, like
/// named-checkzone, each zone's origin, serial and record count, or every problem as <c>file:line:column</c>.
/// Exit code 0 when every zone loads, 1 when any has an error, 2 for a usage error.
/// </summary>
internal static class CheckCommand
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length != 1 || args[0].StartsWith('-'))
        {
            error.WriteLine("usage: anycastdns check <zones-folder | zone-file>");
            return 2;
        }
        string path = args[0];
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
            foreach (var diagnostic in result.Diagnostics)
            {
                error.WriteLine(diagnostic.ToString());
            }
            if (result.Zone is { } zone)
            {
                output.WriteLine($"{zone.Origin}\tserial {zone.Serial}\t{zone.RecordCount} records\tOK");
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
