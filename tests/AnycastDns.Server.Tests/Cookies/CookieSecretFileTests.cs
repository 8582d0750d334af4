using AnycastDns.Server.Cookies;

namespace AnycastDns.Server.Tests.Cookies;

/// <summary>The cookie secret file: what it takes, and one line naming file and line for what it does not.</summary>
public sealed class CookieSecretFileTests : IDisposable
{
    private const string Secret1 = "445536bcd2513298075a5d379663c962"; // fingerprint d15777da
    private const string Secret2 = "DD3BDF9344B678B185A6F5CB60FCA715"; // fingerprint 766b21ce
    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-cookie-file-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string text, string name = "secrets.txt")
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Error(string path)
    {
        Assert.False(CookieSecretFile.TryRead(path, out var secrets, out string error));
        Assert.Null(secrets);
        Assert.DoesNotContain('\n', error);
        return error;
    }

    [Fact]
    public void Secrets_one_a_line_with_blank_lines_comments_crlf_and_either_case()
    {
        string path = Write($"# cookie secrets, newest second while rolling over\r\n\r\n  {Secret1}  # since 2025-01\r\n{Secret2}\r\n");
        Assert.True(CookieSecretFile.TryRead(path, out var secrets, out string error), error);
        Assert.Equal(["d15777da", "766b21ce"], secrets!.Fingerprints);
        Assert.False(secrets.IsRandom);
    }

    [Fact]
    public void A_byte_order_mark_is_not_part_of_the_first_secret()
    {
        string path = Path.Combine(_folder, "bom.txt");
        File.WriteAllBytes(path, [0xef, 0xbb, 0xbf, .. System.Text.Encoding.ASCII.GetBytes(Secret1 + "\n")]);
        Assert.True(CookieSecretFile.TryRead(path, out var secrets, out string error), error);
        Assert.Equal("d15777da", secrets!.Fingerprint);
    }

    [Fact]
    public void A_short_or_long_line_names_file_line_and_length()
    {
        string path = Write($"{Secret1}\n\n{Secret2[..30]}\n");
        Assert.Equal($"{path}:3: expected 32 hex digits, got 30", Error(path));
        path = Write($"{Secret1}00\n");
        Assert.Equal($"{path}:1: expected 32 hex digits, got 34", Error(path));
    }

    [Fact]
    public void A_character_that_is_not_hex_names_its_column_but_never_shows_the_secret()
    {
        string path = Write($"# one\n{Secret1[..6]}g{Secret1[7..]}\n");
        string error = Error(path);
        Assert.Equal($"{path}:2: expected 32 hex digits, but column 7 is not one", error);
        Assert.DoesNotContain(Secret1[..6], error, StringComparison.Ordinal);
        Assert.Equal($"{Write("0x" + Secret1[2..])}:1: expected 32 hex digits, but column 2 is not one", Error(Path.Combine(_folder, "secrets.txt")));
    }

    [Fact]
    public void An_empty_file_or_one_of_only_comments_is_an_error()
    {
        Assert.StartsWith($"{Write("")}: no secret in the file", Error(Path.Combine(_folder, "secrets.txt")), StringComparison.Ordinal);
        Assert.StartsWith($"{Write("# nothing yet\n\n")}: no secret in the file", Error(Path.Combine(_folder, "secrets.txt")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_repeated_secret_or_more_than_eight_is_an_error()
    {
        string path = Write($"{Secret1}\n{Secret2}\n{Secret1.ToUpperInvariant()}\n");
        Assert.Equal($"{path}:3: the same secret as line 1", Error(path));
        var nine = Enumerable.Range(1, 9).Select(i => i.ToString("x32", System.Globalization.CultureInfo.InvariantCulture));
        path = Write(string.Join('\n', nine));
        Assert.Equal($"{path}:9: more than 8 secrets (each received cookie is checked against every one)", Error(path));
    }

    [Fact]
    public void A_missing_file_a_folder_or_a_huge_file_is_one_line()
    {
        string missing = Path.Combine(_folder, "missing.txt");
        Assert.StartsWith($"{missing}: cannot read it: ", Error(missing), StringComparison.Ordinal);
        Assert.StartsWith($"{_folder}: cannot read it: ", Error(_folder), StringComparison.Ordinal);
        string huge = Write(string.Concat(Enumerable.Repeat($"# {new string('x', 1000)}\n", 70)));
        Assert.Equal($"{huge}: larger than 65536 octets, not a file of cookie secrets", Error(huge));
    }
}
