using System.Security.Cryptography;
using System.Text;

namespace AnycastDns.TestSupport.Lab;

/// <summary>
/// The two images of deploy/docker, built here with podman and no registry, as deploy/README.md tells an operator to:
/// a Debian 12 base made with debootstrap and <c>podman import</c>ed, the native (AOT) publish made on the host, and
/// both Dockerfiles built with <c>--build-arg BASE_IMAGE=... --build-arg PUBLISH=prebuilt</c> (no SDK image).
/// The debootstrap tarball is cached in <see cref="CacheDirectory"/> under a name keyed by its inputs (suite, variant,
/// packages, mirror), so only the first run on a machine pays for it. Every image gets a tag with a random suffix;
/// disposing removes those tags' images (and the build context), by name.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class PodmanImages : IAsyncDisposable
{
    public const string PodmanPath = "/usr/bin/podman";

    public const string DebootstrapPath = "/usr/sbin/debootstrap";

    /// <summary>Where the debootstrap tarballs are kept between runs.</summary>
    public const string CacheDirectory = "/var/cache/anycastdns-tests";

    private const string Suite = "bookworm";

    private const string Mirror = "http://deb.debian.org/debian";

    /// <summary>What the two images need from their base, so that neither Dockerfile has to run apt-get (no network in the build).</summary>
    private const string Packages = "bird2,iproute2,libcap2-bin,libssl3,libstdc++6,zlib1g";

    private static readonly TimeSpan DebootstrapTimeout = TimeSpan.FromMinutes(10);

    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(1);

    private readonly List<string> _tags = [];
    private int _disposed;

    private PodmanImages(string prefix, string context, string configuration)
    {
        Prefix = prefix;
        Context = context;
        Configuration = configuration;
    }

    /// <summary><c>adns-test-1a2b3c4d</c>: the start of every image tag and container name of this run.</summary>
    public string Prefix { get; }

    public string ServerImage => $"localhost/{Prefix}-dns:test";

    public string SidecarImage => $"localhost/{Prefix}-bird:test";

    public string BaseImage => $"localhost/{Prefix}-base:{Suite}";

    /// <summary>What each step took, for the test's output.</summary>
    public string Timings { get; private set; } = "";

    /// <summary>The build context: artifacts/publish/, zones/ and deploy/ (what the Dockerfiles copy).</summary>
    private string Context { get; }

    /// <summary>A containers.conf of the run's own (CONTAINERS_CONF): runc, cgroupfs, no default ulimits, as this machine needs.</summary>
    private string Configuration { get; }

    /// <summary>Throws a one-line explanation unless podman and debootstrap are installed and this process is root.</summary>
    public static void RequireAvailable()
    {
        NetworkNamespace.RequireRoot();
        ExternalTool.RequireInstalled(PodmanPath, "podman");
        ExternalTool.RequireInstalled("/usr/sbin/runc", "runc");
        ExternalTool.RequireInstalled(DebootstrapPath, "debootstrap");
    }

    /// <summary>Makes (or takes from the cache) the base, publishes the server on the host, and builds both images.</summary>
    public static async Task<PodmanImages> BuildAsync(CancellationToken cancellationToken)
    {
        RequireAvailable();
        string prefix = $"adns-test-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        string context = Directory.CreateTempSubdirectory("anycastdns-images-").FullName;
        string configuration = Path.Combine(context, "containers.conf");
        await File.WriteAllTextAsync(configuration, "[containers]\ndefault_ulimits = []\n[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n", cancellationToken).ConfigureAwait(false);
        var images = new PodmanImages(prefix, context, configuration);
        try
        {
            await images.BuildImagesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await images.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return images;
    }

    /// <summary>Runs <c>podman ARGS</c> with this run's containers.conf, bounded; throws with its output on a non-zero exit unless <paramref name="check"/> is false.</summary>
    public async Task<ToolResult> PodmanAsync(IEnumerable<string> arguments, CancellationToken cancellationToken, bool check = true, TimeSpan? timeout = null)
    {
        var list = arguments.ToList();
        var result = await ExternalTool.RunAsync(PodmanPath, list, timeout ?? CommandTimeout, cancellationToken,
            new Dictionary<string, string?> { ["CONTAINERS_CONF"] = Configuration }).ConfigureAwait(false);
        if (check && result.ExitCode != 0)
        {
            throw new InvalidOperationException($"podman {string.Join(' ', list)}: exit {result.ExitCode}: {result.Output.Trim()}");
        }
        return result;
    }

    /// <summary>The size podman gives an image, in bytes.</summary>
    public async Task<long> SizeAsync(string image, CancellationToken cancellationToken)
    {
        var result = await PodmanAsync(["image", "inspect", "--format", "{{.Size}}", image], cancellationToken).ConfigureAwait(false);
        return long.Parse(result.StandardOutput.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Removes this run's images by tag and the build context; each step even when one before it failed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        foreach (string tag in Enumerable.Reverse(_tags))
        {
            await PodmanAsync(["rmi", "--force", tag], CancellationToken.None, check: false).ConfigureAwait(false);
        }
        // Intermediate images of this run's builds are left untagged; remove those no container uses.
        await PodmanAsync(["image", "prune", "--force", "--filter", $"label=anycastdns.test={Prefix}"], CancellationToken.None, check: false).ConfigureAwait(false);
        Directory.Delete(Context, recursive: true);
    }

    /// <summary>The cached tarball's name: a hash of everything that goes into it.</summary>
    public static string BaseTarball()
    {
        string key = $"{Suite} minbase {Packages} {Mirror}";
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
        return Path.Combine(CacheDirectory, $"debian-{Suite}-{hash}.tar");
    }

    private async Task BuildImagesAsync(CancellationToken cancellationToken)
    {
        var timings = new StringBuilder();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string tarball = await EnsureBaseTarballAsync(cancellationToken).ConfigureAwait(false);
        timings.Append($"base {clock.Elapsed.TotalSeconds:F1} s; ");

        clock.Restart();
        string publish = Path.Combine(Context, "artifacts", "publish");
        var published = await ExternalTool.RunAsync("dotnet",
            ["publish", Path.Combine(RepositoryPaths.Root, "src", "AnycastDns"), "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true",
             "-p:CopyOutputSymbolsToPublishDirectory=false", "-o", publish, "-nologo"],
            BuildTimeout, cancellationToken).ConfigureAwait(false);
        if (published.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish: exit {published.ExitCode}: {published.Output.Trim()}");
        }
        timings.Append($"publish {clock.Elapsed.TotalSeconds:F1} s; ");
        CopyDirectory(RepositoryPaths.ExampleZones, Path.Combine(Context, "zones"));
        CopyDirectory(Path.Combine(RepositoryPaths.Root, "deploy", "bird"), Path.Combine(Context, "deploy", "bird"));
        CopyDirectory(Path.Combine(RepositoryPaths.Root, "deploy", "docker"), Path.Combine(Context, "deploy", "docker"));

        clock.Restart();
        _tags.Add(BaseImage);
        await PodmanAsync(["import", tarball, BaseImage], cancellationToken, timeout: BuildTimeout).ConfigureAwait(false);
        foreach (var (file, tag) in new[] { ("Dockerfile", ServerImage), ("sidecar.Dockerfile", SidecarImage) })
        {
            _tags.Add(tag);
            await PodmanAsync(
                ["build", "--file", Path.Combine(Context, "deploy", "docker", file), "--build-arg", $"BASE_IMAGE={BaseImage}", "--build-arg", "PUBLISH=prebuilt",
                 "--label", $"anycastdns.test={Prefix}", "--pull=never", "--tag", tag, Context],
                cancellationToken, timeout: BuildTimeout).ConfigureAwait(false);
        }
        timings.Append($"import and both builds {clock.Elapsed.TotalSeconds:F1} s");
        Timings = timings.ToString();
    }

    /// <summary>The cached debootstrap tarball, made first when missing (into a temporary name, renamed when whole).</summary>
    private static async Task<string> EnsureBaseTarballAsync(CancellationToken cancellationToken)
    {
        string tarball = BaseTarball();
        if (File.Exists(tarball))
        {
            return tarball;
        }
        Directory.CreateDirectory(CacheDirectory);
        string root = Directory.CreateTempSubdirectory("anycastdns-debootstrap-").FullName;
        try
        {
            var made = await ExternalTool.RunAsync(DebootstrapPath, ["--variant=minbase", $"--include={Packages}", Suite, root, Mirror], DebootstrapTimeout, cancellationToken).ConfigureAwait(false);
            if (made.ExitCode != 0)
            {
                throw new InvalidOperationException($"debootstrap {Suite}: exit {made.ExitCode}: {made.Output.Trim()[^Math.Min(2000, made.Output.Trim().Length)..]}");
            }
            // The downloaded .deb files and package lists are not part of the base.
            foreach (string folder in new[] { "var/cache/apt/archives", "var/lib/apt/lists" })
            {
                foreach (string file in Directory.EnumerateFiles(Path.Combine(root, folder), "*", SearchOption.TopDirectoryOnly))
                {
                    File.Delete(file);
                }
            }
            string partial = tarball + ".partial";
            var packed = await ExternalTool.RunAsync("/usr/bin/tar", ["--numeric-owner", "--xattrs", "-C", root, "-cf", partial, "."], DebootstrapTimeout, cancellationToken).ConfigureAwait(false);
            if (packed.ExitCode != 0)
            {
                throw new InvalidOperationException($"tar of the debootstrap base: exit {packed.ExitCode}: {packed.Output.Trim()}");
            }
            File.Move(partial, tarball, overwrite: true);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
        return tarball;
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
            File.SetUnixFileMode(target, File.GetUnixFileMode(file));
        }
    }
}
