using AnycastDns.Authority;
using AnycastDns.Zones;

namespace AnycastDns.Fuzz;

/// <summary>
/// <c>respond</c>: any octets as a query to <see cref="Responder.Respond"/> over the test zones (plain and signed), and
/// the response held to <see cref="ResponseRules"/>. The first octet picks how it is asked: bit 0 TCP rather than UDP,
/// bit 1 the second server configuration (EDNS maximum 4096 rather than 1232, a 255-octet NSID, no version string, ANY in
/// full over UDP), bit 2 the "slip" reply of response rate limiting (<see cref="Responder.RespondLimited"/>, UDP only),
/// bit 3 a client on IPv6 rather than IPv4. The rest is the message; DO, EDNS size and options come in it.
/// </summary>
internal class RespondTarget : FuzzTarget
{
    private readonly Responder[] _responders;
    private readonly byte[] _udpResponse;
    private readonly byte[] _tcpResponse = new byte[Responder.MaxResponseSize];
    private readonly ResponseRules _rules = new();

    public RespondTarget()
        : this(TestZones.Load())
    {
    }

    public RespondTarget(ZoneSet zones)
    {
        _responders =
        [
            new Responder(zones, new ResponderOptions { PopId = "fuzz-pop", VersionString = "AnycastDns fuzz" }),
            // Server options allow a PoP id of up to 255 octets (ServerOptions), and NSID carries it whole.
            new Responder(zones, new ResponderOptions
            {
                PopId = new string('p', 255),
                VersionString = null,
                MaxUdpPayload = 4096,
                MinimalAnyOverUdp = false,
            }),
        ];
        // A UDP front's response buffer is exactly this long (DatagramBatch): a write past it throws here as it would there.
        _udpResponse = new byte[Math.Max(_responders[0].MaxUdpResponse, _responders[1].MaxUdpResponse)];
    }

    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }
        var how = new Asking(
            Transport: (input[0] & 1) != 0 ? Transport.Tcp : Transport.Udp,
            Limited: (input[0] & 4) != 0 && (input[0] & 1) == 0,
            Client: (input[0] & 8) != 0 ? ClientV6 : ClientV4);
        Ask(_responders[(input[0] >> 1) & 1], input[1..], how);
        ClientCodec.Read(input[1..]);
    }

    private static readonly byte[] ClientV4 = [192, 0, 2, 7];
    private static readonly byte[] ClientV6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];

    /// <summary>How a query reaches the responder: transport, whether rate limiting slips it, and from which address.</summary>
    protected readonly record struct Asking(Transport Transport, bool Limited, byte[] Client);

    /// <summary>Answers <paramref name="query"/> into a buffer full of leftovers and holds the response to the rules.</summary>
    protected void Ask(Responder responder, ReadOnlySpan<byte> query, Asking how)
    {
        Span<byte> buffer = how.Transport == Transport.Tcp ? _tcpResponse : _udpResponse.AsSpan(0, responder.MaxUdpResponse);
        FillWithLeftovers(buffer, query);
        int length = Respond(responder, query, buffer, how, out var decision);
        _rules.Check(query, how.Transport, responder.MaxUdpResponse, buffer[..length], decision, how.Limited);
    }

    /// <summary>The one call of the responder: everything else here is about its input and its output.</summary>
    private static int Respond(Responder responder, ReadOnlySpan<byte> query, Span<byte> response, Asking how, out ResponseDecision decision) =>
        how.Limited
            ? responder.RespondLimited(query, response, how.Client, out decision)
            : responder.Respond(query, response, how.Transport, how.Client, out decision);

    /// <summary>
    /// The server reuses its buffers, so a response is written over an earlier one. Octets of the query, over and over,
    /// look like one: labels and pointers. The response may never depend on them.
    /// </summary>
    private static void FillWithLeftovers(Span<byte> buffer, ReadOnlySpan<byte> query)
    {
        if (query.IsEmpty)
        {
            buffer.Fill(0xC0);
            return;
        }
        int filled = Math.Min(query.Length, buffer.Length);
        query[..filled].CopyTo(buffer);
        for (; filled < buffer.Length; filled *= 2)
        {
            buffer[..Math.Min(filled, buffer.Length - filled)].CopyTo(buffer[filled..]);
        }
    }
}
