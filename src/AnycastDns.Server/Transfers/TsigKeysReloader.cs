using System.Security.Cryptography;
using System.Text;
using AnycastDns.Protocol.Tsig;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server.Transfers;

/// <summary>How a reload of the TSIG keys went.</summary>
internal enum TsigKeysChange
{
    /// <summary>No <c>Transfers:KeysFile</c>: there are no keys to reload.</summary>
    NoFile,
    /// <summary>The file is as it was read last.</summary>
    Unchanged,
    /// <summary>The file's keys are now in force.</summary>
    Changed,
    /// <summary>The file has a problem (<see cref="TsigKeysReloader.Error"/>); the previous keys stay in force.</summary>
    Failed,
}

/// <summary>
/// The TSIG keys in force (<see cref="Current"/>, read by the zone transfers and the NOTIFY sender at each use), kept in
/// step with <c>Transfers:KeysFile</c> as the cookie secrets are with theirs: a change in the file's folder (after a
/// quiet moment), SIGHUP or POST /reload re-reads it and swaps the whole keyring at once. A file with a problem keeps
/// the previous keys, with one log line naming the file and line; so does a file that lacks a key named by
/// <c>Transfers:Allow</c> or <c>Transfers:Notify</c>: those entries are fixed at start, and dropping their key would
/// silently turn a secondary away, so removing it takes a restart with the entry gone. No secret is ever logged.
/// </summary>
internal sealed partial class TsigKeysReloader : IDisposable
{
    private readonly ServerOptions _options;
    private readonly string? _path;
    private readonly ILogger<TsigKeysReloader> _logger;
    private readonly Lock _one = new();
    private FileReloadTriggers? _triggers;
    private volatile TsigKeyring _current = TsigKeyring.Empty;
    private volatile string? _error;
    private byte[] _digest = [];

    public TsigKeysReloader(ServerOptions options, ILogger<TsigKeysReloader> logger)
    {
        _options = options;
        _path = options.Transfers.KeysFile;
        _logger = logger;
    }

    /// <summary>The keys in force: one reference, so a request is checked against one version of the file, never a mix.</summary>
    public TsigKeyring Current => _current;

    /// <summary>The problem of the latest read of the file, one line; null when it was read well.</summary>
    public string? Error => _error;

    /// <summary>Reads the file; throws <see cref="ConfigurationException"/> (naming <c>Transfers:KeysFile</c>) with its problem.</summary>
    public void LoadInitial()
    {
        if (_path is null)
        {
            return;
        }
        if (!TryRead(out var keys, out var digest, out string error))
        {
            throw new ConfigurationException(error);
        }
        (_current, _digest) = (keys!, digest);
        LogLoaded(_logger, _path, Names(keys!));
    }

    /// <summary>Starts watching the file (with <c>Reload:Watch</c>) and listening for SIGHUP.</summary>
    public void Start()
    {
        if (_path is not null)
        {
            _triggers = new FileReloadTriggers(_path, _options, "the TSIG keys file changed", reason => Reload(reason));
        }
    }

    /// <summary>Re-reads the file and swaps its keys in; one reload at a time. Never throws: a problem is logged and kept in <see cref="Error"/>.</summary>
    public TsigKeysChange Reload(string reason)
    {
        if (_path is null)
        {
            return TsigKeysChange.NoFile;
        }
        lock (_one)
        {
            if (!TryRead(out var keys, out var digest, out string error))
            {
                _error = error;
                LogNotReloaded(_logger, reason, error, Names(_current));
                return TsigKeysChange.Failed;
            }
            _error = null;
            if (digest.AsSpan().SequenceEqual(_digest))
            {
                LogUnchanged(_logger, _path, reason);
                return TsigKeysChange.Unchanged;
            }
            (_current, _digest) = (keys!, digest);
            LogReloaded(_logger, _path, reason, Names(keys!));
            return TsigKeysChange.Changed;
        }
    }

    public void Dispose() => _triggers?.Dispose();

    /// <summary>Reads and checks the file: its syntax, then that every key an Allow or Notify entry names is in it.</summary>
    private bool TryRead(out TsigKeyring? keys, out byte[] digest, out string error)
    {
        keys = null;
        digest = [];
        try
        {
            string text = TsigKeyFile.ReadText(_path!);
            keys = TsigKeyFile.Parse(text, _path!);
            // What tells a changed file from a touched one; kept, never shown.
            digest = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        }
        catch (ConfigurationException e)
        {
            error = $"Transfers:KeysFile: {e.Message}";
            return false;
        }
        var transfers = _options.Transfers;
        foreach (var name in transfers.Allow.Keys)
        {
            if (keys.Find(name) is null)
            {
                error = $"Transfers:Allow: {TransferAllowList.KeyPrefix}{name} is not a key of {_path}";
                return false;
            }
        }
        foreach (var target in transfers.Notify)
        {
            if (target.KeyName is { } name && keys.Find(name) is null)
            {
                error = $"Transfers:Notify: {TransferAllowList.KeyPrefix}{name} (for {target.EndPoint}) is not a key of {_path}";
                return false;
            }
        }
        error = string.Empty;
        return true;
    }

    /// <summary>The keys by name and algorithm, never a secret.</summary>
    private static string Names(TsigKeyring keys) => keys.Count == 0 ? "none" : string.Join(", ", keys.Keys.Select(k => k.ToString()));

    [LoggerMessage(Level = LogLevel.Information, Message = "TSIG keys from {Path}: {Keys}")]
    private static partial void LogLoaded(ILogger logger, string path, string keys);

    [LoggerMessage(Level = LogLevel.Error, Message = "TSIG keys not reloaded ({Reason}): {Error}; still using {Keys}")]
    private static partial void LogNotReloaded(ILogger logger, string reason, string error, string keys);

    [LoggerMessage(Level = LogLevel.Debug, Message = "TSIG keys unchanged in {Path} ({Reason})")]
    private static partial void LogUnchanged(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "TSIG keys reloaded from {Path} ({Reason}): {Keys}")]
    private static partial void LogReloaded(ILogger logger, string path, string reason, string keys);
}
