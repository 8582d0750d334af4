namespace AnycastDns.Server.Anycast;

/// <summary>
/// The reply codes of BIRD's control socket that this project reads, as BIRD's doc/reply_codes lists them: 0xxx
/// action successfully completed, 1xxx table entry, 2xxx table heading, 8xxx run-time error, 9xxx parse-time error.
/// </summary>
internal static class BirdReplyCode
{
    /// <summary>0000: OK, the closing line of most replies.</summary>
    public const int Ok = 0;

    /// <summary>0001: the greeting, <c>BIRD 2.0.12 ready.</c>.</summary>
    public const int Welcome = 1;

    /// <summary>0003: <c>configure</c> done.</summary>
    public const int Reconfigured = 3;

    /// <summary>0008: <c>disable</c> of a protocol that was disabled.</summary>
    public const int AlreadyDisabled = 8;

    /// <summary>0009: <c>disable</c> done.</summary>
    public const int Disabled = 9;

    /// <summary>0010: <c>enable</c> of a protocol that was enabled.</summary>
    public const int AlreadyEnabled = 10;

    /// <summary>0011: <c>enable</c> done.</summary>
    public const int Enabled = 11;

    /// <summary>0013: <c>show status</c>, closing line <c>Daemon is up and running</c>.</summary>
    public const int StatusReport = 13;

    /// <summary>1002: a row of <c>show protocols</c>.</summary>
    public const int ProtocolList = 1002;

    /// <summary>1007: a row of <c>show route</c>.</summary>
    public const int RouteList = 1007;

    /// <summary>2002: the heading of <c>show protocols</c>.</summary>
    public const int ProtocolListHeading = 2002;

    /// <summary>8001: <c>show route &lt;prefix&gt;</c> found no such network.</summary>
    public const int RouteNotFound = 8001;

    /// <summary>9001: the command did not parse (an unknown protocol name is one: <c>unexpected CF_SYM_UNDEFINED</c>).</summary>
    public const int ParseError = 9001;

    /// <summary>8xxx (run-time error) or 9xxx (parse-time error).</summary>
    public static bool IsError(int code) => code >= 8000;
}
