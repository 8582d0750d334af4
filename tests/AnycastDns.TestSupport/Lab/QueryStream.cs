using System.Globalization;
using System.Net;
using System.Text.Json;

namespace AnycastDns.TestSupport.Lab;

/// <summary>
/// One <c>CH TXT id.server</c> query of a <see cref="QueryStream"/>: where it went, when it left and came back (the
/// host's wall clock, as the test's own timestamps), which PoP answered, or why there was no answer.
/// </summary>
public sealed record LabQuery(IPAddress Target, int Sequence, DateTimeOffset Sent, DateTimeOffset? Received, string? Answer, string? Error)
{
    public bool Answered => Answer is not null;

    public override string ToString() =>
        $"#{Sequence} to {Target} sent {Sent:HH:mm:ss.fff}: " + (Answered ? $"'{Answer}' at {Received:HH:mm:ss.fff}" : $"no answer ({Error})");
}

/// <summary>
/// A steady stream of queries from inside a namespace, sent by dnspython (a client nobody here wrote) under Debian's
/// python3: every interval, one <c>CH TXT id.server</c> to each target, each from a socket of its own (so its own
/// source port, which the router's L4 multipath hash sees as a new flow), one datagram, no retry. Every query is
/// reported as it completes: answered, refused (ICMP), or timed out. Bounded: <c>count</c> rounds, then the last
/// timeout; the process is killed by PID on dispose.
/// </summary>
public sealed class QueryStream : IAsyncDisposable
{
    /// <summary>Debian's Python, for which python3-dnspython is installed (the python3 first on PATH may be another).</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>argv: interval ms, rounds, timeout ms, targets... Prints one JSON object per query, as it completes.</summary>
    private const string Script = """
        import json, selectors, socket, sys, time
        import dns.exception, dns.message, dns.rcode, dns.rdataclass, dns.rdatatype

        interval, rounds, timeout = float(sys.argv[1]) / 1000, int(sys.argv[2]), float(sys.argv[3]) / 1000
        targets = sys.argv[4:]
        selector = selectors.DefaultSelector()
        pending = {}

        def report(entry, received, answer, error):
            print(json.dumps({"target": entry["target"], "seq": entry["seq"], "sent": entry["sent"],
                              "received": received, "answer": answer, "error": error}), flush=True)

        def finish(sock, received, answer, error):
            entry = pending.pop(sock)
            selector.unregister(sock)
            sock.close()
            report(entry, received, answer, error)

        start = time.time()
        seq = 0
        while seq < rounds or pending:
            if seq < rounds and time.time() >= start + seq * interval:
                for target in targets:
                    query = dns.message.make_query("id.server.", dns.rdatatype.TXT, dns.rdataclass.CH, use_edns=False)
                    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    sock.setblocking(False)
                    # Connected: an ICMP port unreachable comes back as an error on this socket.
                    sock.connect((target, 53))
                    entry = {"target": target, "seq": seq, "sent": time.time(), "query": query}
                    try:
                        sock.send(query.to_wire())
                    except OSError as e:
                        sock.close()
                        report(entry, None, None, e.strerror or str(e))
                        continue
                    pending[sock] = entry
                    selector.register(sock, selectors.EVENT_READ)
                seq += 1
                continue
            wake = min([e["sent"] + timeout for e in pending.values()] + ([start + seq * interval] if seq < rounds else []))
            for key, _ in selector.select(max(0.0, wake - time.time())):
                sock = key.fileobj
                entry = pending[sock]
                try:
                    wire = sock.recv(65535)
                except OSError as e:
                    finish(sock, None, None, e.strerror or str(e))
                    continue
                received = time.time()
                try:
                    response = dns.message.from_wire(wire)
                except dns.exception.DNSException as e:
                    finish(sock, None, None, "malformed: " + str(e))
                    continue
                if not entry["query"].is_response(response):
                    continue
                answer = b"".join(response.answer[0][0].strings).decode() if response.answer else None
                finish(sock, received, answer, None if answer else dns.rcode.to_text(response.rcode()))
            now = time.time()
            for sock in [s for s, e in pending.items() if now >= e["sent"] + timeout]:
                finish(sock, None, None, "timeout")
        """;

    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(10);

    private readonly List<LabQuery> _queries = [];
    private readonly List<string> _unreadable = [];
    private LabProcess _process = null!;
    private TimeSpan _bound;

    private QueryStream()
    {
    }

    /// <summary>The queries completed so far, in the order they completed.</summary>
    public IReadOnlyList<LabQuery> Queries
    {
        get
        {
            lock (_queries)
            {
                return [.. _queries];
            }
        }
    }

    /// <summary>
    /// Starts the stream in <paramref name="space"/>: <paramref name="rounds"/> rounds, one every
    /// <paramref name="interval"/>, one query per target in each, each waited for <paramref name="timeout"/>.
    /// </summary>
    public static QueryStream Start(NetworkNamespace space, IReadOnlyList<IPAddress> targets, TimeSpan interval, int rounds, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(targets);
        ExternalTool.RequireInstalled(Python, "python3-dnspython");
        var stream = new QueryStream { _bound = (interval * rounds) + timeout + Slack };
        string[] arguments =
        [
            "-c", Script,
            interval.TotalMilliseconds.ToString(CultureInfo.InvariantCulture),
            rounds.ToString(CultureInfo.InvariantCulture),
            timeout.TotalMilliseconds.ToString(CultureInfo.InvariantCulture),
            .. targets.Select(t => t.ToString()),
        ];
        stream._process = LabProcess.Start(space, "query stream", Python, arguments, Path.GetTempPath(), stream.Add);
        return stream;
    }

    /// <summary>Waits, bounded by the stream's own length plus a margin, until every query is reported; returns them all.</summary>
    public async Task<IReadOnlyList<LabQuery>> CompleteAsync()
    {
        if (!await _process.WaitForExitAsync(_bound).ConfigureAwait(false))
        {
            throw new TimeoutException($"the query stream did not end within {_bound.TotalSeconds} s\n{_process.Log}");
        }
        lock (_unreadable)
        {
            if (_process.ExitCode != 0 || _unreadable.Count > 0)
            {
                throw new InvalidOperationException($"the query stream failed (exit {_process.ExitCode}):\n{_process.Log}{string.Join('\n', _unreadable)}");
            }
        }
        return Queries;
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private static DateTimeOffset Time(JsonElement seconds) =>
        DateTimeOffset.UnixEpoch.AddTicks((long)(seconds.GetDouble() * TimeSpan.TicksPerSecond));

    private void Add(string line)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            var o = json.RootElement;
            var query = new LabQuery(
                IPAddress.Parse(o.GetProperty("target").GetString()!),
                o.GetProperty("seq").GetInt32(),
                Time(o.GetProperty("sent")),
                o.GetProperty("received").ValueKind == JsonValueKind.Null ? null : Time(o.GetProperty("received")),
                o.GetProperty("answer").GetString(),
                o.GetProperty("error").GetString());
            lock (_queries)
            {
                _queries.Add(query);
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            lock (_unreadable)
            {
                _unreadable.Add($"unreadable line '{line}': {e.Message}");
            }
        }
    }
}
