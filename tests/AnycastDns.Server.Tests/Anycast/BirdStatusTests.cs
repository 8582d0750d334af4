using AnycastDns.Server.Anycast;

namespace AnycastDns.Server.Tests.Anycast;

/// <summary>Reading the announcement's state from <c>show protocols &lt;protocol&gt;</c> as a real BIRD 2 prints it.</summary>
public sealed class BirdStatusTests
{
    private const string Socket = "/run/bird/bird.ctl";

    private static AnnouncementStatus Read(string text, string protocol = "anycast") =>
        new BirdAnnouncement(new BirdAnnouncementOptions { SocketPath = Socket, Protocol = protocol }).ReadStatus(BirdReply.Parse(text));

    [Fact]
    public void Down_is_withdrawn()
    {
        var status = Read(CapturedBirdReplies.ShowProtocolDown);
        Assert.Equal(AnnouncementState.Withdrawn, status.State);
        Assert.False(status.IsEnabled);
        Assert.False(status.IsAnnounced);
        Assert.Equal("anycast Static master4 down 19:26:04.758", status.Detail);
    }

    [Fact]
    public void Up_is_announced()
    {
        var status = Read(CapturedBirdReplies.ShowProtocolUp);
        Assert.Equal(AnnouncementState.Announced, status.State);
        Assert.True(status.IsEnabled);
        Assert.True(status.IsAnnounced);
    }

    [Theory]
    [InlineData("start", AnnouncementState.Announcing)]
    [InlineData("feed", AnnouncementState.Announcing)]
    [InlineData("wait", AnnouncementState.Announcing)]
    [InlineData("stop", AnnouncementState.Withdrawing)]
    [InlineData("flush", AnnouncementState.Withdrawing)]
    public void Passing_states_are_on_their_way(string birdState, AnnouncementState expected)
    {
        string text = CapturedBirdReplies.ShowProtocolUp.Replace("up     ", birdState.PadRight(7), StringComparison.Ordinal);
        Assert.Equal(expected, Read(text).State);
    }

    [Fact]
    public void The_row_is_found_among_others_by_its_exact_name()
    {
        Assert.Equal(AnnouncementState.Withdrawn, Read(CapturedBirdReplies.ShowProtocolsAll).State);
        Assert.Equal(AnnouncementState.Announced, Read(CapturedBirdReplies.ShowProtocolsAll, "upstream").State);
        Assert.Equal("upstream BGP --- up 19:26:57.165 Established", Read(CapturedBirdReplies.ShowProtocolsAll, "upstream").Detail);
        var e = Assert.Throws<BirdCommandException>(() => Read(CapturedBirdReplies.ShowProtocolsAll, "any"));
        Assert.Contains("no row for protocol 'any'", e.Message, StringComparison.Ordinal);
        Assert.Contains(Socket, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_state_is_an_error_not_a_guess()
    {
        string text = CapturedBirdReplies.ShowProtocolUp.Replace("up     ", "???    ", StringComparison.Ordinal);
        var e = Assert.Throws<BirdCommandException>(() => Read(text));
        Assert.Contains("unknown protocol state '???'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("any cast")]
    [InlineData("anycast\nshutdown")]
    [InlineData("1anycast")]
    [InlineData("anycast*")]
    public void A_protocol_name_that_is_not_a_bird_symbol_is_refused(string protocol)
    {
        var e = Assert.Throws<ArgumentException>(() => new BirdAnnouncement(new BirdAnnouncementOptions { Protocol = protocol }));
        Assert.Contains("is not a BIRD symbol", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_name_says_protocol_and_socket()
    {
        var announcement = new BirdAnnouncement(new BirdAnnouncementOptions { SocketPath = "/tmp/x.ctl", Protocol = "anycast6" });
        Assert.Equal("BIRD protocol 'anycast6' at /tmp/x.ctl", announcement.Name);
        Assert.Equal(BirdAnnouncementOptions.DefaultSocketPath, new BirdAnnouncementOptions().SocketPath);
        Assert.Equal("anycast", new BirdAnnouncementOptions().Protocol);
    }
}
