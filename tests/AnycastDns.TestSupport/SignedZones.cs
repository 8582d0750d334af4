using System.Globalization;

namespace AnycastDns.TestSupport;

/// <summary>How a signed test zone denies existence.</summary>
public enum DenialKind
{
    /// <summary>NSEC (RFC 4034 §4), signed by ldns-signzone.</summary>
    Nsec,
    /// <summary>NSEC3 without Opt-Out, 0 extra iterations and no salt (RFC 9276 §3.1), signed by ldns-signzone.</summary>
    Nsec3,
    /// <summary>
    /// NSEC3 with Opt-Out, a salt and 5 extra iterations, signed by dnssec-signzone -A, which (unlike ldns-signzone -p)
    /// really leaves unsigned delegations out of the chain (RFC 5155 §6).
    /// </summary>
    Nsec3OptOut,
}

/// <summary>A zone signed for a test: the signed master file and the key a validator trusts.</summary>
/// <param name="Origin">The zone's apex, with the trailing dot.</param>
/// <param name="Path">The signed master file.</param>
/// <param name="TrustAnchor">The KSK's DNSKEY record in presentation format (owner, class, type, RDATA on one line).</param>
public sealed record SignedZone(string Origin, string Path, string TrustAnchor)
{
    public const string KeygenPath = "/usr/bin/dnssec-keygen";
    public const string LdnsSignzonePath = "/usr/bin/ldns-signzone";
    public const string BindSignzonePath = "/usr/bin/dnssec-signzone";

    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Signs <paramref name="zoneText"/> (the zone <paramref name="origin"/>) with a fresh ECDSA P-256 KSK and ZSK
    /// (algorithm 13) made in <paramref name="directory"/>, and writes <c>&lt;origin&gt;zone</c> there. Keys are made per
    /// run, so no private key lives in the repository. <paramref name="inception"/> and <paramref name="expiration"/> set
    /// the RRSIG validity (ldns-signzone only; by default from now to four weeks from now).
    /// </summary>
    public static async Task<SignedZone> SignAsync(string origin, string zoneText, DenialKind denial, string directory,
        DateTimeOffset? expiration = null, DateTimeOffset? inception = null)
    {
        ArgumentNullException.ThrowIfNull(origin);
        ExternalTool.RequireInstalled(KeygenPath, "bind9-utils");
        string apex = origin.TrimEnd('.');
        Directory.CreateDirectory(directory);
        string source = System.IO.Path.Combine(directory, apex + ".unsigned");
        string signed = System.IO.Path.Combine(directory, apex + ".zone");
        await File.WriteAllTextAsync(source, zoneText).ConfigureAwait(false);

        string ksk = await KeygenAsync(directory, apex, ["-f", "KSK"]).ConfigureAwait(false);
        string zsk = await KeygenAsync(directory, apex, []).ConfigureAwait(false);
        var arguments = new List<string>();
        string signer;
        if (denial == DenialKind.Nsec3OptOut)
        {
            ExternalTool.RequireInstalled(BindSignzonePath, "bind9-utils");
            signer = BindSignzonePath;
            // -S: publish the keys found in -K (the zone text has no DNSKEY); -A: Opt-Out; -3/-H: salt and iterations;
            // -d: the dsset- file it writes goes there too, not into the working directory (the repository root, for
            // the fuzz target).
            arguments.AddRange(["-q", "-S", "-K", directory, "-d", directory, "-A", "-3", "beef", "-H", "5", "-o", apex, "-f", signed, source, ksk, zsk]);
        }
        else
        {
            ExternalTool.RequireInstalled(LdnsSignzonePath, "ldnsutils");
            signer = LdnsSignzonePath;
            if (expiration is { } until)
            {
                arguments.AddRange(["-e", until.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)]);
            }
            if (inception is { } from)
            {
                arguments.AddRange(["-i", from.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)]);
            }
            if (denial == DenialKind.Nsec3)
            {
                arguments.AddRange(["-n", "-t", "0"]);
            }
            arguments.AddRange(["-o", apex, "-f", signed, source, ksk, zsk]);
        }
        var result = await ExternalTool.RunAsync(signer, arguments, ToolTimeout).ConfigureAwait(false);
        if (result.ExitCode != 0 || !File.Exists(signed))
        {
            throw new InvalidOperationException($"{signer} failed (exit {result.ExitCode}) on {source}:\n{result.Output}");
        }
        return new SignedZone(apex + ".", signed, DnskeyLine(ksk + ".key"));
    }

    /// <summary>Makes an algorithm-13 key in <paramref name="directory"/> and returns its path without extension.</summary>
    private static async Task<string> KeygenAsync(string directory, string apex, string[] flags)
    {
        var result = await ExternalTool.RunAsync(KeygenPath, ["-q", "-K", directory, "-a", "ECDSAP256SHA256", .. flags, apex], ToolTimeout).ConfigureAwait(false);
        string name = result.StandardOutput.Trim();
        if (result.ExitCode != 0 || name.Length == 0)
        {
            throw new InvalidOperationException($"dnssec-keygen failed (exit {result.ExitCode}):\n{result.Output}");
        }
        return System.IO.Path.Combine(directory, name);
    }

    /// <summary>The DNSKEY record of a BIND .key file: its one line that is not a comment.</summary>
    private static string DnskeyLine(string keyFile) =>
        File.ReadAllLines(keyFile).Single(l => l.Length > 0 && !l.StartsWith(';'));
}
