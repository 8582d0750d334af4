using System.Net;
using AnycastDns.Server.Listeners;

namespace AnycastDns.Server.Tests.Listeners;

/// <summary>Who counts as one client for <c>Tcp:MaxConnectionsPerClient</c>: an IPv4 address, an IPv6 /64.</summary>
public sealed class TcpClientKeyTests
{
    private static TcpClientKey Of(string address) => TcpClientKey.Of(IPAddress.Parse(address));

    [Theory]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2:8a2e:370:7334:1")]
    [InlineData("192.0.2.7", "::ffff:192.0.2.7")]
    [InlineData("::1", "::2")]
    public void Addresses_of_one_client_share_a_key(string a, string b) => Assert.Equal(Of(a), Of(b));

    [Theory]
    [InlineData("192.0.2.7", "192.0.2.8")]
    [InlineData("127.0.0.1", "127.0.0.2")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1")]
    [InlineData("2001:db8::", "2001:db9::")]
    // An IPv4 address and the IPv6 /64 whose first octets look like it, or ::/64 (where IPv4-mapped addresses live).
    [InlineData("192.0.2.7", "c000:207::")]
    [InlineData("0.0.0.0", "::")]
    [InlineData("192.0.2.7", "::")]
    public void Different_clients_have_different_keys(string a, string b) => Assert.NotEqual(Of(a), Of(b));
}
