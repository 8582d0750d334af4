namespace AnycastDns.Server.Anycast;

/// <summary>
/// BIRD could not be talked to: its control socket is missing, refuses the connection, closes it early, does not
/// answer within the timeout, or answers with something that is not BIRD's reply protocol. The message is one line
/// naming the socket path.
/// </summary>
internal sealed class BirdUnavailableException : AnnouncementException
{
    public BirdUnavailableException(string socketPath, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        SocketPath = socketPath;
    }

    public BirdUnavailableException(string message)
        : base(message)
    {
    }

    public BirdUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public BirdUnavailableException()
    {
    }

    /// <summary>The control socket that could not be used.</summary>
    public string SocketPath { get; } = "";
}
