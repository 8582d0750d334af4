using Xunit;

namespace AnycastDns.TestSupport;

/// <summary>
/// Knot serving tests/zones for the life of a test class: <c>IClassFixture&lt;KnotOnTestZones&gt;</c>.
/// </summary>
public sealed class KnotOnTestZones : IAsyncLifetime
{
    private KnotServer? _server;

    public KnotServer Server => _server ?? throw new InvalidOperationException("the Knot fixture has not started");

    public async Task InitializeAsync() => _server = await KnotServer.StartAsync(RepositoryPaths.TestZones, CancellationToken.None).ConfigureAwait(false);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
