using AnycastDns.Authority.Cookies;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server.Cookies;

/// <summary>How a reload of the cookie secrets went.</summary>
internal enum CookieSecretsChange
{
    /// <summary>No <c>Cookies:SecretFile</c>: the random secret made at start stays (a new one would void every cookie out).</summary>
    NoFile,

    /// <summary>The file holds the secrets already in force.</summary>
    Unchanged,

    /// <summary>The file's secrets are now in force.</summary>
    Changed,

    /// <summary>The file has a problem (<see cref="CookieSecretReloader.Error"/>); the previous secrets stay in force.</summary>
    Failed,
}

/// <summary>
/// Keeps <see cref="Holder"/> in step with the cookie secret file, like <see cref="ZoneReloader"/> with the zones: a
/// change in the file's folder (after a quiet moment), SIGHUP or <see cref="Reload"/> re-reads it and swaps the whole
/// set at once. A file with a problem leaves the previous secrets in force, logs the problem once per reload and shows
/// it on /state. Without a file the server makes a random secret at start, which no other PoP holds.
/// </summary>
internal sealed partial class CookieSecretReloader : IDisposable
{
    /// <summary>The source shown on /state when there is no file.</summary>
    public const string RandomSource = "random";

    private readonly string? _path;
    private readonly ServerOptions _options;
    private readonly ILogger<CookieSecretReloader> _logger;
    private readonly Lock _one = new();
    private FileReloadTriggers? _triggers;
    private volatile string? _error;
    private long _loadedAt;

    public CookieSecretReloader(ServerOptions options, ILogger<CookieSecretReloader> logger)
    {
        _options = options;
        _path = options.CookieSecretFile;
        _logger = logger;
        // A secret from the first moment, so that the holder is never empty; LoadInitial replaces it with the file's.
        Holder = new CookieSecretsHolder(CookieSecrets.CreateRandom());
        _loadedAt = DateTimeOffset.UtcNow.UtcTicks;
    }

    /// <summary>The secrets in force, for the responder.</summary>
    public CookieSecretsHolder Holder { get; }

    /// <summary>Where the secrets come from: the file's path, or <see cref="RandomSource"/>.</summary>
    public string Source => _path ?? RandomSource;

    /// <summary>The problem of the latest read of the file, one line; null when it was read well.</summary>
    public string? Error => _error;

    /// <summary>When the secrets in force were read (or made).</summary>
    public DateTimeOffset LoadedAt => new(Interlocked.Read(ref _loadedAt), TimeSpan.Zero);

    /// <summary>Reads the file, or says once that the secret is random; throws <see cref="ConfigurationException"/> with the file's problem.</summary>
    public void LoadInitial()
    {
        if (_path is null)
        {
            LogRandomSecret(_logger, Holder.Current.Fingerprint);
            return;
        }
        if (!CookieSecretFile.TryRead(_path, out var secrets, out string error))
        {
            throw new ConfigurationException($"Cookies:SecretFile: {error}");
        }
        Publish(secrets!);
        LogLoaded(_logger, _path, secrets!.Count, secrets.Fingerprint);
    }

    /// <summary>Starts watching the file (with <c>Reload:Watch</c>) and listening for SIGHUP.</summary>
    public void Start()
    {
        if (_path is null)
        {
            return;
        }
        _triggers = new FileReloadTriggers(_path, _options, "the cookie secret file changed", reason => Reload(reason));
    }

    /// <summary>Re-reads the file and swaps its secrets in; one reload at a time. Never throws: a problem is logged and kept in <see cref="Error"/>.</summary>
    public CookieSecretsChange Reload(string reason)
    {
        if (_path is null)
        {
            return CookieSecretsChange.NoFile;
        }
        lock (_one)
        {
            var before = Holder.Current;
            if (!CookieSecretFile.TryRead(_path, out var secrets, out string error))
            {
                _error = error;
                LogNotReloaded(_logger, reason, error, before.Fingerprint);
                return CookieSecretsChange.Failed;
            }
            _error = null;
            if (secrets!.Fingerprints.SequenceEqual(before.Fingerprints, StringComparer.Ordinal))
            {
                // Swapped in all the same: the fingerprints only decide what to say, never which secrets are in force.
                Holder.Current = secrets;
                LogUnchanged(_logger, _path, reason);
                return CookieSecretsChange.Unchanged;
            }
            Publish(secrets);
            LogReloaded(_logger, _path, reason, secrets.Count, before.Fingerprint, secrets.Fingerprint);
            return CookieSecretsChange.Changed;
        }
    }

    public void Dispose()
    {
        _triggers?.Dispose();
    }

    private void Publish(CookieSecrets secrets)
    {
        // One reference write: every query after this uses the new set, none a mix.
        Holder.Current = secrets;
        Interlocked.Exchange(ref _loadedAt, DateTimeOffset.UtcNow.UtcTicks);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "no Cookies:SecretFile: made a random cookie secret ({Fingerprint}); server cookies from this server will not verify at other PoPs, nor after a restart")]
    private static partial void LogRandomSecret(ILogger logger, string fingerprint);

    [LoggerMessage(Level = LogLevel.Information, Message = "cookie secrets from {Path}: {Count} (making cookies: {Fingerprint})")]
    private static partial void LogLoaded(ILogger logger, string path, int count, string fingerprint);

    [LoggerMessage(Level = LogLevel.Error, Message = "cookie secrets not reloaded ({Reason}): {Error}; still making cookies with {Fingerprint}")]
    private static partial void LogNotReloaded(ILogger logger, string reason, string error, string fingerprint);

    [LoggerMessage(Level = LogLevel.Debug, Message = "cookie secrets unchanged in {Path} ({Reason})")]
    private static partial void LogUnchanged(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "cookie secrets reloaded from {Path} ({Reason}): {Count} (making cookies: {Before} -> {Fingerprint})")]
    private static partial void LogReloaded(ILogger logger, string path, string reason, int count, string before, string fingerprint);
}
