namespace AnycastDns.Server.Anycast;

/// <summary>
/// The announcement when no BGP speaker is configured: the state machine still runs (and /readyz follows it), but
/// announcing is someone else's job, e.g. a load balancer reading /readyz.
/// </summary>
internal sealed class NoAnnouncement : IAnnouncement
{
    private volatile bool _enabled;

    public string Name => "none";

    public Task AnnounceAsync(CancellationToken cancellationToken)
    {
        _enabled = true;
        return Task.CompletedTask;
    }

    public Task WithdrawAsync(CancellationToken cancellationToken)
    {
        _enabled = false;
        return Task.CompletedTask;
    }

    public Task<AnnouncementStatus> GetStatusAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new AnnouncementStatus(_enabled ? AnnouncementState.Announced : AnnouncementState.Withdrawn, "no BGP speaker configured"));
}
