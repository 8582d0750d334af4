using System.Reflection;

namespace AnycastDns;

/// <summary>The version this binary reports on the command line and, by default, nowhere else.</summary>
internal static class VersionInfo
{
    public static string Text { get; } =
        typeof(VersionInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";
}
