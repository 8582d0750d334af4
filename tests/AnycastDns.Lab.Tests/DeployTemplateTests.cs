using AnycastDns.TestSupport;
using AnycastDns.TestSupport.Lab;

namespace AnycastDns.Lab.Tests;

/// <summary>deploy/bird/bird.conf is a configuration BIRD 2 accepts as it is, and the lab runs it with only its values changed.</summary>
public sealed class DeployTemplateTests
{
    private static readonly TimeSpan ParseTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Bird_parses_the_template_as_shipped()
    {
        ExternalTool.RequireInstalled(BirdProcess.DaemonPath, BirdProcess.Package);
        // bird -p: parse the configuration and exit, starting nothing.
        var result = await ExternalTool.RunAsync(BirdProcess.DaemonPath, ["-p", "-c", LabTopology.DeployTemplatePath], ParseTimeout);
        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Fact]
    public async Task The_lab_changes_only_the_define_values_and_the_log_line()
    {
        string[] template = await File.ReadAllLinesAsync(LabTopology.DeployTemplatePath);
        string[] lab = LabTopology.PopConfiguration().Split('\n');
        Assert.Equal(template.Length, lab.Length - 1); // the file's last newline leaves an empty last element
        for (int i = 0; i < template.Length; i++)
        {
            if (template[i] != lab[i])
            {
                Assert.True(
                    (template[i].StartsWith("define ", StringComparison.Ordinal) && lab[i].StartsWith(template[i][..template[i].IndexOf('=', StringComparison.Ordinal)], StringComparison.Ordinal))
                    || (template[i] == "log syslog all;" && lab[i] == "log stderr all;"),
                    $"line {i + 1}: '{template[i]}' became '{lab[i]}'");
            }
        }
        Assert.Contains("protocol static anycast {", template);
        Assert.Contains("    disabled yes;", template);
    }
}
