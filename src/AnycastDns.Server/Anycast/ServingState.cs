namespace AnycastDns.Server.Anycast;

/// <summary>Where a PoP stands; only <see cref="Announced"/> attracts anycast traffic.</summary>
internal enum ServingState
{
    /// <summary>Loading and checking itself; withdrawn (RFC 4786 §4.3: ready before attracting traffic).</summary>
    Starting,
    /// <summary>Answering, self-checked, and the route is announced.</summary>
    Announced,
    /// <summary>Stopping: withdrawn, still answering until the drain ends.</summary>
    Draining,
    /// <summary>Withdrawn by the operator; still answering on every address, e.g. its unicast one, for debugging.</summary>
    Maintenance,
    /// <summary>Withdrawn because a listener failed, no zone is loaded or the self-check failed.</summary>
    Unhealthy,
    /// <summary>The drain is over: withdrawn, and the listeners are closing.</summary>
    Withdrawn,
}

/// <summary>One change of <see cref="ServingState"/>, with when and why.</summary>
internal sealed record StateTransition(ServingState State, DateTimeOffset At, string Reason);
