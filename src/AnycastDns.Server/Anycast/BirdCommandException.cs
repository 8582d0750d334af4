namespace AnycastDns.Server.Anycast;

/// <summary>
/// BIRD answered a command with an error (a reply code 8xxx, run-time error, or 9xxx, parse-time error: BIRD's
/// doc/reply_codes), or with a reply that does not say what the command should have done. The message is one line
/// with the socket path, the command and BIRD's own words.
/// </summary>
internal sealed class BirdCommandException : AnnouncementException
{
    public BirdCommandException(string socketPath, string command, BirdReply reply, string message)
        : base(message)
    {
        SocketPath = socketPath;
        Command = command;
        Reply = reply;
    }

    public BirdCommandException(string message)
        : base(message)
    {
    }

    public BirdCommandException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public BirdCommandException()
    {
    }

    /// <summary>The control socket the command was sent to.</summary>
    public string SocketPath { get; } = "";

    /// <summary>The command as sent, without the newline.</summary>
    public string Command { get; } = "";

    /// <summary>BIRD's whole reply, when there was one.</summary>
    public BirdReply? Reply { get; }

    /// <summary>The code of BIRD's error line (e.g. 9001 parse error), or of the final line when none was an error; 0 without a reply.</summary>
    public int Code => Reply is null ? 0 : (Reply.FirstError ?? Reply.Final).Code;
}
