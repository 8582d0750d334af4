using Xunit;

namespace AnycastDns.TestSupport;

/// <summary>
/// NSD serving tests/zones for the life of a test class: <c>IClassFixture&lt;NsdOnTestZones&gt;</c>.
/// </summary>
public sealed class NsdOnTestZones : IAsyncLifetime
{
    private NsdServer? _server;

    public NsdServer Server => _server ?? throw new InvalidOperationException("the NSD fixture has not started");

    public async Task InitializeAsync() => _server = await NsdServer.StartAsync(RepositoryPaths.TestZones, CancellationToken.None).ConfigureAwait(false);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
