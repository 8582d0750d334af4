using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// <c>anycastdns serve</c> on tests/zones with its default options (PoP id test-pop), on 127.0.0.1 and ::1, for the
/// life of a test class: <c>IClassFixture&lt;AnycastDnsOnTestZones&gt;</c>.
/// </summary>
public sealed class AnycastDnsOnTestZones : IAsyncLifetime
{
    private AnycastDnsServer? _server;

    public AnycastDnsServer Server => _server ?? throw new InvalidOperationException("the anycastdns fixture has not started");

    public async Task InitializeAsync() => _server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
