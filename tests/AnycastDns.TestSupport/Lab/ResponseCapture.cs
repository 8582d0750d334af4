using System.Globalization;
using System.Net;
using System.Text.Json;

namespace AnycastDns.TestSupport.Lab;

/// <summary>
/// What a <see cref="ResponseCapture"/> saw arrive: frames from the server (fragments each counted) and their octets
/// with Ethernet headers; among them the DNS responses (UDP from port 53, first fragments), split into answers (TC
/// clear, records in the answer section), truncated ones (TC set: RRL's slips) and others; every other frame
/// (ARP, neighbour discovery); and what the kernel says the capture socket dropped.
/// </summary>
public sealed record CaptureReport(long Frames, long Octets, long Responses, long Answers, long AnswerOctets, long Truncated, long OtherResponses,
    long OtherFrames, long OtherOctets, long KernelCaptured, long KernelDropped)
{
    public override string ToString() =>
        $"{Frames} frames ({Octets} octets) from the server: {Responses} responses, {Answers} answers ({AnswerOctets} octets), {Truncated} truncated (TC), {OtherResponses} other; "
        + $"{OtherFrames} other frames ({OtherOctets} octets); capture socket: {KernelCaptured} seen, {KernelDropped} dropped";
}

/// <summary>
/// A packet capture at the receiving end of a link, for counting what a reflection delivers to its victim: a Linux
/// packet socket (<c>AF_PACKET</c>, every protocol) on one interface inside a namespace, counting the frames that
/// arrive (not those sent) and reading the DNS header of each response from the server's address. Python's standard
/// library only; a 64 MiB receive buffer, and the kernel's own count of what the socket dropped, so that a capture
/// that fell behind is seen rather than trusted. Runs until stopped (SIGTERM), or at most its bound; killed by PID
/// on dispose.
/// </summary>
public sealed class ResponseCapture : IAsyncDisposable
{
    /// <summary>argv: interface, server address, most seconds. Prints "ready", then one JSON report when stopped.</summary>
    private const string Script = """
        import json, signal, socket, struct, sys, time

        interface, server, most = sys.argv[1], socket.inet_aton(sys.argv[2]), float(sys.argv[3])
        stopping = False
        def stop(signum, frame):
            global stopping
            stopping = True
        signal.signal(signal.SIGTERM, stop)

        ETH_P_ALL, SO_RCVBUFFORCE, SOL_PACKET, PACKET_STATISTICS = 0x0003, 33, 263, 6
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
        sock.bind((interface, 0))
        sock.settimeout(0.1)
        c = dict.fromkeys(["frames", "octets", "responses", "answers", "answer_octets", "truncated", "other_responses",
                           "other_frames", "other_octets"], 0)
        print("ready", flush=True)
        end = time.monotonic() + most
        while not stopping and time.monotonic() < end:
            try:
                frame, address = sock.recvfrom(65535)
            except socket.timeout:
                continue
            if address[2] == socket.PACKET_OUTGOING:
                continue
            n = len(frame)
            # Ethernet II carrying IPv4 from the server.
            if n < 34 or frame[12:14] != b"\x08\x00" or frame[26:30] != server:
                c["other_frames"] += 1
                c["other_octets"] += n
                continue
            c["frames"] += 1
            c["octets"] += n
            ihl = (frame[14] & 0x0F) * 4
            fragment_offset = struct.unpack_from("!H", frame, 20)[0] & 0x1FFF
            udp = 14 + ihl
            if frame[23] != 17 or fragment_offset != 0 or n < udp + 8 + 12 or struct.unpack_from("!H", frame, udp)[0] != 53:
                continue
            c["responses"] += 1
            dns = udp + 8
            truncated = frame[dns + 2] & 0x02
            answers = struct.unpack_from("!H", frame, dns + 6)[0]
            if truncated:
                c["truncated"] += 1
            elif answers > 0:
                c["answers"] += 1
                c["answer_octets"] += n
            else:
                c["other_responses"] += 1
        # struct tpacket_stats: packets, drops (reading resets them; read once).
        c["kernel_captured"], c["kernel_dropped"] = struct.unpack("II", sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
        print(json.dumps(c), flush=True)
        """;

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly List<string> _lines = [];
    private LabProcess _process = null!;

    private ResponseCapture()
    {
    }

    /// <summary>
    /// Starts capturing on <paramref name="interfaceName"/> in <paramref name="space"/>, counting what comes from
    /// <paramref name="server"/>; returns once the socket is bound. Stops by itself after <paramref name="most"/>.
    /// </summary>
    public static async Task<ResponseCapture> StartAsync(NetworkNamespace space, string interfaceName, IPAddress server, TimeSpan most, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(server);
        ExternalTool.RequireInstalled(QueryStream.Python, "python3");
        var capture = new ResponseCapture();
        capture._process = LabProcess.Start(space, "capture", QueryStream.Python,
            ["-c", Script, interfaceName, server.ToString(), most.TotalSeconds.ToString(CultureInfo.InvariantCulture)], Path.GetTempPath(), capture.Add);
        var ready = await BoundedPoll.UntilAsync(_ => Task.FromResult(capture.Lines.Contains("ready") || capture._process.HasExited),
            ReadyTimeout, TimeSpan.FromMilliseconds(20), cancellationToken).ConfigureAwait(false);
        if (ready is null || !capture.Lines.Contains("ready"))
        {
            string log = capture._process.Log;
            await capture.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"the capture on {interfaceName} in {space.Name} did not start: {log}");
        }
        return capture;
    }

    private List<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Stops the capture (SIGTERM, by PID) and returns what it counted.</summary>
    public async Task<CaptureReport> StopAsync()
    {
        _process.Signal(LabProcess.SigTerm);
        if (!await _process.WaitForExitAsync(StopTimeout).ConfigureAwait(false))
        {
            throw new TimeoutException($"the capture did not stop within {StopTimeout.TotalSeconds} s of SIGTERM\n{_process.Log}");
        }
        string? report = Lines.LastOrDefault(l => l.StartsWith('{'));
        if (_process.ExitCode != 0 || report is null)
        {
            throw new InvalidOperationException($"the capture failed (exit {_process.ExitCode}):\n{_process.Log}{string.Join('\n', Lines)}");
        }
        using var json = JsonDocument.Parse(report);
        var o = json.RootElement;
        long Get(string name) => o.GetProperty(name).GetInt64();
        return new CaptureReport(Get("frames"), Get("octets"), Get("responses"), Get("answers"), Get("answer_octets"), Get("truncated"),
            Get("other_responses"), Get("other_frames"), Get("other_octets"), Get("kernel_captured"), Get("kernel_dropped"));
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private void Add(string line)
    {
        lock (_lines)
        {
            _lines.Add(line);
        }
    }
}
