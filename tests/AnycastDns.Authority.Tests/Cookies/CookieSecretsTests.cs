using AnycastDns.Authority.Cookies;

namespace AnycastDns.Authority.Tests.Cookies;

public class CookieSecretsTests
{
    [Fact]
    public void Fingerprints_are_the_first_8_hex_digits_of_each_secrets_sha256_the_creating_one_first()
    {
        // Expected values from: echo <secret> | xxd -r -p | sha256sum | cut -c1-8
        var secrets = new CookieSecrets([Convert.FromHexString("445536bcd2513298075a5d379663c962"), Convert.FromHexString("dd3bdf9344b678b185a6f5cb60fca715")]);
        Assert.Equal("d15777da", secrets.Fingerprint);
        Assert.Equal(["d15777da", "766b21ce"], secrets.Fingerprints);
        Assert.Equal(2, secrets.Count);
        Assert.False(secrets.IsRandom);
        Assert.Equal("daa265df", new CookieSecrets([Convert.FromHexString("e5e973e5a6b2a43f48e7dc849e37bfcf")]).Fingerprint);
    }

    [Fact]
    public void A_random_secret_is_new_each_time_and_says_so()
    {
        var a = CookieSecrets.CreateRandom();
        var b = CookieSecrets.CreateRandom();
        Assert.True(a.IsRandom);
        Assert.Equal(1, a.Count);
        Assert.Matches("^[0-9a-f]{8}$", a.Fingerprint);
        Assert.NotEqual(a.Fingerprint, b.Fingerprint);
    }

    [Fact]
    public void Secrets_are_16_octets_and_there_are_1_to_8()
    {
        Assert.Throws<ArgumentException>(() => new CookieSecrets([]));
        Assert.Throws<ArgumentException>(() => new CookieSecrets([new byte[15]]));
        Assert.Throws<ArgumentException>(() => new CookieSecrets([new byte[16], new byte[17]]));
        Assert.Throws<ArgumentException>(() => new CookieSecrets([.. Enumerable.Range(0, 9).Select(_ => new byte[16])]));
        Assert.Equal(8, new CookieSecrets([.. Enumerable.Range(0, 8).Select(i => new byte[16])]).Count);
    }

    [Fact]
    public void The_holder_swaps_the_whole_set()
    {
        var first = CookieSecrets.CreateRandom();
        var holder = new CookieSecretsHolder(first);
        Assert.Same(first, holder.Current);
        var second = new CookieSecrets([new byte[16]]);
        holder.Current = second;
        Assert.Same(second, holder.Current);
    }
}
