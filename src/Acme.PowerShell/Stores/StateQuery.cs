using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Security;
using Acme.PowerShell.Files;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Stores;

/// <summary>
/// What the cmdlets that read the state folder share: opening it from -StatePath and -KeyPassphrase
/// (or their environment variables), choosing items by name with wildcards, and reading each
/// account once however many orders and certificates name it.
/// </summary>
internal sealed class StateQuery
{
    private readonly Dictionary<string, AcmeAccount?> _accounts = new(StringComparer.Ordinal);
    private readonly Action<string>? _warn;

    public StateQuery(AcmeStateStore store, Action<string>? warn = null)
    {
        Store = store;
        _warn = warn;
    }

    public AcmeStateStore Store { get; }

    /// <summary>
    /// The store -StatePath names (resolved against the current location; a file-system path only),
    /// else ACME_STATE_PATH, else the per-user folder.
    /// </summary>
    public static AcmeStateStore Open(string? statePath, SecureString? passphrase, PathIntrinsics paths)
    {
        string? path;
        try
        {
            path = null;
            if (statePath is not null && PostgresUrl.IsAddress(statePath))
            {
                path = statePath;
            }
            else if (statePath is not null)
            {
                path = paths.GetUnresolvedProviderPathFromPSPath(statePath, out ProviderInfo provider, out _);
                if (provider.ImplementingType != typeof(Microsoft.PowerShell.Commands.FileSystemProvider))
                {
                    throw new NotSupportedException($"'{statePath}' is a {provider.Name} path, not a folder in the file system.");
                }
            }
        }
        catch (Exception e) when (e is SessionStateException or ArgumentException or NotSupportedException)
        {
            // A drive that does not exist (Q:\state on a machine without Q:), a provider that is not the file system.
            throw new AcmeArgumentException(AcmeErrorId.InvalidStatePath, $"The state folder '{PostgresUrl.Mask(statePath)}' cannot be used: {e.Message}", e);
        }

        char[]? chars = passphrase is { Length: > 0 } ? Secrets.ToChars(passphrase) : null;
        try
        {
            return AcmeStateStore.Open(path, chars);
        }
        finally
        {
            if (chars is not null)
            {
                Array.Clear(chars, 0, chars.Length);
            }
        }
    }

    /// <summary>
    /// The items whose names match any of the patterns (wildcards, ignoring case), each once. A
    /// pattern without wildcards that matches nothing is reported to <paramref name="notFound"/>, as
    /// Get-Item reports a path that does not exist.
    /// </summary>
    public static IEnumerable<(AcmeServer Server, string Name)> Select(IReadOnlyList<(AcmeServer Server, string Name)> items, string[] patterns,
        Action<string> notFound)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string pattern in patterns)
        {
            var wildcard = new WildcardPattern(pattern, WildcardOptions.IgnoreCase);
            bool matched = false;
            foreach ((AcmeServer server, string name) in items)
            {
                if (wildcard.IsMatch(name))
                {
                    matched = true;
                    if (seen.Add(server.DirectoryUrl.AbsoluteUri + "|" + name))
                    {
                        yield return (server, name);
                    }
                }
            }

            if (!matched && !WildcardPattern.ContainsWildcardCharacters(pattern))
            {
                notFound(pattern);
            }
        }
    }

    /// <summary>
    /// The ByName read of Get-AcmeAccount, Get-AcmeOrder and Get-AcmeCertificate: each item the patterns
    /// select is read and written, or its error written (the others go on); a pattern without wildcards
    /// that selects nothing, or an item with nothing of this kind saved, gets <paramref name="notFound"/>.
    /// </summary>
    public void ReadEach<T>(IReadOnlyList<(AcmeServer Server, string Name)> items, string[] patterns, Func<AcmeServer, string, T?> read,
        Action<T> write, Action<Exception, string> error, Action<string> notFound) where T : class
    {
        foreach ((AcmeServer server, string name) in Select(items, patterns, notFound))
        {
            try
            {
                if (read(server, name) is { } item)
                {
                    write(item);
                }
                else if (Array.Exists(patterns, p => string.Equals(p, name, StringComparison.OrdinalIgnoreCase)))
                {
                    notFound(name);
                }
            }
            catch (Exception e) when (e is AcmeException || e is IOException || e is UnauthorizedAccessException)
            {
                error(e, name);
            }
        }
    }

    /// <summary>-Server of the ByName sets: the saved server it names, or every server when it is not given.</summary>
    public static AcmeServer? ServerFilter(string? server) => server is null ? null : new AcmeServer(AcmeServer.ResolveDirectoryUrl(server));

    /// <summary>The accounts of one server by name, each read once; for an order an unreadable account is an error.</summary>
    public Func<string, AcmeAccount?> AccountsOf(AcmeServer server) => name => ReadAccount(server, name, tolerant: false);

    /// <summary>
    /// The same for certificates: a certificate is still worth having when its account cannot be read
    /// (its key is encrypted and no passphrase was given), so that becomes a warning and no account.
    /// </summary>
    public Func<string, AcmeAccount?> AccountsOfCertificates(AcmeServer server) => name => ReadAccount(server, name, tolerant: true);

    private AcmeAccount? ReadAccount(AcmeServer server, string name, bool tolerant)
    {
        string key = server.DirectoryUrl.AbsoluteUri + "|" + name;
        if (_accounts.TryGetValue(key, out AcmeAccount? known))
        {
            return known;
        }

        try
        {
            known = Store.ReadAccount(server, name);
        }
        catch (AcmeException e) when (tolerant)
        {
            _warn?.Invoke($"The account '{name}' on {server.Name} could not be read ({e.Message}); its certificates come without it, so renewing or revoking them needs -Account.");
            known = null;
        }

        _accounts[key] = known;
        return known;
    }
}
