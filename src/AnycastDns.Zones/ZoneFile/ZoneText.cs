using System.Text;

namespace AnycastDns.Zones;

/// <summary>
/// A zone file's text, handed to the parser a window of whole lines at a time, one char per octet (ISO-8859-1), so
/// that every octet reaches names and RDATA unchanged. A 45 MiB zone file is never one 90 MB string: the parser holds
/// one window (a MiB) while the zone it builds grows, and each window is decoded into the same chars as the last,
/// not into a string of its own (a load of 45 MiB would otherwise leave 90 MB of strings behind as garbage, which the
/// first load, run without collections, would keep until it ends). An entry that a window cuts in two (parentheses spanning
/// lines) is read again at the start of the next window, which then holds all of it.
/// </summary>
internal sealed class ZoneText : IDisposable
{
    /// <summary>
    /// Octets per window: large enough that a window is a negligible share of the load's time (an entry cut at its end is
    /// read twice), small enough that its octets and chars (3 MiB) are a negligible share of a large load's peak.
    /// </summary>
    private const int WindowOctets = 1 << 20;

    /// <summary>
    /// The longest window: a line or a parenthesized entry this long is not a zone file's (RFC 1035 §5.1 entries are
    /// lines), and reading on would only find out how much memory the machine has.
    /// </summary>
    private const int MostWindowOctets = 256 << 20;

    private readonly FileStream? _stream;
    private readonly string? _whole;
    private byte[] _buffer = [];
    private char[] _chars = [];
    private int _start;
    private int _end;
    private bool _endOfFile;
    private int _window = WindowOctets;
    private int _given;

    private ZoneText(FileStream stream) => _stream = stream;

    private ZoneText(string whole) => _whole = whole;

    /// <summary>Text already in memory, as one window.</summary>
    public static ZoneText FromString(string text) => new(text);

    /// <summary>Opens the file at <paramref name="path"/>, or returns null with the reason.</summary>
    public static ZoneText? TryOpen(string path, out string? error)
    {
        try
        {
            error = null;
            return new ZoneText(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            error = e.Message;
            return null;
        }
    }

    /// <summary>
    /// The next window: whole lines from where the last one's use ended (<see cref="Consume"/>); <paramref name="last"/>
    /// when it reaches the end of the text. False at the end. Throws <see cref="IOException"/> when the file cannot be
    /// read on, and <see cref="InvalidDataException"/> for a line longer than any zone file's.
    /// </summary>
    public bool Next(out ReadOnlyMemory<char> text, out bool last)
    {
        if (_whole is not null)
        {
            text = _whole.AsMemory();
            last = true;
            bool first = _given == 0;
            _given = _whole.Length;
            return first;
        }
        while (true)
        {
            Fill();
            if (_start == _end && _endOfFile)
            {
                text = ReadOnlyMemory<char>.Empty;
                last = true;
                return false;
            }
            int newline = _endOfFile ? -1 : _buffer.AsSpan(_start, _end - _start).LastIndexOf((byte)'\n');
            if (_endOfFile || newline >= 0)
            {
                int cut = _endOfFile ? _end : _start + newline + 1;
                if (_chars.Length < cut - _start)
                {
                    // A char per octet: as many as the buffer holds, which only a line longer than a window widens.
                    _chars = new char[_buffer.Length];
                }
                int chars = Encoding.Latin1.GetChars(_buffer, _start, cut - _start, _chars, 0);
                text = _chars.AsMemory(0, chars);
                _given = cut - _start;
                last = cut == _end && _endOfFile;
                return true;
            }
            Widen(); // one line longer than the window: read on until it ends
        }
    }

    /// <summary>
    /// Says how many chars of the window the parser used: the next window starts there. Fewer than were given means an
    /// entry ran past the window's end; none at all, that the window held no whole entry, so the next one is wider.
    /// </summary>
    public void Consume(int chars)
    {
        if (_whole is not null)
        {
            return;
        }
        _start += Math.Clamp(chars, 0, _given);
        if (chars == 0)
        {
            Widen();
        }
    }

    private void Widen()
    {
        if (_window >= MostWindowOctets)
        {
            throw new InvalidDataException($"a line or parenthesized entry longer than {MostWindowOctets >> 20} MiB");
        }
        _window *= 2;
    }

    /// <summary>Reads until the buffer holds a window's octets from <see cref="_start"/> on, or the file ends.</summary>
    private void Fill()
    {
        if (_endOfFile || _end - _start >= _window)
        {
            return;
        }
        if (_buffer.Length - _start < _window)
        {
            // A small file gets a buffer of its own size: a provider's PoP reads a hundred thousand of them side by side.
            long remaining = _stream!.CanSeek ? Math.Max(0, _stream.Length - _stream.Position) : _window;
            int size = (int)Math.Min(_window, _end - _start + remaining + 1);
            var next = size > _buffer.Length ? new byte[size] : _buffer;
            _buffer.AsSpan(_start, _end - _start).CopyTo(next);
            (_buffer, _end, _start) = (next, _end - _start, 0);
        }
        while (_end - _start < _window && _end < _buffer.Length)
        {
            int read = _stream!.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0)
            {
                _endOfFile = true;
                return;
            }
            _end += read;
        }
    }

    public void Dispose() => _stream?.Dispose();
}
