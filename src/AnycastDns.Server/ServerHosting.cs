using Microsoft.Extensions.DependencyInjection;

namespace AnycastDns.Server;

/// <summary>Registers the server with a generic host.</summary>
public static class ServerHosting
{
    public static IServiceCollection AddAnycastDns(this IServiceCollection services, ServerOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<DnsServer>();
        services.AddHostedService(provider => provider.GetRequiredService<DnsServer>());
        services.AddHostedService<Http.StatusEndpoint>();
        return services;
    }
}
