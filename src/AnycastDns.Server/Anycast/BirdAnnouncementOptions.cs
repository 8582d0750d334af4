namespace AnycastDns.Server.Anycast;

/// <summary>Where BIRD is and which of its protocols carries the anycast prefix.</summary>
public sealed class BirdAnnouncementOptions
{
    /// <summary>Debian's bird2 package runs <c>bird</c> with this control socket.</summary>
    public const string DefaultSocketPath = "/run/bird/bird.ctl";

    /// <summary>The protocol deploy/bird/bird.conf declares: <c>protocol static anycast { disabled yes; ... }</c>.</summary>
    public const string DefaultProtocol = "anycast";

    /// <summary>BIRD's control socket (<c>bird -s</c>).</summary>
    public string SocketPath { get; init; } = DefaultSocketPath;

    /// <summary>
    /// The BIRD protocol whose routes are the announcement: enabled to announce, disabled to withdraw. A BIRD symbol
    /// name (letters, digits, underscores, not starting with a digit).
    /// </summary>
    public string Protocol { get; init; } = DefaultProtocol;

    /// <summary>The bound on each call to BIRD.</summary>
    public TimeSpan Timeout { get; init; } = BirdControlClient.DefaultTimeout;
}
