using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace AnycastDns.Server;

/// <summary>
/// One address the server answers on, as <c>ip:port</c> or <c>[ipv6]:port</c>. Each gets its own sockets bound to
/// exactly that address, never a wildcard, so every reply leaves from the address its query was sent to.
/// </summary>
public sealed record ListenAddress(IPEndPoint EndPoint)
{
    public static ListenAddress Parse(string text, bool allowWildcard = false)
    {
        if (!TryParse(text, out var address, out var error, allowWildcard))
        {
            throw new ConfigurationException(error);
        }
        return address;
    }

    /// <param name="allowWildcard">True for the HTTP endpoint, where answering from any address is harmless.</param>
    public static bool TryParse(string? text, out ListenAddress address, out string error, bool allowWildcard = false)
    {
        address = null!;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            error = "listen address: empty; expected ip:port or [ipv6]:port";
            return false;
        }
        ReadOnlySpan<char> host, port;
        if (text[0] == '[')
        {
            int close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"listen address '{text}': expected [ipv6]:port";
                return false;
            }
            host = text.AsSpan(1, close - 1);
            port = text.AsSpan(close + 2);
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon < 0 || text.IndexOf(':') != colon)
            {
                error = $"listen address '{text}': expected ip:port (write IPv6 addresses as [ipv6]:port)";
                return false;
            }
            host = text.AsSpan(0, colon);
            port = text.AsSpan(colon + 1);
        }
        if (!IPAddress.TryParse(host, out var ip) || (text[0] == '[') != (ip.AddressFamily == AddressFamily.InterNetworkV6)
            || (ip.AddressFamily == AddressFamily.InterNetwork && host.Count('.') != 3))
        {
            error = $"listen address '{text}': '{host}' is not an IP address";
            return false;
        }
        if (!ushort.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out ushort number))
        {
            error = $"listen address '{text}': '{port}' is not a port number (0-65535)";
            return false;
        }
        if (!allowWildcard && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)))
        {
            error = $"listen address '{text}': a wildcard address would answer from whichever address the kernel picks; name each address";
            return false;
        }
        address = new ListenAddress(new IPEndPoint(ip, number));
        error = string.Empty;
        return true;
    }

    public AddressFamily Family => EndPoint.AddressFamily;

    public override string ToString() => EndPoint.ToString();
}
