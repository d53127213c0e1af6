using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Crypto;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.FileSystem;
using Acme.Protocol.Json;
using Acme.Protocol.Model;

namespace Acme.Protocol.State;

/// <summary>
/// The state folder: accounts, orders and certificates saved as they change, so a later session, another
/// process or another host carries on where this one stopped. The store owns the layout, the JSON
/// (the module's own JsonCodec), the locks and the key files; nothing else touches these files.
/// </summary>
/// <remarks>
/// <code>
/// &lt;root&gt;/&lt;server&gt;/server.json                 the directory URL and how to trust it
/// &lt;root&gt;/&lt;server&gt;/trusted-root.pem            a private CA's root, when one was given
/// &lt;root&gt;/&lt;server&gt;/accounts/&lt;name&gt;/account.json
/// &lt;root&gt;/&lt;server&gt;/accounts/&lt;name&gt;/account-key.pem   written before newAccount
/// &lt;root&gt;/&lt;server&gt;/certificates/&lt;name&gt;/order.json     the latest order for the certificate
/// &lt;root&gt;/&lt;server&gt;/certificates/&lt;name&gt;/order-key.pem  the certificate key, written before finalize
/// &lt;root&gt;/&lt;server&gt;/certificates/&lt;name&gt;/current        the thumbprint of the version in use
/// &lt;root&gt;/&lt;server&gt;/certificates/&lt;name&gt;/dns-provider.json  the DNS provider it was issued through (owner-only; secrets sealed or left out)
/// &lt;root&gt;/&lt;server&gt;/certificates/&lt;name&gt;/&lt;thumbprint&gt;/  fullchain.pem, alternate-N.pem, key.pem, certificate.json
/// </code>
/// One folder per server keeps staging and production apart. A certificate version appears whole
/// (written to a temporary folder, then renamed), and "current" moves to it only afterwards, so a
/// renewal that fails never touches the version in use, and no version exists without its key.
/// Key files are owner-only from their first byte (AtomicFile), and encrypted PKCS#8 when a
/// passphrase is set.
/// </remarks>
public sealed partial class AcmeStateStore : IStateLocation
{
    public const string PathVariable = "ACME_STATE_PATH";
    public const string PassphraseVariable = "ACME_KEY_PASSPHRASE";
    public const string LockTimeoutVariable = "ACME_STATE_LOCK_TIMEOUT";

    /// <summary>The account name New-AcmeAccount and New-AcmeCertificate use when none is given.</summary>
    public const string DefaultAccountName = "default";

    private const string AccountsFolder = "accounts";
    private const string CertificatesFolder = "certificates";

    private static readonly Regex s_name = new("^[A-Za-z0-9_@+][A-Za-z0-9._@+-]{0,99}$", RegexOptions.CultureInvariant);

    private static readonly HashSet<string> s_reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "current",
    };

    private readonly char[]? _passphrase;

    /// <summary>
    /// The keys this store opened or wrote with its passphrase, by their encrypted PEM: a worker that reads
    /// the same account for every certificate pays PBKDF2's 600 000 rounds once, not at each read (the
    /// derivation is what made a fleet host CPU-bound, bench/NOTES.md). Only ciphertext is the key of the
    /// map; the keys are in this process's memory anyway. Cleared when it grows past <see cref="OpenedKeysLimit"/>.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, AcmeKey> _openedKeys = new(StringComparer.Ordinal);

    private const int OpenedKeysLimit = 512;
    private readonly IStateFiles _files;

    /// <param name="root">The state folder (created when first written to).</param>
    /// <param name="passphrase">Encrypts the key files written and decrypts those read; the store keeps its own copy.</param>
    public AcmeStateStore(string root, char[]? passphrase = null)
    {
        if (string.IsNullOrWhiteSpace(root))
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidStatePath, "The state folder path is empty.");
        }

        if (PostgresUrl.IsAddress(root))
        {
            _files = PostgresStateLoader.Open(root);
            Root = _files.Root;
        }
        else
        {
            Root = Path.GetFullPath(root);
            if (File.Exists(Root))
            {
                throw new AcmeArgumentException(AcmeErrorId.InvalidStatePath, $"The state folder {Root} is a file; give a folder (it is created when missing).");
            }

            _files = new FolderStateFiles(Root);
        }

        _passphrase = passphrase is { Length: > 0 } ? (char[])passphrase.Clone() : null;
        LockTimeout = ReadLockTimeout();
    }

    public string Root { get; }

    /// <summary>Where the items are kept: the state folder, or a database (<see cref="IStateFiles"/>).</summary>
    internal IStateFiles Files => _files;

    /// <summary>The certificate leases the backend keeps (the database's), or null (a folder).</summary>
    internal Acme.Protocol.ChallengeStores.IChallengeStore? Leases => _files.Leases;

    /// <summary>True when the state is in a database rather than a folder.</summary>
    public bool IsDatabase => _files is not FolderStateFiles;

    /// <summary>True when key files are written encrypted (a passphrase was given).</summary>
    public bool EncryptsKeys => _passphrase is not null;

    /// <summary>How long a change waits for another process holding the same item (ACME_STATE_LOCK_TIMEOUT seconds, 300 by default).</summary>
    public TimeSpan LockTimeout { get; set; }

    /// <summary>
    /// The state folder to use: the given path, else $env:ACME_STATE_PATH, else the per-user data folder
    /// (%LOCALAPPDATA%\Acme on Windows; $XDG_DATA_HOME/Acme or ~/.local/share/Acme elsewhere); and the key
    /// passphrase: the given one, else $env:ACME_KEY_PASSPHRASE.
    /// </summary>
    public static AcmeStateStore Open(string? path = null, char[]? passphrase = null)
    {
        string root = !string.IsNullOrWhiteSpace(path) ? path!
            : Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } env ? env
            : DefaultRoot();
        char[]? fromEnvironment = passphrase is null && Environment.GetEnvironmentVariable(PassphraseVariable) is { Length: > 0 } secret
            ? secret.ToCharArray()
            : null;
        try
        {
            return new AcmeStateStore(root, passphrase ?? fromEnvironment);
        }
        finally
        {
            if (fromEnvironment is not null)
            {
                Array.Clear(fromEnvironment, 0, fromEnvironment.Length);
            }
        }
    }

    /// <summary>The per-user data folder: %LOCALAPPDATA%\Acme on Windows, $XDG_DATA_HOME/Acme or ~/.local/share/Acme elsewhere.</summary>
    public static string DefaultRoot()
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "Acme");
        }

        string? xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, "Acme");
        }

        string home = Environment.GetEnvironmentVariable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".local", "share", "Acme");
    }

    /// <summary>
    /// Names of accounts and certificates are folder names: letters, digits and . _ @ + -, not starting
    /// with a dot or a dash, at most 100 characters, and none of the names Windows reserves.
    /// </summary>
    public static bool IsValidName(string? name) =>
        name is not null && s_name.IsMatch(name) && !s_reserved.Contains(name) && !s_reserved.Contains(name.Split('.')[0]);

    internal static string CheckName(string? name, string what)
    {
        if (!IsValidName(name))
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidName,
                $"'{name}' cannot name {what}: use letters, digits and . _ @ + - (not first: . or -), at most 100 characters.");
        }

        return name!;
    }

    /// <summary>
    /// The name a certificate gets from its first identifier: the DNS name itself, a wildcard's "*"
    /// as "_" ("_.example.com", which no host name can be), an IPv6 address's colons as dashes; and a
    /// leading "_" where that would not be a valid name ("::1" is "_--1", "nul.example" is "_nul.example").
    /// </summary>
    public static string NameFor(IReadOnlyList<AcmeIdentifier> identifiers)
    {
        if (identifiers is null || identifiers.Count == 0)
        {
            throw new AcmeArgumentException(AcmeErrorId.NoIdentifier, "An order needs at least one identifier.");
        }

        string value = identifiers[0].Value.Replace('*', '_').Replace(':', '-');
        value = IsValidName(value) ? value : "_" + value;
        return value.Length > 100 ? value.Substring(0, 100) : value;
    }

    /// <summary>
    /// The server's folder: a shortcut's name (LetsEncrypt, LetsEncryptStaging, ...), otherwise the
    /// directory URL's host, port and path with every other character as "-".
    /// </summary>
    internal static string ServerFolderName(Uri directoryUrl)
    {
        string? shortcut = AcmeServer.Shortcuts.FirstOrDefault(s => s.Value == directoryUrl).Key;
        if (shortcut is not null)
        {
            return shortcut;
        }

        var sb = new StringBuilder(directoryUrl.Host.ToLowerInvariant());
        if (!directoryUrl.IsDefaultPort)
        {
            sb.Append('-').Append(directoryUrl.Port.ToString(CultureInfo.InvariantCulture));
        }

        sb.Append('-').Append(directoryUrl.PathAndQuery.Trim('/'));
        string id = Regex.Replace(sb.ToString(), "[^A-Za-z0-9.]+", "-").Trim('-', '.');
        return id.Length > 100 ? id.Substring(0, 100) : id;
    }

    internal string ServerFolder(AcmeServer server) => Path.Combine(_files.PathRoot, ServerFolderName(server.DirectoryUrl));

    internal string AccountFolder(AcmeServer server, string name) => Path.Combine(ServerFolder(server), AccountsFolder, name);

    internal string CertificateFolder(AcmeServer server, string name) => Path.Combine(ServerFolder(server), CertificatesFolder, name);

    /// <summary>Waits for, then holds, the lock of one account (AcmeStateLocked after <see cref="LockTimeout"/>).</summary>
    internal Task<StateLock> LockAccountAsync(AcmeServer server, string name, IAcmeLog log, CancellationToken cancellationToken) =>
        StateLock.AcquireAsync(_files, AccountFolder(server, name), LockTimeout, log, cancellationToken, sweep: true);

    /// <summary>Waits for, then holds, the lock of one certificate: its order, its key and its versions.</summary>
    /// <remarks>With <paramref name="allowReadOnly"/>, a folder that cannot be written gives a lock holding nothing (<see cref="StateLock.IsReadOnly"/>).</remarks>
    internal Task<StateLock> LockCertificateAsync(AcmeServer server, string name, IAcmeLog log, CancellationToken cancellationToken, bool allowReadOnly = false) =>
        StateLock.AcquireAsync(_files, CertificateFolder(server, name), LockTimeout, log, cancellationToken, sweep: true, allowReadOnly: allowReadOnly);

    internal Task<StateLock> LockServerAsync(AcmeServer server, IAcmeLog log, CancellationToken cancellationToken) =>
        StateLock.AcquireAsync(_files, ServerFolder(server), LockTimeout, log, cancellationToken);

    private IEnumerable<string> ItemNames(string folder) =>
        _files.Folders(folder).Where(IsValidName).OrderBy(n => n, StringComparer.OrdinalIgnoreCase);

    // ----- files -----

    private void CreateRoot() => _files.CreateFolder(_files.PathRoot);

    private JsonObject? ReadJson(string path)
    {
        if (_files.ReadText(path) is not { } text)
        {
            return null;
        }

        try
        {
            return JsonCodec.ParseObject(text);
        }
        catch (FormatException e)
        {
            throw Corrupt(path, e.Message, e);
        }
    }

    private void WriteJson(string path, JsonObject json) => WriteFile(path, JsonCodec.Serialize(json) + "\n", ownerOnly: false);

    private void WriteKey(string path, AcmeKey key)
    {
        if (_passphrase is null && !_files.AllowsPlaintextKeys)
        {
            throw new AcmeArgumentException(AcmeErrorId.StatePlaintextKeyRefused,
                $"The state in {Root} is shared by every host that reads the database, and no key passphrase was given: a key is not stored there unencrypted unless the database was initialized to allow it.");
        }

        string pem = _passphrase is null ? key.ExportPkcs8Pem() : key.ExportEncryptedPkcs8Pem(_passphrase);
        WriteFile(path, pem, ownerOnly: true);
        if (_passphrase is not null)
        {
            RememberOpened(pem, key);
        }
    }

    private void RememberOpened(string pem, AcmeKey key)
    {
        if (_openedKeys.Count >= OpenedKeysLimit)
        {
            _openedKeys.Clear();
        }

        _openedKeys[pem] = key;
    }

    /// <summary>Every state file is written here: its folder (and the root) made 0700 first, the file 0600 for keys, 0644 otherwise.</summary>
    private void WriteFile(string path, string content, bool ownerOnly) => _files.WriteText(path, content, ownerOnly);

    /// <summary>A folder in the state folder: the root first, then the rest, each 0700 from its creation.</summary>
    private void CreateFolder(string folder) => _files.CreateFolder(folder);

    private AcmeKey? ReadKey(string path)
    {
        if (_files.ReadText(path) is not { } pem)
        {
            return null;
        }

        if (_passphrase is not null && _openedKeys.TryGetValue(pem, out AcmeKey? opened))
        {
            return opened;
        }

        try
        {
            AcmeKey key = AcmeKey.ImportPem(pem, _passphrase);
            if (_passphrase is not null)
            {
                RememberOpened(pem, key);
            }

            return key;
        }
        catch (AcmeArgumentException e) when (e.Id == AcmeErrorId.KeyPasswordRequired)
        {
            throw new AcmeArgumentException(AcmeErrorId.KeyPasswordRequired,
                $"The key file {path} is encrypted, and no passphrase for it was given.", e);
        }
        catch (AcmeArgumentException e) when (e.Id == AcmeErrorId.KeyPasswordIncorrect)
        {
            throw PassphraseDoesNotOpen($"the key file {path}", e);
        }
        catch (AcmeArgumentException e) when (e.Id is AcmeErrorId.InvalidKey or AcmeErrorId.UnsupportedKey)
        {
            throw Corrupt(path, e.Message, e);
        }
    }

    internal static AcmeLocalException Corrupt(string path, string why, Exception? inner = null) =>
        new(AcmeErrorId.StateCorrupt, $"The state file {path} cannot be read: {why}", inner);

    private static TimeSpan ReadLockTimeout() =>
        double.TryParse(Environment.GetEnvironmentVariable(LockTimeoutVariable), NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds >= 0
            ? TimeSpan.FromSeconds(seconds)
            : TimeSpan.FromMinutes(5);

    private void DeleteFile(string path) => _files.DeleteFile(path);

    public override string ToString() => Root;
}
