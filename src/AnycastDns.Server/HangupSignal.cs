using System.Runtime.InteropServices;

namespace AnycastDns.Server;

/// <summary>
/// SIGHUP means "read again" here (zones, cookie secrets, TSIG keys), as for NSD and Knot. A process started under
/// <c>nohup</c> (or by a supervisor that ignores SIGHUP for its children) inherits SIGHUP ignored, and the .NET runtime
/// then never delivers it to a <see cref="PosixSignalRegistration"/>: the reload would be lost without a word. So the
/// disposition is set back to the default just before the first registration, which then installs its handler.
/// </summary>
internal static partial class HangupSignal
{
    private const int SigHup = 1;

    private static readonly object Gate = new();
    private static bool _checked;

    /// <summary>A registration for SIGHUP that works even when the process started with SIGHUP ignored.</summary>
    public static PosixSignalRegistration Register(Action<PosixSignalContext> handler)
    {
        lock (Gate)
        {
            if (!_checked)
            {
                _checked = true;
                if (IsIgnored())
                {
                    // SIG_DFL is 0. Between this and the registration below a hangup would end the process, as it
                    // would any process not started under nohup; the registration follows at once.
                    _ = Signal(SigHup, IntPtr.Zero);
                }
            }
            return PosixSignalRegistration.Create(PosixSignal.SIGHUP, handler);
        }
    }

    /// <summary>Whether SIGHUP is ignored, from the SigIgn mask of /proc/self/status (bit 0 is signal 1).</summary>
    private static bool IsIgnored()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("SigIgn:", StringComparison.Ordinal))
                {
                    return ulong.TryParse(line.AsSpan(7).Trim(), System.Globalization.NumberStyles.HexNumber, null, out ulong mask) && (mask & 1UL << (SigHup - 1)) != 0;
                }
            }
        }
        catch (IOException)
        {
            // No /proc: leave the disposition as it is.
        }
        return false;
    }

    [LibraryImport("libc.so.6", EntryPoint = "signal")]
    private static partial IntPtr Signal(int signal, IntPtr handler);
}
