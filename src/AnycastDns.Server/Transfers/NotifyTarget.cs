using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AnycastDns.Protocol;

namespace AnycastDns.Server.Transfers;

/// <summary>
/// A secondary told of each new serial (an entry of <c>Transfers:Notify</c>): <c>192.0.2.53</c>, <c>192.0.2.53:5353</c>,
/// <c>2001:db8::53</c> or <c>[2001:db8::53]:5353</c>, then optionally <c>key:&lt;name&gt;</c> to sign the NOTIFY with
/// that TSIG key. The port is 53 when left out, as in BIND's <c>also-notify</c>, Knot's <c>remote</c> and NSD's
/// <c>notify:</c>: secondaries listen there.
/// </summary>
public sealed record NotifyTarget(IPEndPoint EndPoint, DnsName? KeyName)
{
    public const int DefaultPort = 53;

    /// <summary>Parses one entry; throws <see cref="FormatException"/> with one line naming it.</summary>
    public static NotifyTarget Parse(string entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        string[] parts = entry.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is 0 or > 2)
        {
            throw new FormatException($"'{entry}': expected ip[:port] or [ipv6]:port, then optionally key:<name>");
        }
        DnsName? key = null;
        if (parts.Length == 2)
        {
            string keyPart = parts[1];
            string name = keyPart.StartsWith(TransferAllowList.KeyPrefix, StringComparison.OrdinalIgnoreCase) ? keyPart[TransferAllowList.KeyPrefix.Length..] : "";
            if (name.Length == 0 || !DnsName.TryParse(name.EndsWith('.') ? name : name + ".", null, out var keyName, out _))
            {
                throw new FormatException($"'{entry}': '{keyPart}' does not name a TSIG key (expected key:<name>)");
            }
            key = keyName.ToLowerCase();
        }
        return new NotifyTarget(ParseEndPoint(entry, parts[0]), key);
    }

    private static IPEndPoint ParseEndPoint(string entry, string text)
    {
        string host = text;
        string? port = null;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || (close + 1 < text.Length && text[close + 1] != ':'))
            {
                throw new FormatException($"'{entry}': expected [ipv6]:port");
            }
            host = text[1..close];
            port = close + 1 < text.Length ? text[(close + 2)..] : null;
        }
        else if (text.Count(c => c == ':') == 1)
        {
            int colon = text.IndexOf(':', StringComparison.Ordinal);
            (host, port) = (text[..colon], text[(colon + 1)..]);
        }
        // More than one colon without brackets: an IPv6 address alone, on port 53.
        if (!IPAddress.TryParse(host, out var address) || host.Contains('%', StringComparison.Ordinal)
            || (address.AddressFamily == AddressFamily.InterNetwork && host.Count(c => c == '.') != 3)
            || (text.StartsWith('[') && address.AddressFamily != AddressFamily.InterNetworkV6))
        {
            throw new FormatException($"'{entry}': '{host}' is not an IP address");
        }
        int number = DefaultPort;
        if (port is not null && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out number) || number is < 1 or > 65535))
        {
            throw new FormatException($"'{entry}': '{port}' is not a port number (1-65535)");
        }
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            throw new FormatException($"'{entry}': a wildcard address names no secondary");
        }
        return new IPEndPoint(address, number);
    }

    /// <summary>As configured: <c>192.0.2.53:53 key:xfr-key.</c>, never a secret.</summary>
    public override string ToString() => KeyName is null ? EndPoint.ToString() : $"{EndPoint} {TransferAllowList.KeyPrefix}{KeyName}";
}
