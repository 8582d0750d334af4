using System.Runtime.CompilerServices;

/// <summary>
/// The same listener in a native build, which cannot load startup hooks: compiled into the server only by
/// <c>dotnet publish src/AnycastDns -r linux-x64 -p:PublishAot=true -p:GcPauses=true</c> (see bench/README.md), and
/// started before Main as the hook would be.
/// </summary>
internal static class NativeHook
{
    [ModuleInitializer]
    internal static void Start() => StartupHook.Initialize();
}
