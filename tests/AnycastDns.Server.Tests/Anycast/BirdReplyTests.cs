using AnycastDns.Server.Anycast;

namespace AnycastDns.Server.Tests.Anycast;

/// <summary>BIRD's control-socket reply form (nest/cli.c, doc/reply_codes), read from replies a real BIRD 2 gave.</summary>
public sealed class BirdReplyTests
{
    [Fact]
    public void The_greeting_is_one_closing_line_with_code_0001()
    {
        var reply = BirdReply.Parse(CapturedBirdReplies.Greeting);
        Assert.Equal([new BirdReplyLine(BirdReplyCode.Welcome, "BIRD 2.0.12 ready.")], reply.Lines);
        Assert.True(reply.IsSuccess);
    }

    [Theory]
    [InlineData(CapturedBirdReplies.Enabled, BirdReplyCode.Enabled, "anycast: enabled")]
    [InlineData(CapturedBirdReplies.AlreadyEnabled, BirdReplyCode.AlreadyEnabled, "anycast: already enabled")]
    [InlineData(CapturedBirdReplies.Disabled, BirdReplyCode.Disabled, "anycast: disabled")]
    [InlineData(CapturedBirdReplies.AlreadyDisabled, BirdReplyCode.AlreadyDisabled, "anycast: already disabled")]
    public void Enable_and_disable_say_what_happened_then_close_with_0000(string text, int code, string message)
    {
        var reply = BirdReply.Parse(text);
        Assert.Equal([new BirdReplyLine(code, message), new BirdReplyLine(BirdReplyCode.Ok, "")], reply.Lines);
        Assert.True(reply.IsSuccess);
        Assert.True(reply.Contains(code));
        Assert.Equal(BirdReplyCode.Ok, reply.Final.Code);
    }

    [Fact]
    public void A_line_with_a_leading_space_continues_the_code_before_it()
    {
        var reply = BirdReply.Parse(CapturedBirdReplies.ShowProtocolsAll);
        Assert.Equal(
            [
                new BirdReplyLine(2002, "Name       Proto      Table      State  Since         Info"),
                new BirdReplyLine(1002, "device1    Device     ---        up     19:26:04.758  "),
                new BirdReplyLine(1002, "anycast    Static     master4    down   19:26:15.728  "),
                new BirdReplyLine(1002, "upstream   BGP        ---        up     19:26:57.165  Established   "),
                new BirdReplyLine(0, ""),
            ],
            reply.Lines);
    }

    [Fact]
    public void Continuations_keep_their_own_indentation_and_may_be_empty()
    {
        var reply = BirdReply.Parse(CapturedBirdReplies.ShowProtocolAllDetails);
        Assert.Equal(10, reply.Lines.Count);
        Assert.Equal(new BirdReplyLine(1006, "  Channel ipv4"), reply.Lines[2]);
        Assert.Equal(new BirdReplyLine(1006, "    State:          DOWN"), reply.Lines[3]);
        Assert.Equal(new BirdReplyLine(1006, ""), reply.Lines[8]);
        Assert.Equal(BirdReplyCode.Ok, reply.Final.Code);
    }

    [Fact]
    public void Show_status_closes_with_its_own_code_0013()
    {
        var reply = BirdReply.Parse(CapturedBirdReplies.ShowStatus);
        Assert.Equal(BirdReplyCode.StatusReport, reply.Final.Code);
        Assert.Equal("Daemon is up and running", reply.Final.Text);
        Assert.Equal(new BirdReplyLine(1011, "Hostname is vm"), reply.Lines[2]);
        Assert.Equal(7, reply.Lines.Count);
    }

    [Fact]
    public void Tabs_and_codes_changing_midway_are_kept_line_by_line()
    {
        var reply = BirdReply.Parse(CapturedBirdReplies.RouterShowRouteAll);
        Assert.Equal(new BirdReplyLine(BirdReplyCode.RouteList, "198.19.53.0/24       unicast [pop 19:27:05.973] * (100) [AS64512i]"), reply.Lines[1]);
        Assert.Equal(new BirdReplyLine(BirdReplyCode.RouteList, "\tvia 198.18.0.1 on veth0"), reply.Lines[2]);
        Assert.Equal(new BirdReplyLine(1008, "\tType: BGP univ"), reply.Lines[3]);
        Assert.Equal(new BirdReplyLine(1012, "\tBGP.local_pref: 100"), reply.Lines[7]);
        Assert.True(reply.IsSuccess);
    }

    [Theory]
    [InlineData(CapturedBirdReplies.EnableUnknownProtocol, 9001)]
    [InlineData(CapturedBirdReplies.RouterRouteNotFound, 8001)]
    [InlineData(CapturedBirdReplies.ConfigureMissingFile, 8002)]
    public void Codes_8xxx_and_9xxx_are_errors(string text, int code)
    {
        var reply = BirdReply.Parse(text);
        Assert.False(reply.IsSuccess);
        Assert.Equal(code, reply.FirstError?.Code);
        Assert.Equal(code, reply.Final.Code);
    }

    [Fact]
    public void An_empty_result_is_a_lone_0000()
    {
        var reply = BirdReply.Parse(CapturedBirdReplies.RouterRouteFilteredEmpty);
        Assert.Equal([new BirdReplyLine(BirdReplyCode.Ok, "")], reply.Lines);
        Assert.True(reply.IsSuccess);
    }

    [Fact]
    public void Birds_own_printouts_marked_plus_are_not_part_of_the_reply()
    {
        var reply = BirdReply.Parse(CapturedBirdReplies.EnabledWithEcho);
        Assert.Equal(BirdReply.Parse(CapturedBirdReplies.Enabled).Lines, reply.Lines);
        Assert.Equal(BirdReply.Parse(CapturedBirdReplies.Enabled).Lines, BirdReply.Parse("+Enabling protocol anycast\n" + CapturedBirdReplies.Enabled).Lines);
    }

    [Theory]
    [InlineData("0000", "not ended by a newline")]
    [InlineData("0011-anycast: enabled\n", "no closing line")]
    [InlineData("", "no closing line")]
    [InlineData(" anycast\n0000 \n", "continuation line with no line before it")]
    [InlineData("HTTP/1.1 400 Bad Request\n", "not a BIRD reply line")]
    [InlineData("001 short\n", "not a BIRD reply line")]
    [InlineData("0000\n", "not a BIRD reply line")]
    [InlineData("0000:x\n", "not a BIRD reply line")]
    [InlineData("0000 \n0000 \n", "line 2: text after the closing line")]
    public void Anything_else_is_not_a_reply(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => BirdReply.Parse(text));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_reply_prints_on_one_line_for_messages()
    {
        Assert.Equal("0011 anycast: enabled | 0000 ", BirdReply.Parse(CapturedBirdReplies.Enabled).ToString());
    }
}
