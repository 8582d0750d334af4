using SharpFuzz;

namespace AnycastDns.Fuzz;

/// <summary>
/// The fuzz targets of AnycastDns, for SharpFuzz and afl-fuzz (scripts/fuzz.sh builds, instruments and runs them).
/// <code>
/// AnycastDns.Fuzz TARGET            under afl-fuzz: SharpFuzz's fork server, one input per run on standard input
/// AnycastDns.Fuzz TARGET FILE...    runs the target once on each file and says what failed (triage, regressions)
/// </code>
/// A target throws when an input breaks one of its rules; afl-fuzz records that input as a crash.
/// </summary>
internal static class Program
{
    /// <summary>afl-fuzz's own default cap on an input (1 MB); a longer one is cut.</summary>
    private const int MaxInput = 1 << 20;

    private static int Main(string[] args)
    {
        if (args.Length == 0 || Array.IndexOf(FuzzTarget.Names, args[0]) < 0)
        {
            Console.Error.WriteLine($"usage: AnycastDns.Fuzz <{string.Join('|', FuzzTarget.Names)}> [input file...]");
            return 2;
        }
        if (args.Length > 1)
        {
            return Replay(FuzzTarget.Create(args[0])!, args[1..]);
        }
        // Made inside the first run: instrumented code (the zone loader) must not run before SharpFuzz has set up the
        // coverage map, and SharpFuzz runs the first input once before it starts counting.
        FuzzTarget? target = null;
        byte[] input = new byte[MaxInput];
        Fuzzer.Run(stream =>
        {
            target ??= FuzzTarget.Create(args[0])!;
            int length = 0;
            for (int read; length < input.Length && (read = stream.Read(input, length, input.Length - length)) > 0;)
            {
                length += read;
            }
            target.Run(input.AsSpan(0, length));
        });
        return 0;
    }

    /// <summary>Runs every file through the target; prints one line per file and the exception of each that failed.</summary>
    private static int Replay(FuzzTarget target, string[] files)
    {
        int failed = 0;
        foreach (string file in files)
        {
            byte[] input = File.ReadAllBytes(file);
            try
            {
                target.Run(input);
                Console.WriteLine($"{file}: ok");
            }
#pragma warning disable CA1031 // every exception is a finding, reported and counted
            catch (Exception e)
#pragma warning restore CA1031
            {
                failed++;
                Console.WriteLine($"{file}: FAILED ({input.Length} octets: {Convert.ToHexString(input.AsSpan(0, Math.Min(input.Length, 512)))}{(input.Length > 512 ? "..." : "")})");
                Console.WriteLine(e.ToString());
            }
        }
        Console.WriteLine($"{files.Length - failed} of {files.Length} inputs ok");
        return failed == 0 ? 0 : 1;
    }
}
