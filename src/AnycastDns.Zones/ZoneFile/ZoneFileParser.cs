using System.Buffers.Binary;
using System.Text;
using AnycastDns.Protocol;
using AnycastDns.Protocol.Presentation;

namespace AnycastDns.Zones;

/// <summary>
/// The state of one read of a zone file and its includes: entries come from <see cref="PresentationLexer"/>, RDATA
/// goes through <see cref="RdataPresentation"/>, and every failure becomes a diagnostic at the token that caused it.
/// </summary>
internal sealed class ZoneFileParser
{
    private const int MaxIncludeDepth = 16;

    private readonly ZoneFileResult _result;
    private readonly string? _includeRoot;
    private readonly string _includeDisplayRoot;
    private readonly List<string> _includeStack = new();

    // The include folder with its symbolic links followed, found at the first $INCLUDE.
    private string? _realIncludeRoot;

    // TTL defaults span included files, as in BIND: $TTL (RFC 2308 §4) and the last explicit TTL (RFC 1035 §5.1).
    private uint? _defaultTtl;
    private uint? _lastTtl;
    private bool _warnedLastTtl;

    // RFC 1035 §5.1: an omitted class is the last one given; all records of a zone share one class.
    private RecordClass? _zoneClass;
    private SourceLocation? _zoneClassLocation;

    /// <summary>
    /// The names of the version served, when this read is a reload of it: an owner whose name is there, octet for octet,
    /// takes that name instead of a new one. A reload of a million names otherwise made a million names that live until
    /// the swap, and each young collection while it read copied them (the waits of the answers it holds).
    /// </summary>
    public Dictionary<DnsName, ZoneNode>? ServedNames { get; init; }

    public ZoneFileParser(ZoneFileResult result, string? includeRoot, string includeDisplayRoot)
    {
        _result = result;
        _includeRoot = includeRoot is null ? null : Path.TrimEndingDirectorySeparator(includeRoot);
        _includeDisplayRoot = includeDisplayRoot;
    }

    /// <summary>What belongs to one file and is restored when an included file ends (RFC 1035 §5.1: $INCLUDE leaves the parent's origin alone).</summary>
    private sealed class FileState(string name, DnsName origin)
    {
        public string Name { get; } = name;

        public PresentationTokens Tokens { get; } = new();

        public DnsName Origin { get; set; } = origin;

        public DnsName? LastOwner { get; set; }

        // The text the last owner was parsed from, and under which origin: consecutive records usually share the owner.
        public char[] LastOwnerText { get; set; } = new char[64];

        public int LastOwnerLength { get; set; } = -1;

        public DnsName? LastOwnerOrigin { get; set; }
    }

    /// <summary>Reads a zone file's text (octets as ISO-8859-1 chars). <paramref name="fullPath"/> seeds include-loop detection.</summary>
    public void Read(string text, string displayName, string? fullPath, DnsName origin)
    {
        if (fullPath is not null)
        {
            _result.Sources.Add(fullPath);
            _includeStack.Add(fullPath);
        }
        using var source = ZoneText.FromString(text);
        ReadSource(source, displayName, origin);
    }

    /// <summary>Reads the zone file at <paramref name="fullPath"/>, shown as <paramref name="displayName"/>; false (and nothing read) when it cannot be opened.</summary>
    public bool ReadFile(string fullPath, string displayName, DnsName origin, out string? error)
    {
        using var source = ZoneText.TryOpen(fullPath, out error);
        if (source is null)
        {
            return false;
        }
        _result.Sources.Add(fullPath);
        _includeStack.Add(fullPath);
        ReadSource(source, displayName, origin);
        return true;
    }

    /// <summary>EF BB BF as this parser sees octets: one ISO-8859-1 char each.</summary>
    private const string Utf8ByteOrderMark = "\u00EF\u00BB\u00BF";

    /// <summary>
    /// Reads one file's entries, window by window (<see cref="ZoneText"/>). An entry cut by a window's end is read again
    /// from the start of the next window; a file that cannot be read on ends with an error at the line reached.
    /// </summary>
    private void ReadSource(ZoneText source, string name, DnsName origin)
    {
        var file = new FileState(name, origin);
        var tokens = file.Tokens;
        int line = 1;
        bool first = true;
        try
        {
            while (source.Next(out ReadOnlyMemory<char> text, out bool last))
            {
                // Editors on some systems start UTF-8 files with a byte-order mark. A master file is plain text (RFC 1035
                // §5.1), and read on, the mark would become part of the first owner name; say what it is instead (NSD,
                // Knot and BIND reject such a file with an error about its first token).
                if (first && text.Span.StartsWith(Utf8ByteOrderMark, StringComparison.Ordinal))
                {
                    Report(new SourceLocation(name, 1, 1), Severity.Error,
                        "the file starts with a UTF-8 byte-order mark (EF BB BF); a zone file is plain text without one (RFC 1035 §5.1): save it without the BOM");
                    return;
                }
                first = false;
                var lexer = new PresentationLexer(text, line);
                int used = text.Length;
                while (true)
                {
                    int at = lexer.Position, atLine = lexer.Line;
                    if (!lexer.Next(tokens, out var entry))
                    {
                        break;
                    }
                    if (lexer.EntryReachedEnd && !last)
                    {
                        // The entry goes on past this window: the next one starts with it.
                        used = at;
                        line = atLine;
                        break;
                    }
                    Entry(file, entry);
                }
                if (used == text.Length)
                {
                    line = lexer.Line;
                }
                source.Consume(used);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            Report(new SourceLocation(name, line, 1), Severity.Error, $"cannot read on: {e.Message}");
        }
    }

    private void Entry(FileState file, LexedEntry entry)
    {
        var tokens = file.Tokens;
        if (entry.Error is not null)
        {
            Report(new SourceLocation(file.Name, entry.ErrorLine, tokens.ColumnOf(entry.ErrorOffset)), Severity.Error, entry.Error);
            return;
        }
        if (tokens.Count == 0)
        {
            return;
        }
        // RFC 1035 §5.1: a control entry starts with '$' in the first column.
        if (!entry.StartsWithBlank && !tokens.IsQuoted(0) && tokens[0][0] == '$')
        {
            Directive(file);
        }
        else
        {
            Record(file, entry.StartsWithBlank);
        }
    }

    // ---- diagnostics ---------------------------------------------------------------------------------------------

    private void Report(SourceLocation location, Severity severity, string message) =>
        _result.Add(new ZoneDiagnostic(location, severity, message));

    private void Error(FileState file, int tokenIndex, string message) => Report(At(file, tokenIndex), Severity.Error, message);

    /// <summary>The place of token <paramref name="index"/>, or just past the last token when the entry ended too soon.</summary>
    private static SourceLocation At(FileState file, int index)
    {
        var t = file.Tokens;
        if (index >= 0 && index < t.Count)
        {
            return new SourceLocation(file.Name, t.Line(index), t.ColumnOf(t.Offset(index)));
        }
        int last = t.Count - 1;
        return new SourceLocation(file.Name, t.Line(last), t.ColumnOf(t.EndOffset(last)));
    }

    private static string Show(PresentationTokens t, int index) =>
        t.IsQuoted(index) ? $"the quoted string \"{t.Text(index)}\"" : $"'{t.Text(index)}'";

    // ---- records -------------------------------------------------------------------------------------------------

    private void Record(FileState file, bool inheritsOwner)
    {
        var t = file.Tokens;
        int i = 0;
        DnsName owner;
        if (inheritsOwner)
        {
            if (file.LastOwner is null)
            {
                Error(file, 0, "no owner name: a line that starts with a blank repeats the previous owner, and there is none yet (RFC 1035 §5.1)");
                return;
            }
            owner = file.LastOwner;
        }
        else
        {
            if (!TryOwner(file, out owner))
            {
                return;
            }
            i = 1;
        }
        file.LastOwner = owner;
        if (!TryTtlClassType(file, ref i, out uint? ttl, out RecordClass? cls, out int classIndex, out RecordType type, out int typeIndex)
            || !TryClass(file, cls, classIndex, out RecordClass recordClass))
        {
            return;
        }
        ReadOnlySpan<byte> rdata;
        try
        {
            // Left in the parser's buffer until the next record: the result copies it to where it keeps records.
            rdata = RdataPresentation.ParseToScratch(type, t, i, file.Origin);
        }
        catch (PresentationException e)
        {
            Error(file, e.TokenIndex < 0 ? i : e.TokenIndex, $"{RecordTypeNames.ToText(type)} record: {e.Message}");
            return;
        }
        var location = At(file, 0);
        if (TryTtl(ttl, type, rdata, location, out uint effectiveTtl))
        {
            _result.AddRecord(owner, type, recordClass, effectiveTtl, rdata, location);
        }
    }

    private bool TryOwner(FileState file, out DnsName owner)
    {
        var t = file.Tokens;
        owner = DnsName.Root;
        if (t.IsQuoted(0))
        {
            Error(file, 0, $"expected an owner name, got {Show(t, 0)}");
            return false;
        }
        var text = t[0];
        if (text is "@")
        {
            // RFC 1035 §5.1: "@" is the origin, and the owner of the records after it. The remembered text no longer
            // names the last owner: forget it, or an "x" after "x ...", "@ ..." would be read as the origin.
            file.LastOwnerLength = -1;
            owner = file.Origin;
            return true;
        }
        if (file.LastOwner is not null && ReferenceEquals(file.LastOwnerOrigin, file.Origin)
            && text.SequenceEqual(file.LastOwnerText.AsSpan(0, Math.Max(file.LastOwnerLength, 0))) && file.LastOwnerLength == text.Length)
        {
            owner = file.LastOwner;
            return true;
        }
        if (!TryParseOwner(text, file.Origin, out var parsed, out string? error))
        {
            Error(file, 0, $"expected an owner name, got {Show(t, 0)}: {error}");
            return false;
        }
        owner = parsed;
        if (file.LastOwnerText.Length < text.Length)
        {
            file.LastOwnerText = new char[Math.Max(text.Length, file.LastOwnerText.Length * 2)];
        }
        text.CopyTo(file.LastOwnerText);
        file.LastOwnerLength = text.Length;
        file.LastOwnerOrigin = file.Origin;
        return true;
    }

    private bool TryParseOwner(ReadOnlySpan<char> text, DnsName origin, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out DnsName? owner, out string? error)
    {
        if (ServedNames is null)
        {
            return DnsName.TryParse(text, origin, out owner, out error);
        }
        owner = null;
        Span<byte> wire = stackalloc byte[DnsName.ParseBufferLength];
        if (!DnsName.TryParseWire(text, origin, wire, out int length, out error))
        {
            return false;
        }
        wire = wire[..length];
        // The served name only when its case is the file's too: a reload that changes an owner's case serves the new one.
        owner = ServedNames.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(wire, out var node) && node.Name.Wire.SequenceEqual(wire)
            ? node.Name
            : DnsName.FromWire(wire);
        return true;
    }

    /// <summary>
    /// RFC 1035 §5.1: <c>[&lt;TTL&gt;] [&lt;class&gt;] &lt;type&gt;</c> or <c>[&lt;class&gt;] [&lt;TTL&gt;] &lt;type&gt;</c>.
    /// A TTL starts with a digit, which no class or type mnemonic does.
    /// </summary>
    private bool TryTtlClassType(FileState file, ref int i, out uint? ttl, out RecordClass? cls, out int classIndex, out RecordType type, out int typeIndex)
    {
        var t = file.Tokens;
        ttl = null;
        cls = null;
        classIndex = -1;
        type = default;
        typeIndex = -1;
        while (true)
        {
            string expected = (ttl, cls) switch
            {
                (null, null) => "a TTL, class or record type",
                (null, _) => "a TTL or record type",
                (_, null) => "a class or record type",
                _ => "a record type",
            };
            if (i >= t.Count)
            {
                Error(file, i, $"expected {expected}, but the entry ends here");
                return false;
            }
            if (t.IsQuoted(i))
            {
                Error(file, i, $"expected {expected}, got {Show(t, i)}");
                return false;
            }
            var text = t[i];
            if (char.IsAsciiDigit(text[0]))
            {
                if (ttl is not null)
                {
                    Error(file, i, $"expected {expected}, got a second TTL '{t.Text(i)}'");
                    return false;
                }
                if (!TtlText.TryParse(text, out uint value, out string? error))
                {
                    Error(file, i, $"expected a TTL (seconds, or units such as 1h30m), got '{t.Text(i)}': {error}");
                    return false;
                }
                ttl = CheckTtlRange(file, i, value);
                i++;
                continue;
            }
            if (RecordTypeNames.TryParseClass(text, out var c))
            {
                if (cls is not null)
                {
                    Error(file, i, $"expected {expected}, got a second class '{t.Text(i)}'");
                    return false;
                }
                cls = c;
                classIndex = i;
                i++;
                continue;
            }
            if (RecordTypeNames.TryParseType(text, out type))
            {
                typeIndex = i;
                i++;
                ushort number = (ushort)type;
                // RFC 6895 §3.1: 0 is reserved, OPT and 128-255 are meta and query types, never zone data.
                if (number == 0 || type == RecordType.OPT || number is >= 128 and <= 255)
                {
                    Error(file, typeIndex, $"{RecordTypeNames.ToText(type)} is a query or meta type and cannot appear in zone data (RFC 6895 §3.1)");
                    return false;
                }
                return true;
            }
            Error(file, i, $"expected {expected}, got '{t.Text(i)}'");
            return false;
        }
    }

    /// <summary>RFC 2181 §8: TTLs are 31 bits; a value with the top bit set is to be treated as zero.</summary>
    private uint CheckTtlRange(FileState file, int index, uint value)
    {
        if (value <= TtlText.MaxTtl)
        {
            return value;
        }
        Report(At(file, index), Severity.Warning, $"TTL {value} is above {TtlText.MaxTtl}; using 0 as RFC 2181 §8 requires");
        return 0;
    }

    private bool TryClass(FileState file, RecordClass? cls, int classIndex, out RecordClass recordClass)
    {
        recordClass = cls ?? _zoneClass ?? RecordClass.IN;
        if (recordClass is RecordClass.NONE or RecordClass.ANY)
        {
            Error(file, classIndex, $"class {RecordTypeNames.ToText(recordClass)} belongs to queries and updates, not to zone data (RFC 2136 §2.4)");
            return false;
        }
        if (_zoneClass is null)
        {
            _zoneClass = recordClass;
            _zoneClassLocation = At(file, classIndex >= 0 ? classIndex : 0);
            return true;
        }
        if (recordClass != _zoneClass)
        {
            Error(file, classIndex, $"class {RecordTypeNames.ToText(recordClass)} differs from the zone's class {RecordTypeNames.ToText(_zoneClass.Value)}, set at {_zoneClassLocation}");
            return false;
        }
        return true;
    }

    /// <summary>
    /// The TTL of a record that may omit it, decided as BIND does: its own TTL; else $TTL (RFC 2308 §4); else the last
    /// TTL given (RFC 1035 §5.1, with a warning); else, for an SOA, its MINIMUM, which then serves as $TTL (warning);
    /// else an error.
    /// </summary>
    private bool TryTtl(uint? ttl, RecordType type, ReadOnlySpan<byte> rdata, SourceLocation location, out uint effective)
    {
        if (ttl is uint given)
        {
            _lastTtl = given;
            effective = given;
            return true;
        }
        if (_defaultTtl is uint byDirective)
        {
            effective = byDirective;
            return true;
        }
        if (_lastTtl is uint last)
        {
            if (!_warnedLastTtl)
            {
                _warnedLastTtl = true;
                Report(location, Severity.Warning, $"no TTL and no $TTL: using {last}, the last TTL given (RFC 1035 §5.1); a $TTL line makes this explicit");
            }
            effective = last;
            return true;
        }
        if (type == RecordType.SOA && rdata.Length >= 20)
        {
            uint minimum = BinaryPrimitives.ReadUInt32BigEndian(rdata[^4..]);
            Report(location, Severity.Warning, $"no TTL and no $TTL: using the SOA MINIMUM {minimum} as the default TTL, as BIND does; add a $TTL line (RFC 2308 §4)");
            _defaultTtl = minimum;
            effective = minimum;
            return true;
        }
        Report(location, Severity.Error, "no TTL: give the record a TTL or put a $TTL line before it (RFC 2308 §4)");
        effective = 0;
        return false;
    }

    // ---- directives ----------------------------------------------------------------------------------------------

    private void Directive(FileState file)
    {
        var t = file.Tokens;
        var name = t[0];
        if (name.Equals("$ORIGIN", StringComparison.OrdinalIgnoreCase))
        {
            if (ExpectArguments(file, 1, 1, "$ORIGIN <domain-name>") && TryName(file, 1, "a domain name after $ORIGIN", out var origin))
            {
                file.Origin = origin;
            }
        }
        else if (name.Equals("$TTL", StringComparison.OrdinalIgnoreCase))
        {
            if (!ExpectArguments(file, 1, 1, "$TTL <ttl>"))
            {
                return;
            }
            string? error = null;
            if (t.IsQuoted(1) || !TtlText.TryParse(t[1], out uint value, out error))
            {
                Error(file, 1, $"expected a TTL after $TTL (seconds, or units such as 1h30m), got {Show(t, 1)}{(error is null ? "" : ": " + error)}");
                return;
            }
            _defaultTtl = CheckTtlRange(file, 1, value);
        }
        else if (name.Equals("$INCLUDE", StringComparison.OrdinalIgnoreCase))
        {
            Include(file);
        }
        else if (name.Equals("$GENERATE", StringComparison.OrdinalIgnoreCase))
        {
            Generate(file);
        }
        else
        {
            Error(file, 0, $"unknown directive '{t.Text(0)}' (expected $ORIGIN, $TTL, $INCLUDE or $GENERATE)");
        }
    }

    private bool ExpectArguments(FileState file, int min, int max, string syntax)
    {
        var t = file.Tokens;
        if (t.Count - 1 < min)
        {
            Error(file, t.Count, $"expected {syntax}, but the entry ends here");
            return false;
        }
        if (t.Count - 1 > max)
        {
            Error(file, max + 1, $"unexpected {Show(t, max + 1)}: the syntax is {syntax}");
            return false;
        }
        return true;
    }

    private bool TryName(FileState file, int index, string what, out DnsName name)
    {
        var t = file.Tokens;
        name = DnsName.Root;
        if (t.IsQuoted(index))
        {
            Error(file, index, $"expected {what}, got {Show(t, index)}");
            return false;
        }
        if (t[index] is "@")
        {
            name = file.Origin;
            return true;
        }
        if (!DnsName.TryParse(t[index], file.Origin, out var parsed, out string? error))
        {
            Error(file, index, $"expected {what}, got '{t.Text(index)}': {error}");
            return false;
        }
        name = parsed;
        return true;
    }

    /// <summary>
    /// <c>$INCLUDE &lt;file&gt; [&lt;origin&gt;]</c> (RFC 1035 §5.1). The path is relative to the zone file's folder and
    /// must stay inside it, symbolic links followed; the included text starts with the given origin (else the current one), and the parent's
    /// origin and owner are as before once it ends.
    /// </summary>
    private void Include(FileState file)
    {
        if (!ExpectArguments(file, 1, 2, "$INCLUDE <file> [<origin>]"))
        {
            return;
        }
        var t = file.Tokens;
        string relative = Unescape(t[1]);
        if (_includeRoot is null)
        {
            Error(file, 0, "$INCLUDE is not available here: the zone text was not read from a folder");
            return;
        }
        if (relative.Length == 0 || Path.IsPathRooted(relative))
        {
            Error(file, 1, $"$INCLUDE needs a path relative to the zone file's folder, got '{relative}'");
            return;
        }
        int nul = relative.IndexOf('\0', StringComparison.Ordinal);
        if (nul >= 0)
        {
            // No file name holds a NUL octet (POSIX), and .NET refuses the path outright: say so, at the token.
            Error(file, 1, $"$INCLUDE path has a NUL octet (\\000) at character {nul + 1}, which no file name can hold");
            return;
        }
        string full = Path.GetFullPath(Path.Combine(_includeRoot, relative));
        if (!IsInside(_includeRoot, full))
        {
            Error(file, 1, $"$INCLUDE path '{relative}' leads outside the zone file's folder");
            return;
        }
        // A symbolic link in the folder may point anywhere: judge the path by where its links really lead.
        string? realRoot, real;
        try
        {
            realRoot = _realIncludeRoot ??= FollowLinks(_includeRoot);
            real = FollowLinks(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A name component too long for the file system, a folder we may not look into, ...
            Error(file, 1, $"cannot read $INCLUDE file '{relative}': {e.Message}");
            return;
        }
        if (realRoot is null || real is null)
        {
            Error(file, 1, $"cannot read $INCLUDE file '{relative}': its symbolic links go round in a loop");
            return;
        }
        if (!IsInside(realRoot, real))
        {
            Error(file, 1, $"$INCLUDE path '{relative}' leads outside the zone file's folder through a symbolic link (to '{real}')");
            return;
        }
        if (_includeStack.Contains(full))
        {
            var chain = new List<string>(_includeStack) { full };
            Error(file, 1, $"$INCLUDE loop: {string.Join(" -> ", chain.ConvertAll(p => Path.GetRelativePath(_includeRoot, p)))}");
            return;
        }
        if (_includeStack.Count > MaxIncludeDepth)
        {
            Error(file, 1, $"$INCLUDE nested more than {MaxIncludeDepth} deep");
            return;
        }
        var origin = file.Origin;
        if (t.Count == 3 && !TryName(file, 2, "an origin after the $INCLUDE file name", out origin))
        {
            return;
        }
        // Recorded even when it cannot be read, so that creating the file later counts as a change of the zone.
        _result.Sources.Add(full);
        using var source = ZoneText.TryOpen(full, out string? error);
        if (source is null)
        {
            Error(file, 1, $"cannot read $INCLUDE file '{relative}': {error}");
            return;
        }
        _includeStack.Add(full);
        ReadSource(source, Path.Join(_includeDisplayRoot, Path.GetRelativePath(_includeRoot, full)), origin);
        _includeStack.RemoveAt(_includeStack.Count - 1);
    }

    /// <summary>True when <paramref name="path"/> lies strictly inside <paramref name="folder"/> (both full paths).</summary>
    private static bool IsInside(string folder, string path)
    {
        string relative = Path.GetRelativePath(folder, path);
        return relative is not ("." or "..") && !Path.IsPathRooted(relative)
            && !relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    /// <summary>
    /// The full path <paramref name="fullPath"/> with every symbolic link in it followed, as realpath(3) does; null when
    /// the links go round in a loop. Parts that do not exist are kept as written: reading them fails later, with its
    /// own message.
    /// </summary>
    private static string? FollowLinks(string fullPath)
    {
        const int maxLinks = 40; // Linux's own limit before ELOOP.
        string current = Path.GetPathRoot(fullPath) ?? string.Empty;
        var pending = new Stack<string>();
        PushParts(pending, fullPath[current.Length..]);
        int links = 0;
        while (pending.TryPop(out string? part))
        {
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }
            string next = Path.Join(current, part);
            string? target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++links > maxLinks)
            {
                return null;
            }
            // A relative target is resolved from the link's folder, which is where we are.
            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(target) ?? current;
                target = target[current.Length..];
            }
            PushParts(pending, target);
        }
        return current;
    }

    /// <summary>Pushes the parts of a relative path so that the first is popped first; "." and empty parts mean nothing.</summary>
    private static void PushParts(Stack<string> pending, string relativePath)
    {
        string[] parts = relativePath.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
        for (int i = parts.Length - 1; i >= 0; i--)
        {
            if (parts[i] != ".")
            {
                pending.Push(parts[i]);
            }
        }
    }

    /// <summary>A token's text with \X and \DDD escapes decoded (for file names).</summary>
    private static string Unescape(ReadOnlySpan<char> text)
    {
        var sb = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\\' && i + 1 < text.Length)
            {
                if (i + 3 < text.Length && char.IsAsciiDigit(text[i + 1]) && char.IsAsciiDigit(text[i + 2]) && char.IsAsciiDigit(text[i + 3]))
                {
                    c = (char)((text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0'));
                    i += 3;
                }
                else
                {
                    c = text[++i];
                }
            }
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>
    /// BIND's <c>$GENERATE start-stop[/step] lhs [ttl] [class] type rhs</c>: one record per value, with <c>$</c> in
    /// lhs and rhs replaced (see <see cref="GenerateTemplate"/>). A single quoted rhs is read again as RDATA text, as
    /// BIND does, so <c>MX "10 host$"</c> works.
    /// </summary>
    private void Generate(FileState file)
    {
        var t = file.Tokens;
        const string syntax = "$GENERATE <start>-<stop>[/<step>] <owner> [<ttl>] [<class>] <type> <rdata>";
        if (t.Count < 2)
        {
            Error(file, 1, $"expected {syntax}, but the entry ends here");
            return;
        }
        string? rangeError = null;
        if (t.IsQuoted(1) || !GenerateTemplate.TryParseRange(t[1], out long start, out long stop, out long step, out rangeError))
        {
            Error(file, 1, $"expected a range <start>-<stop>[/<step>] after $GENERATE, got {Show(t, 1)}{(rangeError is null ? "" : ": " + rangeError)}");
            return;
        }
        if (t.Count < 3 || t.IsQuoted(2))
        {
            Error(file, 2, t.Count < 3 ? $"expected {syntax}, but the entry ends here" : $"expected an owner template, got {Show(t, 2)}");
            return;
        }
        int i = 3;
        if (!TryTtlClassType(file, ref i, out uint? ttl, out RecordClass? cls, out int classIndex, out RecordType type, out int _)
            || !TryClass(file, cls, classIndex, out RecordClass recordClass))
        {
            return;
        }
        if (i >= t.Count)
        {
            Error(file, i, "expected the RDATA template after the type, but the entry ends here");
            return;
        }
        bool requote = !(t.Count - i == 1 && t.IsQuoted(i));
        var location = At(file, 0);
        var text = new StringBuilder();
        var generated = new PresentationTokens();
        for (long value = start; value <= stop; value += step)
        {
            text.Clear();
            string? error = GenerateTemplate.Substitute(t[2], value, text);
            if (error is not null)
            {
                Error(file, 2, $"$GENERATE owner template: {error}");
                return;
            }
            string ownerText = text.ToString();
            DnsName? owner = ownerText == "@" ? file.Origin : null;
            if (owner is null && !DnsName.TryParse(ownerText, file.Origin, out owner, out error))
            {
                Error(file, 2, $"$GENERATE value {value}: the owner '{ownerText}' is not a domain name: {error}");
                return;
            }
            text.Clear();
            for (int k = i; k < t.Count; k++)
            {
                bool quote = requote && t.IsQuoted(k);
                text.Append(k > i ? " " : "").Append(quote ? "\"" : "");
                error = GenerateTemplate.Substitute(t[k], value, text);
                if (error is not null)
                {
                    Error(file, k, $"$GENERATE RDATA template: {error}");
                    return;
                }
                text.Append(quote ? "\"" : "");
            }
            string rdataText = text.ToString();
            ReadOnlySpan<byte> rdata;
            try
            {
                var lexer = new PresentationLexer(rdataText);
                if (!lexer.Next(generated, out var entry))
                {
                    generated.Reset(rdataText);
                }
                else if (entry.Error is not null)
                {
                    throw new PresentationException(0, entry.Error);
                }
                rdata = RdataPresentation.ParseToScratch(type, generated, 0, file.Origin);
            }
            catch (PresentationException e)
            {
                Error(file, i, $"$GENERATE value {value}: {RecordTypeNames.ToText(type)} record '{rdataText}': {e.Message}");
                return;
            }
            if (!TryTtl(ttl, type, rdata, location, out uint effectiveTtl))
            {
                return;
            }
            _result.AddRecord(owner, type, recordClass, effectiveTtl, rdata, location);
        }
    }
}
