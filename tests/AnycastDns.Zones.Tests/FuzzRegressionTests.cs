using AnycastDns.Zones;

namespace AnycastDns.Zones.Tests;

/// <summary>
/// Inputs that broke a rule of the zonefile fuzz target (fuzz/AnycastDns.Fuzz, scripts/fuzz.sh), as they were found,
/// loaded as the file they were. The same inputs are seeds in fuzz/corpus/regressions/zonefile/.
/// </summary>
public sealed class FuzzRegressionTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-fuzz-regression-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>
    /// An $INCLUDE path with NUL octets in it: Path.GetFullPath threw ArgumentException ("Null character in path") out
    /// of the loader, so anycastdns check printed a stack trace and a reload failed without a line naming the place.
    /// </summary>
    [Fact]
    public void An_include_path_with_a_nul_octet_is_an_error_at_its_token()
    {
        byte[] file = Convert.FromHexString(
            "244F524947496D2066757A7A2E746553244F524947494E2066757A7A2E7465735A2E0A4501534F41206E6431206820312032"
            + "2033203420350A40204E53206E73310A24494E434C55444520000000402E746573742E7A6F87650A24494E434C556345206D"
            + "697373696E672E696E63207375622E66757A7A2E746573742E0A24494E434C55444520");
        string path = Path.Combine(_folder, "fuzz.test.zone");
        File.WriteAllBytes(path, file);

        var load = ZoneLoader.LoadFile(path);

        Assert.False(load.Succeeded);
        var nul = Assert.Single(load.Diagnostics, d => d.Message.Contains("NUL", StringComparison.Ordinal));
        Assert.Equal(new SourceLocation(path, 4, 10), nul.Location);
        Assert.Equal(Severity.Error, nul.Severity);
        Assert.Equal("$INCLUDE path has a NUL octet (\\000) at character 1, which no file name can hold", nul.Message);
    }
}
