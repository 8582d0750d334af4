using System.Globalization;
using System.Text;
using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.Protocol.Presentation;
using AnycastDns.Zones;
using static AnycastDns.Fuzz.FuzzFinding;

namespace AnycastDns.Fuzz;

/// <summary>
/// <c>zonefile</c>: any octets as the zone file <c>fuzz.test.zone</c>, loaded with the real <see cref="ZoneLoader"/>
/// (reader, $INCLUDE/$GENERATE, zone rules, DNSSEC checks). Rules: nothing is thrown, whatever the text; every problem is
/// a diagnostic of one line naming this file and a line and column that exist in it; the zone loads exactly when no
/// diagnostic is an error. A zone that loads is then asked about its own names, with and without DO, and every response
/// held to <see cref="ResponseRules"/>.
/// </summary>
internal sealed class ZoneFileTarget : FuzzTarget
{
    /// <summary>Longer files are left out: a run stays in milliseconds, and what breaks a parser shows in short files.</summary>
    private const int MaxInput = 64 * 1024;

    /// <summary>
    /// $GENERATE may make up to 2^24 records a line (GenerateTemplate.MaxRecords, a /8 of reverse entries): correct, and
    /// seconds of work. Inputs that ask for more than this many in all are left out, or afl-fuzz would call them hangs.
    /// </summary>
    private const long MaxGenerated = 4096;

    /// <summary>Names of a loaded zone asked about, at most.</summary>
    private const int NamesAsked = 16;

    private static readonly DnsName Origin = DnsName.Parse("fuzz.test.");

    private readonly string _folder;
    private readonly string _path;
    private readonly PresentationTokens _tokens = new();
    private readonly ResponseRules _rules = new();
    private readonly byte[] _response = new byte[Responder.MaxResponseSize];
    private readonly List<int> _lineStarts = [];

    public ZoneFileTarget()
    {
        // Written once per run, in scripts/fuzz.sh's scratch folder or else a memory-backed one. Only this file is in
        // it, so an $INCLUDE can only name this file (a loop, which the reader must report) or something that is not there.
        string? scratch = Environment.GetEnvironmentVariable("ANYCASTDNS_FUZZ_SCRATCH");
        string root = scratch is { Length: > 0 } ? scratch : Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        _folder = Path.Combine(root, $"anycastdns-fuzz-zonefile-{Environment.ProcessId}");
        Directory.CreateDirectory(_folder);
        _path = Path.Combine(_folder, "fuzz.test.zone");
        // afl-fuzz ends its target with SIGKILL, so this runs only after a replay; scripts/fuzz.sh removes its scratch.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(_folder, recursive: true);
    }

    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length > MaxInput)
        {
            return;
        }
        // As the reader sees a file: one char per octet.
        string text = Encoding.Latin1.GetString(input);
        if (GeneratedRecords(text) > MaxGenerated)
        {
            return;
        }
        File.WriteAllBytes(_path, input.ToArray());
        var load = ZoneLoader.LoadFile(_path);
        CheckDiagnostics(load, text);
        if (load.Zone is { } zone)
        {
            zone.ComputeDigest();
            AskAbout(zone);
        }
    }

    private void CheckDiagnostics(ZoneLoadResult load, string text)
    {
        _lineStarts.Clear();
        _lineStarts.Add(0);
        for (int i = text.IndexOf('\n'); i >= 0; i = text.IndexOf('\n', i + 1))
        {
            _lineStarts.Add(i + 1);
        }
        bool errors = false;
        foreach (var diagnostic in load.Diagnostics)
        {
            errors |= diagnostic.Severity == Severity.Error;
            var at = diagnostic.Location;
            Require(at.File == _path, $"a diagnostic names {at.File}, not the file read: {diagnostic}");
            Require(at.Line >= 1 && at.Line <= _lineStarts.Count, $"a diagnostic names line {at.Line} of a file of {_lineStarts.Count} lines: {diagnostic}");
            int lineStart = _lineStarts[at.Line - 1];
            int lineEnd = at.Line < _lineStarts.Count ? _lineStarts[at.Line] - 1 : text.Length;
            Require(at.Column >= 1 && at.Column <= lineEnd - lineStart + 1,
                $"a diagnostic names column {at.Column} of line {at.Line}, which has {lineEnd - lineStart} characters: {diagnostic}");
            Require(diagnostic.Message.Length > 0, $"a diagnostic without a message at {at}");
            Require(!diagnostic.Message.Contains('\n', StringComparison.Ordinal), $"a diagnostic of more than one line: {diagnostic}");
        }
        Require(load.Succeeded == !errors, load.Succeeded ? "the zone loaded despite errors" : "the zone did not load, and no error says why");
    }

    /// <summary>The first names of the zone, each with its first type, ANY, and a name under it that is not there.</summary>
    private void AskAbout(Zone zone)
    {
        var responder = new Responder(new ZoneSet([zone]), new ResponderOptions { PopId = "fuzz-pop" });
        int asked = 0;
        foreach (var node in zone.Nodes)
        {
            if (asked++ == NamesAsked)
            {
                break;
            }
            var type = node.RRsets.Length > 0 ? node.RRsets[0].Type : RecordType.A;
            Ask(responder, node.Name, type);
            Ask(responder, node.Name, RecordType.ANY);
            if (node.Name.Length + 3 <= DnsName.MaxLength)
            {
                Ask(responder, node.Name.Prepend("zz"u8), RecordType.A);
            }
        }
    }

    /// <summary>Over UDP without EDNS (512 octets) and with EDNS and DO, and over TCP with DO.</summary>
    private void Ask(Responder responder, DnsName name, RecordType type)
    {
        var plain = DnsMessage.CreateQuery(name, type, id: 0x2F).Encode();
        var dnssec = DnsMessage.CreateQuery(name, type, id: 0x2F, edns: new EdnsRecord { DnssecOk = true }).Encode();
        foreach (var (query, transport) in new[] { (plain, Transport.Udp), (dnssec, Transport.Udp), (dnssec, Transport.Tcp) })
        {
            var buffer = transport == Transport.Tcp ? _response.AsSpan() : _response.AsSpan(0, responder.MaxUdpResponse);
            int length = responder.Respond(query, buffer, transport, [127, 0, 0, 1], out var decision);
            _rules.Check(query, transport, responder.MaxUdpResponse, buffer[..length], decision, limited: false);
        }
    }

    /// <summary>
    /// How many records the $GENERATE entries of <paramref name="text"/> make, read with the lexer the zone-file reader
    /// uses and the range syntax it accepts (<c>start-stop[/step]</c>, decimal, up to 2147483647).
    /// </summary>
    private long GeneratedRecords(string text)
    {
        if (text.IndexOf("$GENERATE", StringComparison.OrdinalIgnoreCase) < 0)
        {
            return 0;
        }
        long total = 0;
        var lexer = new PresentationLexer(text);
        while (lexer.Next(_tokens, out var entry) && total <= MaxGenerated)
        {
            if (entry.StartsWithBlank || _tokens.Count < 2 || _tokens.IsQuoted(0)
                || !_tokens[0].Equals("$GENERATE", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            var range = _tokens[1];
            int dash = range.IndexOf('-');
            int slash = range.IndexOf('/');
            if (dash <= 0 || (slash >= 0 && slash < dash)
                || !Number(range[..dash], out long start) || !Number(slash < 0 ? range[(dash + 1)..] : range[(dash + 1)..slash], out long stop)
                || (slash >= 0 ? !Number(range[(slash + 1)..], out long step) : (step = 1) == 0) || step == 0 || start > stop)
            {
                continue;
            }
            total += (stop - start) / step + 1;
        }
        return total;
    }

    private static bool Number(ReadOnlySpan<char> text, out long value) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value <= int.MaxValue;
}
