using AnycastDns.TestSupport;
using AnycastDns.TestSupport.Lab;

namespace AnycastDns.Lab.Tests;

/// <summary>
/// deploy/zones-repository/.github/workflows/zones.yml, its steps run as the file lists them (read with Debian's
/// python3-yaml) against a scratch git repository and the real anycastdns: after the zonemd job committed a ZONEMD, the
/// next edit still passes the check (the old `check --zonemd zones` failed it, and the repository stayed red), and a
/// broken edit fails with file:line.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ZonesWorkflowTests
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(60);

    private static string Workflow => Path.Combine(RepositoryPaths.Root, "deploy", "zones-repository", ".github", "workflows", "zones.yml");

    /// <summary>Prints the run script of job argv[2]'s step named argv[3].</summary>
    private const string StepScript = """
        import sys, yaml
        jobs = yaml.safe_load(open(sys.argv[1]))["jobs"]
        print(next(s["run"] for s in jobs[sys.argv[2]]["steps"] if s.get("name") == sys.argv[3]))
        """;

    [Fact]
    public async Task An_edit_after_the_zonemd_commit_passes_and_a_broken_edit_fails_with_file_and_line()
    {
        ExternalTool.RequireInstalled(QueryStream.Python, "python3");
        string scratch = Directory.CreateTempSubdirectory("anycastdns-zones-workflow-").FullName;
        try
        {
            // anycastdns on PATH, as the workflow's install step leaves it.
            string bin = Directory.CreateDirectory(Path.Combine(scratch, "bin")).FullName;
            string wrapper = Path.Combine(bin, "anycastdns");
            await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nexec dotnet exec '{AnycastDnsServer.DllPath}' \"$@\"\n");
            File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            string origin = Path.Combine(scratch, "origin.git");
            string repo = Path.Combine(scratch, "zones-repo");
            await GitAsync(scratch, "init", "--quiet", "--bare", "--initial-branch=main", origin);
            await GitAsync(scratch, "clone", "--quiet", origin, repo);
            Directory.CreateDirectory(Path.Combine(repo, "zones"));
            string zone = Path.Combine(repo, "zones", "example.com.zone");
            File.Copy(Path.Combine(RepositoryPaths.ExampleZones, "example.com.zone"), zone);
            await GitAsync(repo, "add", ".");
            await GitAsync(repo, "commit", "--quiet", "-m", "zones");
            await GitAsync(repo, "push", "--quiet", "origin", "main");

            string check = await StepAsync("check", "Check zones");
            string write = await StepAsync("zonemd", "Write ZONEMD records");
            string commit = await StepAsync("zonemd", "Commit them");

            var first = await RunStepAsync(repo, bin, check);
            Assert.True(first.ExitCode == 0, first.Output);
            Assert.True((await RunStepAsync(repo, bin, write)).ExitCode == 0);
            var committed = await RunStepAsync(repo, bin, commit);
            Assert.True(committed.ExitCode == 0, committed.Output);
            Assert.Contains(" ZONEMD ", await File.ReadAllTextAsync(zone), StringComparison.Ordinal);

            // The next edit: a new name and a new serial; its committed ZONEMD is now stale.
            string text = await File.ReadAllTextAsync(zone);
            await File.WriteAllTextAsync(zone, text.Replace("2024010101 ; serial", "2024010102 ; serial", StringComparison.Ordinal) + "added           IN A     192.0.2.77\n");
            await GitAsync(repo, "commit", "--quiet", "-am", "an edit");
            var edited = await RunStepAsync(repo, bin, check);
            Assert.True(edited.ExitCode == 0, $"the check failed an edit made after the ZONEMD commit: {edited.Output}");
            // What the workflow ran before: the same edit fails it, and zonemd, needing check, never refreshed the record.
            var old = await RunStepAsync(repo, bin, "anycastdns check --zonemd zones");
            Assert.NotEqual(0, old.ExitCode);
            Assert.True((await RunStepAsync(repo, bin, write)).ExitCode == 0);
            Assert.True((await RunStepAsync(repo, bin, commit)).ExitCode == 0);
            Assert.True((await RunStepAsync(repo, bin, "anycastdns check --zonemd zones")).ExitCode == 0, "the refreshed ZONEMD does not verify");

            // A broken edit: a record type that does not exist, on a known line.
            string[] lines = await File.ReadAllLinesAsync(zone);
            await File.WriteAllLinesAsync(zone, [.. lines, "broken          IN NOSUCHTYPE 1"]);
            var broken = await RunStepAsync(repo, bin, check);
            Assert.NotEqual(0, broken.ExitCode);
            Assert.Contains($"example.com.zone:{(lines.Length + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)}:", broken.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static async Task<string> StepAsync(string job, string step)
    {
        var result = await ExternalTool.RunAsync(QueryStream.Python, ["-c", StepScript, Workflow, job, step], StepTimeout);
        Assert.True(result.ExitCode == 0, $"{Workflow}: job {job}, step '{step}': {result.Output}");
        return result.StandardOutput;
    }

    /// <summary>Runs a step's script with bash -e (as GitHub's runner does) in <paramref name="directory"/>, anycastdns on PATH.</summary>
    private static Task<ToolResult> RunStepAsync(string directory, string bin, string script) =>
        ExternalTool.RunAsync("/usr/bin/bash", ["-e", "-o", "pipefail", "-c", "cd \"$0\" && eval \"$STEP\"", directory], StepTimeout, environment: new Dictionary<string, string?>
        {
            ["STEP"] = script,
            ["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}",
        });

    private static async Task GitAsync(string directory, params string[] arguments)
    {
        var result = await ExternalTool.RunAsync("/usr/bin/git",
            ["-C", directory, "-c", "user.name=test", "-c", "user.email=test@example.invalid", .. arguments], StepTimeout);
        Assert.True(result.ExitCode == 0, $"git {string.Join(' ', arguments)}: {result.Output}");
    }
}
