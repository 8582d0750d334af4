using System.Globalization;
using System.Net;

namespace AnycastDns.TestSupport.Lab;

/// <summary>
/// The lab's addresses: only 198.18.0.0/15 (RFC 2544's benchmarking range), inside namespaces the test made, so no
/// lab packet can reach a real network.
/// </summary>
public static class LabAddress
{
    public static readonly IPNetwork Range = IPNetwork.Parse("198.18.0.0/15");

    /// <summary>Throws unless <paramref name="interfaceAddress"/> is <c>address/length</c> with the address and the whole network in <see cref="Range"/>.</summary>
    public static void RequireInRange(string interfaceAddress)
    {
        ArgumentNullException.ThrowIfNull(interfaceAddress);
        int slash = interfaceAddress.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(interfaceAddress.AsSpan(0, slash), out var address)
            || !int.TryParse(interfaceAddress.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int length)
            || length < Range.PrefixLength || length > 32 || !Range.Contains(address))
        {
            throw new ArgumentException($"lab address '{interfaceAddress}' is not an address/length inside {Range}", nameof(interfaceAddress));
        }
    }
}
