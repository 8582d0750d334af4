namespace AnycastDns.Server.Anycast;

/// <summary>
/// The speaker could not be told or asked (a driver's subclass says why: <see cref="BirdUnavailableException"/>,
/// <see cref="BirdCommandException"/>). The message is one line naming the speaker.
/// </summary>
public class AnnouncementException : Exception
{
    public AnnouncementException(string message)
        : base(message)
    {
    }

    public AnnouncementException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public AnnouncementException()
    {
    }
}
