namespace AnycastDns.Server.Anycast;

/// <summary>Where the speaker's announcement of the prefix stands.</summary>
public enum AnnouncementState
{
    /// <summary>Not announced, and not being announced (BIRD: the protocol is <c>down</c>, i.e. disabled).</summary>
    Withdrawn,

    /// <summary>Told to announce, not exporting yet (BIRD: <c>start</c>, <c>feed</c>, <c>wait</c>).</summary>
    Announcing,

    /// <summary>The route is exported to the speaker's BGP sessions (BIRD: <c>up</c>).</summary>
    Announced,

    /// <summary>Told to withdraw, still winding down (BIRD: <c>stop</c>, <c>flush</c>).</summary>
    Withdrawing,
}

/// <summary>
/// The speaker's own view of the announcement. It says what the speaker exports, not whether any BGP session is
/// established nor what the upstream routers hold.
/// </summary>
/// <param name="State">Where the announcement stands.</param>
/// <param name="Detail">The speaker's words, for logs and health output: <c>anycast Static master4 up 19:26:11.715</c>.</param>
public sealed record AnnouncementStatus(AnnouncementState State, string Detail)
{
    /// <summary>The speaker was told to announce and has not been told otherwise since (announcing or announced).</summary>
    public bool IsEnabled => State is AnnouncementState.Announcing or AnnouncementState.Announced;

    /// <summary>The route is exported now.</summary>
    public bool IsAnnounced => State == AnnouncementState.Announced;
}
