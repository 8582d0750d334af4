using System.Globalization;

namespace AnycastDns.TestSupport.Lab;

/// <summary>
/// One PoP of an <see cref="AnycastLab"/> made with <see cref="AnycastLab.StartNetworkAsync"/>, run as the deployment
/// templates run it: the sidecar container (BIRD + watchdog) and the server container, both in the PoP's network
/// namespace (<c>--network ns:/run/netns/NAME</c>, as compose's <c>network_mode: host</c> puts them in the host's), with
/// every capability dropped but NET_BIND_SERVICE, a read-only root and a tmpfs /tmp, sharing BIRD's folder
/// (<c>/run/bird</c>, here a host folder owned by UID 1654). Disposing removes both containers by name.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ContainerPop : IAsyncDisposable
{
    /// <summary>The UID both images run as (APP_UID), who owns BIRD's control socket.</summary>
    public const int AppUid = 1654;

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(40);

    private readonly PodmanImages _images;
    private int _disposed;

    public ContainerPop(PodmanImages images, LabPop pop)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(pop);
        _images = images;
        Pop = pop;
        BirdFolder = Path.Combine(pop.WorkDirectory, "run-bird");
    }

    public LabPop Pop { get; }

    public string ServerContainer => $"{_images.Prefix}-{Pop.Name}-dns";

    public string SidecarContainer => $"{_images.Prefix}-{Pop.Name}-bird";

    /// <summary>The host folder mounted at /run/bird in both containers.</summary>
    public string BirdFolder { get; }

    private string Network => $"ns:/run/netns/{Pop.Space.Name}";

    /// <summary>Starts the sidecar: BIRD from deploy/bird/bird.conf rendered with this PoP's values, and the watchdog on the PoP's unicast address.</summary>
    public async Task StartSidecarAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(BirdFolder);
        File.SetUnixFileMode(BirdFolder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await ExternalTool.RunAsync("/usr/bin/chown", [$"{AppUid}:{AppUid}", BirdFolder], TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        // The pop's work folder is the test's temporary folder (mode 0700, root): the containers' user must reach /run/bird through it.
        File.SetUnixFileMode(Pop.WorkDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        await _images.PodmanAsync(
        [
            "run", "--detach", "--name", SidecarContainer, "--network", Network,
            "--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE", "--read-only", "--tmpfs", "/tmp",
            "--volume", $"{BirdFolder}:/run/bird",
            "--env", $"ROUTER_ID={Pop.LinkAddress}", "--env", $"ROUTER_IP={Pop.RouterAddress}",
            "--env", $"LOCAL_AS={AnycastLab.PopAs.ToString(CultureInfo.InvariantCulture)}",
            "--env", $"PEER_AS={AnycastLab.RouterAs.ToString(CultureInfo.InvariantCulture)}",
            "--env", $"ANYCAST_PREFIX={AnycastLab.AnycastPrefix}",
            "--env", "HOLD_TIME=3", "--env", "KEEPALIVE_TIME=1", "--env", "CONNECT_RETRY_TIME=1",
            "--env", $"WATCHDOG_TARGET={Pop.LinkAddress}:53",
            _images.SidecarImage,
        ], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts the server container on the image's example zones: the anycast and unicast addresses, announcing through the sidecar's BIRD.</summary>
    public async Task StartServerAsync(CancellationToken cancellationToken)
    {
        await _images.PodmanAsync(
        [
            "run", "--detach", "--name", ServerContainer, "--network", Network,
            "--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE", "--read-only", "--tmpfs", "/tmp",
            "--volume", $"{BirdFolder}:/run/bird",
            "--stop-timeout", ((int)StopTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            _images.ServerImage,
            "--listen", $"{AnycastLab.AnycastAddress}:53", "--listen", $"{Pop.LinkAddress}:53",
            "--anycast-address", AnycastLab.AnycastAddress, "--pop-id", Pop.Name,
            "--bird-socket", "/run/bird/bird.ctl", "--bird-protocol", "anycast",
            "--drain-seconds", LabPop.DrainSeconds.ToString(CultureInfo.InvariantCulture),
        ], cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>podman stop</c>: SIGTERM, then SIGKILL after the stop timeout; returns once the container stopped.</summary>
    public Task StopServerAsync(CancellationToken cancellationToken) =>
        _images.PodmanAsync(["stop", ServerContainer], cancellationToken, timeout: StopTimeout + TimeSpan.FromSeconds(10));

    /// <summary><c>podman kill</c>: SIGKILL to the server.</summary>
    public Task KillServerAsync(CancellationToken cancellationToken) =>
        _images.PodmanAsync(["kill", "--signal", "KILL", ServerContainer], cancellationToken);

    /// <summary>The container's exit code, as podman recorded it.</summary>
    public async Task<int> ServerExitCodeAsync(CancellationToken cancellationToken)
    {
        var result = await _images.PodmanAsync(["inspect", "--format", "{{.State.ExitCode}}", ServerContainer], cancellationToken).ConfigureAwait(false);
        return int.Parse(result.StandardOutput.Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Both containers' logs, for messages.</summary>
    public async Task<string> LogsAsync()
    {
        var server = await _images.PodmanAsync(["logs", ServerContainer], CancellationToken.None, check: false).ConfigureAwait(false);
        var sidecar = await _images.PodmanAsync(["logs", SidecarContainer], CancellationToken.None, check: false).ConfigureAwait(false);
        return $"--- {ServerContainer} ---\n{server.Output}--- {SidecarContainer} ---\n{sidecar.Output}";
    }

    /// <summary>Removes both containers by name (stopping them at once).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        foreach (string name in new[] { ServerContainer, SidecarContainer })
        {
            await _images.PodmanAsync(["rm", "--force", "--time", "0", name], CancellationToken.None, check: false).ConfigureAwait(false);
        }
    }
}
