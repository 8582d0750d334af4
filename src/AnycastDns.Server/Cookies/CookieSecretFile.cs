using System.Globalization;
using System.Text;
using AnycastDns.Authority.Cookies;

namespace AnycastDns.Server.Cookies;

/// <summary>
/// The file of cookie secrets (<c>Cookies:SecretFile</c>): one secret a line as 32 hex digits (16 octets, RFC 9018 §4.4),
/// the first making cookies and every one verifying them; blank lines and <c>#</c> comments are ignored. The same file
/// goes to every PoP. A problem is one line naming the file and the line, and never shows a secret.
/// </summary>
internal static class CookieSecretFile
{
    /// <summary>A file of 8 secrets with comments is well under this; anything larger is the wrong file (or /dev/urandom).</summary>
    private const int MaxOctets = 64 * 1024;

    private const int HexDigits = CookieSecrets.SecretLength * 2;

    /// <summary>Reads and checks the file; on a problem, false and the one line that says what and where.</summary>
    public static bool TryRead(string path, out CookieSecrets? secrets, out string error)
    {
        secrets = null;
        if (!TryReadText(path, out string text, out error))
        {
            return false;
        }
        var found = new List<byte[]>();
        var lineOf = new List<int>();
        string[] lines = text.Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            string where = $"{path}:{(n + 1).ToString(CultureInfo.InvariantCulture)}";
            string line = lines[n].Split('#', 2)[0].Trim();
            if (line.Length == 0)
            {
                continue;
            }
            if (!TryParseSecret(line, out byte[] secret, out string problem))
            {
                error = $"{where}: {problem}";
                return false;
            }
            int same = found.FindIndex(s => s.AsSpan().SequenceEqual(secret));
            if (same >= 0)
            {
                error = $"{where}: the same secret as line {lineOf[same].ToString(CultureInfo.InvariantCulture)}";
                return false;
            }
            if (found.Count == CookieSecrets.MaxCount)
            {
                error = $"{where}: more than {CookieSecrets.MaxCount} secrets (each received cookie is checked against every one)";
                return false;
            }
            found.Add(secret);
            lineOf.Add(n + 1);
        }
        if (found.Count == 0)
        {
            error = $"{path}: no secret in the file: expected lines of {HexDigits} hex digits (make one with: head -c16 /dev/urandom | xxd -p)";
            return false;
        }
        secrets = new CookieSecrets(found);
        error = string.Empty;
        return true;
    }

    private static bool TryParseSecret(string line, out byte[] secret, out string problem)
    {
        secret = [];
        for (int i = 0; i < line.Length; i++)
        {
            if (!char.IsAsciiHexDigit(line[i]))
            {
                // The column, not the character: the line is probably a secret with a typo.
                problem = $"expected {HexDigits} hex digits, but column {(i + 1).ToString(CultureInfo.InvariantCulture)} is not one";
                return false;
            }
        }
        if (line.Length != HexDigits)
        {
            problem = $"expected {HexDigits} hex digits, got {line.Length.ToString(CultureInfo.InvariantCulture)}";
            return false;
        }
        secret = Convert.FromHexString(line);
        problem = string.Empty;
        return true;
    }

    private static bool TryReadText(string path, out string text, out string error)
    {
        text = string.Empty;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var buffer = new byte[MaxOctets + 1];
            int length = 0;
            int read;
            while (length < buffer.Length && (read = stream.Read(buffer, length, buffer.Length - length)) > 0)
            {
                length += read;
            }
            if (length > MaxOctets)
            {
                error = $"{path}: larger than {MaxOctets} octets, not a file of cookie secrets";
                return false;
            }
            // A byte order mark (some editors write one) is not part of the first line.
            text = Encoding.UTF8.GetString(buffer, 0, length).TrimStart('\uFEFF');
            error = string.Empty;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"{path}: cannot read it: {e.Message}";
            return false;
        }
    }
}
