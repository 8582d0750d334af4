using AnycastDns.TestSupport;
using AnycastDns.TestSupport.Lab;

namespace AnycastDns.Lab.Tests;

/// <summary>
/// The deployment templates as their tools read them: deploy/bird/bird.conf is a configuration BIRD 2 accepts as it is
/// (and the lab runs it with only its values changed), the systemd unit passes <c>systemd-analyze verify</c>, the
/// Kubernetes overlay renders and matches the Kubernetes schema, the BIRD renderer refuses an IPv6 router id in one line, and the zones workflow's check
/// cannot lock itself.
/// </summary>
public sealed class DeployTemplateTests
{
    private static readonly TimeSpan ParseTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Systemd_verifies_the_unit_with_no_warning()
    {
        const string analyze = "/usr/bin/systemd-analyze";
        ExternalTool.RequireInstalled(analyze, "systemd");
        // verify checks that ExecStart exists: a root with the unit, the built apphost at the unit's path and the
        // host's own units (the targets the unit orders itself after).
        string root = Directory.CreateTempSubdirectory("anycastdns-systemd-").FullName;
        try
        {
            string unit = Path.Combine(RepositoryPaths.Root, "deploy", "systemd", "anycastdns.service");
            Directory.CreateDirectory(Path.Combine(root, "opt", "anycastdns"));
            Directory.CreateDirectory(Path.Combine(root, "etc", "systemd", "system"));
            File.Copy(Path.Combine(AppContext.BaseDirectory, "anycastdns"), Path.Combine(root, "opt", "anycastdns", "anycastdns"));
            File.Copy(unit, Path.Combine(root, "etc", "systemd", "system", "anycastdns.service"));
            Directory.CreateDirectory(Path.Combine(root, "usr", "lib", "systemd"));
            var copied = await ExternalTool.RunAsync("/usr/bin/cp", ["-r", "/usr/lib/systemd/system", Path.Combine(root, "usr", "lib", "systemd") + "/"], ToolTimeout);
            Assert.True(copied.ExitCode == 0, copied.Output);
            var result = await ExternalTool.RunAsync(analyze, ["verify", $"--root={root}", "anycastdns.service"], ToolTimeout);
            // Exit 0 and silence: an unknown key or a bad value is only a warning, with exit 0.
            Assert.True(result.ExitCode == 0 && result.Output.Trim().Length == 0, $"exit {result.ExitCode}: {result.Output}");
            string[] lines = await File.ReadAllLinesAsync(unit);
            Assert.Contains("SupplementaryGroups=bird", lines);
            Assert.Contains("DynamicUser=yes", lines);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task The_bird_renderer_refuses_an_ipv6_host_address_in_one_line()
    {
        string script = Path.Combine(RepositoryPaths.Root, "deploy", "bird", "render-bird-conf.sh");
        var environment = new Dictionary<string, string?>
        {
            ["ROUTER_ID"] = "2001:db8::10", ["ROUTER_IP"] = "198.18.0.2", ["LOCAL_AS"] = "64512", ["PEER_AS"] = "64513",
            ["ANYCAST_PREFIX"] = "198.19.53.0/24",
        };
        var result = await ExternalTool.RunAsync("/usr/bin/bash", [script, LabTopology.DeployTemplatePath, "-"], ToolTimeout, environment: environment);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
        Assert.Equal("render-bird-conf: ROUTER_ID='2001:db8::10' is an IPv6 address: the template runs BGP over IPv4; set ROUTER_ID to the node's IPv4 address", result.StandardError.Trim());
    }

    [Fact]
    public async Task Kustomize_renders_the_pop_overlay_with_the_git_sync_webhook_timeout()
    {
        string rendered = await RenderPopOverlay();
        Assert.Contains("kind: DaemonSet", rendered, StringComparison.Ordinal);
        Assert.Contains("--webhook-timeout=", rendered, StringComparison.Ordinal);
    }

    /// <summary>
    /// The rendered overlay against the Kubernetes schema, offline: every object is read strictly into the models
    /// KubernetesClient generates from Kubernetes' OpenAPI document, so a field name the schema does not have (at any
    /// depth: a misspelt <c>contaners</c>, a probe option in the wrong place) or a value of the wrong type fails with
    /// its line. Not checked: required fields, enum values, and the API server's own rules (admission, immutable fields).
    /// </summary>
    [Theory]
    [InlineData("ams1")]
    [InlineData("fra1-secondary")]
    public async Task The_rendered_pop_overlay_matches_the_kubernetes_schema(string pop)
    {
        string rendered = await RenderPopOverlay(pop);
        var objects = k8s.KubernetesYaml.LoadAllFromString(rendered, typeMap: null, strict: true);
        var kinds = objects.Select(o => o.GetType().Name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["V1ConfigMap", "V1DaemonSet"], kinds);
        var pod = objects.OfType<k8s.Models.V1DaemonSet>().Single().Spec.Template.Spec;
        Assert.Equal(["dns"], pod.Containers.Select(c => c.Name));
        Assert.Equal(pop == "ams1" ? ["anycast-address", "bird", "git-sync"] : ["secondary-state", "anycast-address", "bird", "git-sync"],
            pod.InitContainers.Select(c => c.Name));
        Assert.True(pod.HostNetwork);
        string namespaceFile = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "deploy", "k8s", "namespace.yaml"));
        Assert.IsType<k8s.Models.V1Namespace>(Assert.Single(k8s.KubernetesYaml.LoadAllFromString(namespaceFile, typeMap: null, strict: true)));

        // The check can fail: the same text with one field misspelt deep inside, or a number where a string belongs.
        var misspelt = Assert.ThrowsAny<Exception>(() => k8s.KubernetesYaml.LoadAllFromString(
            rendered.Replace("readinessProbe:", "readinesProbe:", StringComparison.Ordinal), typeMap: null, strict: true));
        Assert.Contains("readinesProbe", misspelt.Message, StringComparison.Ordinal);
        Assert.ThrowsAny<Exception>(() => k8s.KubernetesYaml.LoadAllFromString(
            rendered.Replace("hostNetwork: true", "hostNetwork: [true]", StringComparison.Ordinal), typeMap: null, strict: true));
    }

    private static async Task<string> RenderPopOverlay(string pop = "ams1")
    {
        const string kubectl = "/usr/bin/kubectl";
        ExternalTool.RequireInstalled(kubectl, "kubectl");
        var result = await ExternalTool.RunAsync(kubectl, ["kustomize", Path.Combine(RepositoryPaths.Root, "deploy", "k8s", "pops", pop)], ToolTimeout);
        Assert.True(result.ExitCode == 0, result.Output);
        return result.StandardOutput;
    }

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
