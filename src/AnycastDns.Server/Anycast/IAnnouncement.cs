namespace AnycastDns.Server.Anycast;

/// <summary>
/// The server's BGP announcement of the anycast prefix, as a toggle on the routing daemon beside it (BIRD today;
/// ExaBGP or GoBGP would be further implementations). The lifecycle announces when the server is ready to answer and
/// withdraws when it is not, so that the prefix leads to this PoP only while it serves.
/// </summary>
/// <remarks>
/// <para>Every call is idempotent (announcing an announced prefix is a success) and bounded by the driver's own
/// timeout. A call completes once the speaker has accepted the change, not once the peers have it: propagation to the
/// upstream routers follows within the speaker's BGP update timing.</para>
/// <para>The speaker may lose what it was told: BIRD's <c>configure</c> or a restart puts the protocol back to its
/// configured <c>disabled yes</c>. The caller re-asserts the desired state periodically rather than trusting one call.</para>
/// <para>Failures throw <see cref="AnnouncementException"/> (a driver's subclass says which kind) with a one-line
/// message; cancellation through the token throws <see cref="OperationCanceledException"/>.</para>
/// </remarks>
public interface IAnnouncement
{
    /// <summary>What is announced and through what, for logs: <c>BIRD protocol 'anycast' at /run/bird/bird.ctl</c>.</summary>
    string Name { get; }

    /// <summary>Tells the speaker to announce the prefix.</summary>
    Task AnnounceAsync(CancellationToken cancellationToken);

    /// <summary>Tells the speaker to withdraw the prefix.</summary>
    Task WithdrawAsync(CancellationToken cancellationToken);

    /// <summary>Whether the speaker, as far as it knows, announces the prefix now.</summary>
    Task<AnnouncementStatus> GetStatusAsync(CancellationToken cancellationToken);
}
