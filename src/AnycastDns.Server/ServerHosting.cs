using AnycastDns.Server.Anycast;
using AnycastDns.Server.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server;

/// <summary>Registers the server with a generic host.</summary>
public static class ServerHosting
{
    public static IServiceCollection AddAnycastDns(this IServiceCollection services, ServerOptions options)
    {
        services.AddSingleton(options);
        services.AddAnycastDnsTelemetry(options);
        // Its constructor is internal (it takes the query counters, machinery of this project): built here, not by reflection.
        services.AddSingleton(provider => new DnsServer(options, provider.GetRequiredService<QueryStatistics>(), provider.GetRequiredService<ILoggerFactory>()));
        // The cookie secrets in force, swapped by the server's CookieSecretReloader.
        services.AddSingleton(provider => provider.GetRequiredService<DnsServer>().Cookies.Holder);
        IAnnouncement announcement;
        try
        {
            announcement = options.BirdSocket is { } socket
                ? new BirdAnnouncement(new BirdAnnouncementOptions { SocketPath = socket, Protocol = options.BirdProtocol })
                : new NoAnnouncement();
        }
        catch (ArgumentException e)
        {
            throw new ConfigurationException($"Anycast:BirdProtocol: {e.Message.Split(" (Parameter", 2)[0]}", e);
        }
        services.AddSingleton(announcement);
        services.AddSingleton<AnycastLifecycle>();
        // Started in this order and stopped in reverse: on SIGTERM the lifecycle withdraws and drains while the
        // listeners still answer, then the status endpoint and last the listeners stop.
        services.AddHostedService(provider => provider.GetRequiredService<DnsServer>());
        services.AddHostedService<Http.StatusEndpoint>();
        services.AddHostedService(provider => provider.GetRequiredService<AnycastLifecycle>());
        services.Configure<HostOptions>(host => host.ShutdownTimeout = options.Drain + TimeSpan.FromSeconds(15));
        return services;
    }
}
