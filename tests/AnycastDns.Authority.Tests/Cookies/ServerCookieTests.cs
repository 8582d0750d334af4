using System.Net;
using AnycastDns.Authority.Cookies;
using AnycastDns.TestSupport;

namespace AnycastDns.Authority.Tests.Cookies;

/// <summary>
/// The RFC 9018 server cookie against the test vectors of RFC 9018 Appendix A (A.1 to A.4), and the edges of its
/// validity window (§4.3). The values were taken from two implementations' tests of those vectors, which agree: Knot
/// DNS's tests/libknot/test_cookies.c and NLnet Labs' domain crate (base/opt/cookie.rs, "Tests from Appendix A of RFC
/// 9018"); and all six cookies were recomputed here with the Python SipHash-2-4 of <see cref="SipHash24Tests"/>.
/// </summary>
public class ServerCookieTests
{
    // Appendix A.1 to A.3: one server secret, two IPv4 clients.
    private static readonly CookieSecrets Secret = Secrets("e5e973e5a6b2a43f48e7dc849e37bfcf");
    private static readonly byte[] Client1 = IPAddress.Parse("198.51.100.100").GetAddressBytes();
    private static readonly byte[] ClientCookie1 = Convert.FromHexString("2464c4abcf10c957");
    private static readonly byte[] Client2 = IPAddress.Parse("203.0.113.203").GetAddressBytes();
    private static readonly byte[] ClientCookie2 = Convert.FromHexString("fc93fc62807ddb86");

    // Appendix A.4: an IPv6 client, and the secret rolled over from Old to New.
    private const string OldSecret = "dd3bdf9344b678b185a6f5cb60fca715";
    private const string NewSecret = "445536bcd2513298075a5d379663c962";
    private static readonly byte[] Client6 = IPAddress.Parse("2001:db8:220:1:59de:d0f4:8769:82b8").GetAddressBytes();
    private static readonly byte[] ClientCookie6 = Convert.FromHexString("22681ab97d52c298");
    private const uint NewCookieTime = 1559741961;
    private static readonly byte[] NewCookie = Convert.FromHexString("010000005cf7c609a6bb79d16625507a");

    private static CookieSecrets Secrets(params string[] hex) => new([.. hex.Select(Convert.FromHexString)]);

    private static string Create(byte[] clientCookie, byte[] address, CookieSecrets secrets, uint now)
    {
        var cookie = new byte[ServerCookie.Length];
        Assert.True(ServerCookie.TryCreate(cookie, clientCookie, address, secrets, now));
        return Convert.ToHexStringLower(cookie);
    }

    private static ServerCookieStatus Verify(string cookie, byte[] clientCookie, byte[] address, CookieSecrets secrets, uint now) =>
        ServerCookie.Verify(Convert.FromHexString(cookie), clientCookie, address, secrets, now);

    [Fact]
    public void A1_a_new_client_learns_a_server_cookie()
    {
        Assert.Equal("010000005cf79f111f8130c3eee29480", Create(ClientCookie1, Client1, Secret, 1559731985));
        Assert.Equal(ServerCookieStatus.Valid, Verify("010000005cf79f111f8130c3eee29480", ClientCookie1, Client1, Secret, 1559731985));
    }

    [Fact]
    public void A2_forty_minutes_later_the_cookie_is_valid_but_stale_and_a_fresh_one_is_made()
    {
        Assert.Equal(ServerCookieStatus.ValidButStale, Verify("010000005cf79f111f8130c3eee29480", ClientCookie1, Client1, Secret, 1559731985 + 2400));
        Assert.Equal("010000005cf7a871d4a564a1442aca77", Create(ClientCookie1, Client1, Secret, 1559734385));
    }

    [Fact]
    public void A3_reserved_octets_set_by_another_implementation_are_hashed_as_received()
    {
        // The cookie was made at 1559727985 by an implementation that sets the Reserved octets: its hash verifies.
        Assert.Equal(ServerCookieStatus.Valid, Verify("01abcdef5cf78f71a314227b6679ebf5", ClientCookie2, Client2, Secret, 1559727985));
        // A.3's query arrives at 1559734700, 6715 s later: past the hour, so invalid (§4.3), and answered with a fresh
        // cookie just as a valid one would be, with Reserved zero.
        Assert.Equal(ServerCookieStatus.Invalid, Verify("01abcdef5cf78f71a314227b6679ebf5", ClientCookie2, Client2, Secret, 1559734700));
        Assert.Equal("010000005cf7a9acf73a7810aca2381e", Create(ClientCookie2, Client2, Secret, 1559734700));
        // With Reserved read as zero instead, the hash would not match.
        Assert.Equal(ServerCookieStatus.Invalid, Verify("010000005cf78f71a314227b6679ebf5", ClientCookie2, Client2, Secret, 1559727985));
    }

    [Fact]
    public void A4_an_ipv6_cookie_of_the_old_secret_verifies_while_the_new_one_makes_cookies()
    {
        const string oldCookie = "010000005cf7c57926556bd0934c72f8";
        Assert.Equal(oldCookie, Create(ClientCookie6, Client6, Secrets(OldSecret), 1559741817));

        var rolledOver = Secrets(NewSecret, OldSecret);
        Assert.Equal(ServerCookieStatus.Valid, Verify(oldCookie, ClientCookie6, Client6, rolledOver, NewCookieTime));
        Assert.Equal(ServerCookieStatus.Invalid, Verify(oldCookie, ClientCookie6, Client6, Secrets(NewSecret), NewCookieTime));
        Assert.Equal(Convert.ToHexStringLower(NewCookie), Create(ClientCookie6, Client6, rolledOver, NewCookieTime));
        // Before the swap (old first, new second) the old secret still makes them.
        Assert.Equal(oldCookie, Create(ClientCookie6, Client6, Secrets(OldSecret, NewSecret), 1559741817));
    }

    [Theory]
    [InlineData(0, nameof(ServerCookieStatus.Valid))]
    [InlineData(ServerCookie.RefreshAgeSeconds, nameof(ServerCookieStatus.Valid))]
    [InlineData(ServerCookie.RefreshAgeSeconds + 1, nameof(ServerCookieStatus.ValidButStale))]
    [InlineData(ServerCookie.MaxAgeSeconds, nameof(ServerCookieStatus.ValidButStale))]
    [InlineData(ServerCookie.MaxAgeSeconds + 1, nameof(ServerCookieStatus.Invalid))]
    [InlineData(-ServerCookie.MaxFutureSeconds, nameof(ServerCookieStatus.Valid))]
    [InlineData(-ServerCookie.MaxFutureSeconds - 1, nameof(ServerCookieStatus.Invalid))]
    [InlineData(int.MaxValue, nameof(ServerCookieStatus.Invalid))]
    [InlineData(int.MinValue, nameof(ServerCookieStatus.Invalid))]
    public void The_window_is_one_hour_past_to_five_minutes_future_and_stale_after_thirty_minutes(int age, string expected)
    {
        // The status travels as its name: the enum is internal to Authority, and a public test method cannot take it.
        Assert.Equal(Enum.Parse<ServerCookieStatus>(expected), ServerCookie.Verify(NewCookie, ClientCookie6, Client6, Secrets(NewSecret), unchecked(NewCookieTime + (uint)age)));
    }

    [Fact]
    public void Timestamps_compare_by_serial_arithmetic_across_the_32_bit_wrap()
    {
        var cookie = new byte[ServerCookie.Length];
        Assert.True(ServerCookie.TryCreate(cookie, ClientCookie1, Client1, Secret, uint.MaxValue - 99));
        Assert.Equal(ServerCookieStatus.Valid, ServerCookie.Verify(cookie, ClientCookie1, Client1, Secret, 100));
        Assert.Equal(ServerCookieStatus.ValidButStale, ServerCookie.Verify(cookie, ClientCookie1, Client1, Secret, 3000));
        Assert.Equal(ServerCookieStatus.Invalid, ServerCookie.Verify(cookie, ClientCookie1, Client1, Secret, 4000));
        Assert.True(ServerCookie.TryCreate(cookie, ClientCookie1, Client1, Secret, 100));
        Assert.Equal(ServerCookieStatus.Valid, ServerCookie.Verify(cookie, ClientCookie1, Client1, Secret, uint.MaxValue - 99));
    }

    [Fact]
    public void Another_version_length_client_cookie_address_or_hash_is_invalid()
    {
        var secrets = Secrets(NewSecret);
        ServerCookieStatus Check(byte[] cookie, byte[]? clientCookie = null, byte[]? address = null) =>
            ServerCookie.Verify(cookie, clientCookie ?? ClientCookie6, address ?? Client6, secrets, NewCookieTime);

        Assert.Equal(ServerCookieStatus.Valid, Check(NewCookie));
        var version2 = (byte[])NewCookie.Clone();
        version2[0] = 2;
        Assert.Equal(ServerCookieStatus.Invalid, Check(version2));
        // RFC 7873 §4 allows 8 to 32 octets; only 16 can be a version 1 cookie.
        foreach (int length in new[] { 0, 8, 15 })
        {
            Assert.Equal(ServerCookieStatus.Invalid, Check(NewCookie[..length]));
        }
        foreach (int length in new[] { 17, 32 })
        {
            Assert.Equal(ServerCookieStatus.Invalid, Check([.. NewCookie, .. new byte[length - 16]]));
        }
        for (int bit = 0; bit < 64; bit++)
        {
            var flipped = (byte[])NewCookie.Clone();
            flipped[8 + bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Equal(ServerCookieStatus.Invalid, Check(flipped));
        }
        var otherClientCookie = (byte[])ClientCookie6.Clone();
        otherClientCookie[7] ^= 1;
        Assert.Equal(ServerCookieStatus.Invalid, Check(NewCookie, clientCookie: otherClientCookie));
        Assert.Equal(ServerCookieStatus.Invalid, Check(NewCookie, clientCookie: ClientCookie6[..7]));
        var otherAddress = (byte[])Client6.Clone();
        otherAddress[15] ^= 1;
        Assert.Equal(ServerCookieStatus.Invalid, Check(NewCookie, address: otherAddress));
        Assert.Equal(ServerCookieStatus.Invalid, Check(NewCookie, address: Client6[..5]));
        Assert.Equal(ServerCookieStatus.Invalid, Check(NewCookie, address: []));
    }

    [Fact]
    public void An_ipv4_mapped_address_is_the_ipv4_client_it_stands_for()
    {
        byte[] mapped = IPAddress.Parse("198.51.100.100").MapToIPv6().GetAddressBytes();
        Assert.Equal(16, mapped.Length);
        Assert.Equal("010000005cf79f111f8130c3eee29480", Create(ClientCookie1, mapped, Secret, 1559731985));
        Assert.Equal(ServerCookieStatus.Valid, Verify("010000005cf79f111f8130c3eee29480", ClientCookie1, mapped, Secret, 1559731985));
        // An IPv4-compatible or other IPv6 address ending in the same four octets is another client.
        byte[] notMapped = (byte[])mapped.Clone();
        notMapped[10] = 0;
        Assert.Equal(ServerCookieStatus.Invalid, Verify("010000005cf79f111f8130c3eee29480", ClientCookie1, notMapped, Secret, 1559731985));
    }

    [Fact]
    public void Create_refuses_a_short_destination_a_wrong_client_cookie_or_address_and_writes_nothing()
    {
        var destination = new byte[ServerCookie.Length];
        Assert.False(ServerCookie.TryCreate(destination.AsSpan(0, 15), ClientCookie1, Client1, Secret, 1));
        Assert.False(ServerCookie.TryCreate(destination, ClientCookie1[..7], Client1, Secret, 1));
        Assert.False(ServerCookie.TryCreate(destination, [.. ClientCookie1, 0], Client1, Secret, 1));
        Assert.False(ServerCookie.TryCreate(destination, ClientCookie1, Client1[..3], Secret, 1));
        Assert.False(ServerCookie.TryCreate(destination, ClientCookie1, new byte[8], Secret, 1));
        Assert.All(destination, b => Assert.Equal(0, b));
        // A longer destination gets the cookie in its first 16 octets.
        var longer = new byte[20];
        Assert.True(ServerCookie.TryCreate(longer, ClientCookie1, Client1, Secret, 1559731985));
        Assert.Equal("010000005cf79f111f8130c3eee29480" + "00000000", Convert.ToHexStringLower(longer));
    }

    [Fact]
    public void Creating_and_verifying_allocate_nothing()
    {
        var secrets = Secrets(NewSecret, OldSecret, "00112233445566778899aabbccddeeff");
        var cookie = new byte[ServerCookie.Length];
        var invalid = new byte[ServerCookie.Length];
        int valid = 0;
        long allocated = Allocations.PerBatch(1000, i =>
        {
            ServerCookie.TryCreate(cookie, ClientCookie6, Client6, secrets, NewCookieTime + (uint)i);
            valid += ServerCookie.Verify(cookie, ClientCookie6, Client6, secrets, NewCookieTime + (uint)i) == ServerCookieStatus.Valid ? 1 : 0;
            invalid[0] = ServerCookie.Version;
            valid += ServerCookie.Verify(invalid, ClientCookie1, Client1, secrets, 0) == ServerCookieStatus.Valid ? 1 : 0;
        });
        Assert.Equal(0, allocated);
        // Every fresh cookie verified, none of the forged: the warm-up's 100 and two batches of 1000.
        Assert.Equal(2100, valid);
    }
}
