namespace AnycastDns.Server.Anycast;

/// <summary>
/// The announcement as a BIRD 2 protocol that is switched on and off: announce is <c>enable &lt;protocol&gt;</c>,
/// withdraw is <c>disable &lt;protocol&gt;</c>, status reads <c>show protocols &lt;protocol&gt;</c>. The protocol
/// (a <c>static</c> one holding the anycast prefix, <c>disabled yes</c> in bird.conf) is exported to the upstream BGP
/// sessions by BIRD's own filters; see deploy/bird/bird.conf.
/// </summary>
/// <remarks>
/// <para>BIRD's <c>configure</c> and a restart of BIRD put the protocol back to <c>disabled yes</c>: the enable given
/// here lives only in the running BIRD, which is why the lifecycle re-asserts it.</para>
/// <para>Calls may overlap (each has its own connection); BIRD applies commands in the order they reach it, so a
/// caller that both announces and withdraws orders its own calls.</para>
/// </remarks>
public sealed class BirdAnnouncement : IAnnouncement
{
    private readonly string _enable;
    private readonly string _disable;
    private readonly string _show;

    public BirdAnnouncement(BirdAnnouncementOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!IsSymbol(options.Protocol))
        {
            throw new ArgumentException($"BIRD protocol name '{options.Protocol}' is not a BIRD symbol (letters, digits, '_', not starting with a digit)", nameof(options));
        }
        Control = new BirdControlClient(options.SocketPath, options.Timeout);
        Protocol = options.Protocol;
        _enable = "enable " + Protocol;
        _disable = "disable " + Protocol;
        _show = "show protocols " + Protocol;
        Name = $"BIRD protocol '{Protocol}' at {Control.SocketPath}";
    }

    public string Name { get; }

    /// <summary>The BIRD protocol switched on and off.</summary>
    public string Protocol { get; }

    /// <summary>The control-socket client the commands go through.</summary>
    internal BirdControlClient Control { get; }

    /// <summary><c>enable &lt;protocol&gt;</c>; BIRD's <c>0010 already enabled</c> is a success.</summary>
    /// <exception cref="BirdUnavailableException">BIRD could not be reached in time.</exception>
    /// <exception cref="BirdCommandException">BIRD refused (e.g. no such protocol) or replied with neither 0010 nor 0011.</exception>
    public async Task AnnounceAsync(CancellationToken cancellationToken)
    {
        var reply = await SendAsync(_enable, cancellationToken).ConfigureAwait(false);
        Expect(_enable, reply, BirdReplyCode.Enabled, BirdReplyCode.AlreadyEnabled);
    }

    /// <summary><c>disable &lt;protocol&gt;</c>; BIRD's <c>0008 already disabled</c> is a success.</summary>
    /// <exception cref="BirdUnavailableException">BIRD could not be reached in time.</exception>
    /// <exception cref="BirdCommandException">BIRD refused (e.g. no such protocol) or replied with neither 0008 nor 0009.</exception>
    public async Task WithdrawAsync(CancellationToken cancellationToken)
    {
        var reply = await SendAsync(_disable, cancellationToken).ConfigureAwait(false);
        Expect(_disable, reply, BirdReplyCode.Disabled, BirdReplyCode.AlreadyDisabled);
    }

    /// <summary>
    /// The protocol's state from <c>show protocols &lt;protocol&gt;</c>: <c>up</c> is announced, <c>down</c> withdrawn
    /// (for a static protocol, down means disabled: it has nothing else to wait for), <c>start</c>/<c>feed</c>/<c>wait</c>
    /// announcing, <c>stop</c>/<c>flush</c> withdrawing (BIRD's nest/proto.c, proto_state_name).
    /// </summary>
    /// <exception cref="BirdUnavailableException">BIRD could not be reached in time.</exception>
    /// <exception cref="BirdCommandException">BIRD refused, or its reply has no row for the protocol, or a state not listed above.</exception>
    public async Task<AnnouncementStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        var reply = await SendAsync(_show, cancellationToken).ConfigureAwait(false);
        return ReadStatus(reply);
    }

    /// <summary>
    /// Reads the row of <see cref="Protocol"/> from a reply to <c>show protocols</c>: columns Name, Proto, Table,
    /// State, Since, Info, separated by spaces; the first four never hold a space.
    /// </summary>
    /// <exception cref="BirdCommandException">No row for the protocol, or a state this project does not know.</exception>
    internal AnnouncementStatus ReadStatus(BirdReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        string socketPath = Control.SocketPath;
        string command = _show;
        string protocol = Protocol;
        foreach (var line in reply.Lines)
        {
            if (line.Code != BirdReplyCode.ProtocolList)
            {
                continue;
            }
            var fields = line.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 4 || !string.Equals(fields[0], protocol, StringComparison.Ordinal))
            {
                continue;
            }
            string detail = string.Join(' ', fields);
            AnnouncementState? state = fields[3] switch
            {
                "up" => AnnouncementState.Announced,
                "start" or "feed" or "wait" => AnnouncementState.Announcing,
                "stop" or "flush" => AnnouncementState.Withdrawing,
                "down" => AnnouncementState.Withdrawn,
                _ => null,
            };
            return state is { } known
                ? new AnnouncementStatus(known, detail)
                : throw new BirdCommandException(socketPath, command, reply, $"BIRD control socket {socketPath}: '{command}': unknown protocol state '{fields[3]}' in '{detail}'");
        }
        throw new BirdCommandException(socketPath, command, reply, $"BIRD control socket {socketPath}: '{command}': no row for protocol '{protocol}' in '{reply}'");
    }

    private async Task<BirdReply> SendAsync(string command, CancellationToken cancellationToken)
    {
        try
        {
            return await Control.SendAsync(command, cancellationToken).ConfigureAwait(false);
        }
        catch (BirdCommandException e) when (e.Code == BirdReplyCode.ParseError && e.Reply?.FirstError?.Text.Contains("CF_SYM_UNDEFINED", StringComparison.Ordinal) == true)
        {
            // BIRD's parser does not know the name: say so in the operator's words rather than the grammar's.
            throw new BirdCommandException(Control.SocketPath, command, e.Reply,
                $"BIRD control socket {Control.SocketPath}: '{command}' failed: BIRD has no protocol named '{Protocol}' (is it declared in bird.conf?): {e.Reply.FirstError}");
        }
    }

    private void Expect(string command, BirdReply reply, int done, int already)
    {
        if (!reply.Contains(done) && !reply.Contains(already))
        {
            throw new BirdCommandException(Control.SocketPath, command, reply,
                $"BIRD control socket {Control.SocketPath}: '{command}': expected {done:D4} or {already:D4}, got '{reply}'");
        }
    }

    /// <summary>A BIRD symbol: a letter or '_', then letters, digits or '_' (BIRD's conf/cf-lex.l).</summary>
    private static bool IsSymbol(string name)
    {
        if (string.IsNullOrEmpty(name) || char.IsAsciiDigit(name[0]))
        {
            return false;
        }
        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }
        return true;
    }
}
