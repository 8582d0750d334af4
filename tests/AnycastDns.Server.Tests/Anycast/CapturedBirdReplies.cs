namespace AnycastDns.Server.Tests.Anycast;

/// <summary>
/// Replies of a real BIRD 2.0.12 (Debian 12's bird2) on its control socket, byte for byte, captured in the lab
/// (a pop and a router namespace, deploy/bird/bird.conf on the pop) with a plain socket client.
/// </summary>
internal static class CapturedBirdReplies
{
    public const string Greeting = "0001 BIRD 2.0.12 ready.\n";

    public const string Enabled = "0011-anycast: enabled\n0000 \n";

    public const string AlreadyEnabled = "0010-anycast: already enabled\n0000 \n";

    public const string Disabled = "0009-anycast: disabled\n0000 \n";

    public const string AlreadyDisabled = "0008-anycast: already disabled\n0000 \n";

    /// <summary><c>show protocols anycast</c> before any enable: <c>disabled yes</c> shows as <c>down</c>.</summary>
    public const string ShowProtocolDown =
        "2002-Name       Proto      Table      State  Since         Info\n"
        + "1002-anycast    Static     master4    down   19:26:04.758  \n"
        + "0000 \n";

    public const string ShowProtocolUp =
        "2002-Name       Proto      Table      State  Since         Info\n"
        + "1002-anycast    Static     master4    up     19:26:11.715  \n"
        + "0000 \n";

    /// <summary><c>show protocols</c>: the second row continues code 1002 with a leading space.</summary>
    public const string ShowProtocolsAll =
        "2002-Name       Proto      Table      State  Since         Info\n"
        + "1002-device1    Device     ---        up     19:26:04.758  \n"
        + " anycast    Static     master4    down   19:26:15.728  \n"
        + " upstream   BGP        ---        up     19:26:57.165  Established   \n"
        + "0000 \n";

    /// <summary><c>show protocols all anycast</c>: a 1006 block whose lines continue with a leading space, one of them empty.</summary>
    public const string ShowProtocolAllDetails =
        "2002-Name       Proto      Table      State  Since         Info\n"
        + "1002-anycast    Static     master4    down   19:26:04.758  \n"
        + "1006-  Channel ipv4\n"
        + "     State:          DOWN\n"
        + "     Table:          master4\n"
        + "     Preference:     200\n"
        + "     Input filter:   ACCEPT\n"
        + "     Output filter:  REJECT\n"
        + " \n"
        + "0000 \n";

    /// <summary><c>enable nosuch</c>: an unknown protocol name is a parse error, the reply's only line.</summary>
    public const string EnableUnknownProtocol = "9001 syntax error, unexpected CF_SYM_UNDEFINED, expecting CF_SYM_KNOWN or TEXT or ALL\n";

    public const string ShowStatus =
        "1000-BIRD 2.0.12\n"
        + "1011-Router ID is 198.18.0.1\n"
        + " Hostname is vm\n"
        + " Current server time is 2026-11-23 19:26:22.738\n"
        + " Last reboot on 2026-11-23 19:26:04.758\n"
        + " Last reconfiguration on 2026-11-23 19:26:04.758\n"
        + "0013 Daemon is up and running\n";

    /// <summary>The router's <c>show route all 198.19.53.0/24</c> while the pop announces: tabs inside continuation lines.</summary>
    public const string RouterShowRouteAll =
        "1007-Table master4:\n"
        + " 198.19.53.0/24       unicast [pop 19:27:05.973] * (100) [AS64512i]\n"
        + " \tvia 198.18.0.1 on veth0\n"
        + "1008-\tType: BGP univ\n"
        + "1012-\tBGP.origin: IGP\n"
        + " \tBGP.as_path: 64512\n"
        + " \tBGP.next_hop: 198.18.0.1\n"
        + " \tBGP.local_pref: 100\n"
        + "0000 \n";

    /// <summary>The router's <c>show route 198.19.53.0/24</c> once the pop withdrew: a run-time error.</summary>
    public const string RouterRouteNotFound = "8001 Network not found\n";

    /// <summary>The router's <c>show route where net = 198.19.53.0/24</c> once the pop withdrew: an empty success.</summary>
    public const string RouterRouteFilteredEmpty = "0000 \n";

    /// <summary><c>configure "/nonexistent.conf"</c>: a success line, then the error that ends the reply.</summary>
    public const string ConfigureMissingFile =
        "0002-Reading configuration from /nonexistent.conf\n"
        + "8002 /nonexistent.conf: No such file or directory\n";

    /// <summary><c>enable anycast</c> after <c>echo all</c>: BIRD's log line follows the reply, marked '+'.</summary>
    public const string EnabledWithEcho = "0011-anycast: enabled\n0000 \n+Enabling protocol anycast\n";
}
