using System.Globalization;
using System.Net;
using System.Text.Json;

namespace AnycastDns.TestSupport.Lab;

/// <summary>
/// How a <see cref="ResolverLoad"/> went: queries asked, answered (NOERROR with records), how many needed a second or
/// third try, how many came back truncated (and were asked again over TCP), the slowest answer, and the first
/// failures in words.
/// </summary>
public sealed record ResolverReport(int Queries, int Answered, int Retried, int Truncated, double SlowestMs, IReadOnlyList<string> Failures)
{
    public override string ToString() =>
        $"{Answered} of {Queries} answered; {Retried} needed a retry, {Truncated} came back truncated (then TCP); slowest {SlowestMs:0} ms"
        + (Failures.Count > 0 ? $"; failures: {string.Join("; ", Failures)}" : "");
}

/// <summary>
/// A resolver's ordinary traffic, from inside a namespace, sent by dnspython: one query every interval, for the
/// questions given in turn, with EDNS0 (payload 1232, the DNS flag day's figure) and DO, each from a socket of its own.
/// Like a resolver it tries again after a timeout (up to a number of tries) and asks over TCP when the answer comes
/// back truncated. Bounded: the count, then each query's last try; killed by PID on dispose.
/// </summary>
public sealed class ResolverLoad : IAsyncDisposable
{
    /// <summary>argv: target, interval ms, count, timeout ms, tries, then questions as name/type. Prints one JSON report.</summary>
    private const string Script = """
        import json, selectors, socket, sys, time
        import dns.exception, dns.flags, dns.message, dns.query, dns.rcode, dns.rdatatype

        target = sys.argv[1]
        interval, count, timeout, tries = float(sys.argv[2]) / 1000, int(sys.argv[3]), float(sys.argv[4]) / 1000, int(sys.argv[5])
        questions = [q.split("/") for q in sys.argv[6:]]
        selector = selectors.DefaultSelector()
        pending = {}
        report = {"queries": 0, "answered": 0, "retried": 0, "truncated": 0, "slowest_ms": 0.0, "failures": []}

        def fail(entry, why):
            if len(report["failures"]) < 10:
                report["failures"].append("#%d %s %s: %s" % (entry["seq"], entry["name"], entry["type"], why))

        def send(sock, entry):
            entry["tries"] += 1
            entry["sent"] = time.time()
            sock.send(entry["query"].to_wire())

        def done(sock, entry, response, why):
            selector.unregister(sock)
            sock.close()
            del pending[sock]
            if response is not None and response.flags & dns.flags.TC:
                report["truncated"] += 1
                try:
                    response = dns.query.tcp(entry["query"], target, timeout=2)
                except (OSError, dns.exception.DNSException) as e:
                    response, why = None, "tcp: " + str(e)
            if entry["tries"] > 1:
                report["retried"] += 1
            if response is None:
                fail(entry, why)
            elif response.rcode() != dns.rcode.NOERROR or not response.answer:
                fail(entry, "%s, %d answer rrsets" % (dns.rcode.to_text(response.rcode()), len(response.answer)))
            else:
                report["answered"] += 1
                report["slowest_ms"] = max(report["slowest_ms"], (time.time() - entry["first"]) * 1000)

        start = time.time()
        seq = 0
        while seq < count or pending:
            now = time.time()
            if seq < count and now >= start + seq * interval:
                name, rdtype = questions[seq % len(questions)]
                query = dns.message.make_query(name, dns.rdatatype.from_text(rdtype), use_edns=0, payload=1232, want_dnssec=True)
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sock.setblocking(False)
                sock.connect((target, 53))
                entry = {"seq": seq, "name": name, "type": rdtype, "query": query, "tries": 0, "first": now}
                pending[sock] = entry
                selector.register(sock, selectors.EVENT_READ)
                report["queries"] += 1
                send(sock, entry)
                seq += 1
                continue
            wake = min([e["sent"] + timeout for e in pending.values()] + ([start + seq * interval] if seq < count else []))
            for key, _ in selector.select(max(0.0, wake - time.time())):
                sock = key.fileobj
                entry = pending[sock]
                try:
                    wire = sock.recv(65535)
                    response = dns.message.from_wire(wire)
                except OSError as e:
                    done(sock, entry, None, e.strerror or str(e))
                    continue
                except dns.exception.DNSException as e:
                    done(sock, entry, None, "malformed: " + str(e))
                    continue
                if entry["query"].is_response(response):
                    done(sock, entry, response, None)
            now = time.time()
            for sock, entry in [(s, e) for s, e in pending.items() if now >= e["sent"] + timeout]:
                if entry["tries"] < tries:
                    send(sock, entry)
                else:
                    done(sock, entry, None, "no answer to %d tries" % entry["tries"])
        print(json.dumps(report), flush=True)
        """;

    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(15);

    private LabProcess _process = null!;
    private TimeSpan _bound;
    private string? _report;

    private ResolverLoad()
    {
    }

    /// <summary>
    /// Starts <paramref name="count"/> queries to <paramref name="target"/> from <paramref name="space"/>, one every
    /// <paramref name="interval"/>, for <paramref name="questions"/> (<c>name/TYPE</c>) in turn; each try waits
    /// <paramref name="timeout"/>, at most <paramref name="tries"/> tries.
    /// </summary>
    public static ResolverLoad Start(NetworkNamespace space, IPAddress target, IReadOnlyList<string> questions, int count, TimeSpan interval, TimeSpan timeout, int tries)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(questions);
        ExternalTool.RequireInstalled(QueryStream.Python, "python3-dnspython");
        var load = new ResolverLoad { _bound = (interval * count) + (timeout * tries) + Slack };
        string[] arguments =
        [
            "-c", Script, target.ToString(),
            interval.TotalMilliseconds.ToString(CultureInfo.InvariantCulture), count.ToString(CultureInfo.InvariantCulture),
            timeout.TotalMilliseconds.ToString(CultureInfo.InvariantCulture), tries.ToString(CultureInfo.InvariantCulture),
            .. questions,
        ];
        load._process = LabProcess.Start(space, "resolver", QueryStream.Python, arguments, Path.GetTempPath(), line => load._report = line);
        return load;
    }

    /// <summary>Waits, bounded by the load's own length plus a margin, for its end; returns its report.</summary>
    public async Task<ResolverReport> CompleteAsync()
    {
        if (!await _process.WaitForExitAsync(_bound).ConfigureAwait(false))
        {
            throw new TimeoutException($"the resolver did not end within {_bound.TotalSeconds} s\n{_process.Log}");
        }
        if (_process.ExitCode != 0 || _report is null)
        {
            throw new InvalidOperationException($"the resolver failed (exit {_process.ExitCode}):\n{_process.Log}{_report}");
        }
        using var json = JsonDocument.Parse(_report);
        var o = json.RootElement;
        return new ResolverReport(o.GetProperty("queries").GetInt32(), o.GetProperty("answered").GetInt32(), o.GetProperty("retried").GetInt32(),
            o.GetProperty("truncated").GetInt32(), o.GetProperty("slowest_ms").GetDouble(),
            [.. o.GetProperty("failures").EnumerateArray().Select(f => f.GetString()!)]);
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
