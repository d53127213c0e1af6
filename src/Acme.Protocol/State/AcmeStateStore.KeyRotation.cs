using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;
using Acme.Protocol.Model;

namespace Acme.Protocol.State;

/// <summary>
/// What a change of the key passphrase (<see cref="KeyRotationSteps"/>) reads and writes: every item
/// that holds a secret under the passphrase (account keys, order keys, every version's key.pem, sealed
/// DNS provider secrets), and &lt;root&gt;/key-passphrase.json, the record that a change started or
/// finished (times only, no secret), which a read with the other passphrase names in its error.
/// </summary>
public sealed partial class AcmeStateStore
{
    internal const string KeyRotationFile = "key-passphrase.json";

    /// <summary>One item holding a secret under the passphrase: its path, and whether it is a key (else a dns-provider.json).</summary>
    internal readonly struct SecretItem
    {
        public SecretItem(string path, bool isKey)
        {
            Path = path;
            IsKey = isKey;
        }

        public string Path { get; }

        public bool IsKey { get; }
    }

    /// <summary>The account folders and certificate folders of every saved server: what a change of the passphrase locks.</summary>
    internal IReadOnlyList<(AcmeServer Server, IReadOnlyList<string> Accounts, IReadOnlyList<string> Certificates)> SecretOwners() =>
        GetServers()
            .Select(s => (s,
                (IReadOnlyList<string>)ItemNames(Path.Combine(ServerFolder(s), AccountsFolder)).ToList(),
                (IReadOnlyList<string>)ItemNames(Path.Combine(ServerFolder(s), CertificatesFolder)).ToList()))
            .ToList();

    /// <summary>The items of one account or certificate folder that hold a secret under the passphrase.</summary>
    internal IEnumerable<SecretItem> SecretItems(string folder, bool certificate)
    {
        foreach (string file in _files.Files(folder).Where(f => f.EndsWith(".pem", StringComparison.OrdinalIgnoreCase)).OrderBy(f => f, StringComparer.Ordinal))
        {
            if (file == AccountKeyFile || file == NextAccountKeyFile || file.StartsWith("order-key-", StringComparison.Ordinal))
            {
                yield return new SecretItem(Path.Combine(folder, file), isKey: true);
            }
        }

        if (!certificate)
        {
            yield break;
        }

        if (_files.FileExists(Path.Combine(folder, DnsProviderFile)))
        {
            yield return new SecretItem(Path.Combine(folder, DnsProviderFile), isKey: false);
        }

        foreach (string version in _files.Folders(folder).Where(n => s_thumbprint.IsMatch(n)).OrderBy(n => n, StringComparer.Ordinal))
        {
            string key = Path.Combine(folder, version, KeyFile);
            if (_files.FileExists(key))
            {
                yield return new SecretItem(key, isKey: true);
            }
        }
    }

    /// <summary>The item's path from the state's root, as a result and a message show it.</summary>
    internal string RelativeItem(string path) =>
        path.StartsWith(_files.PathRoot, StringComparison.Ordinal) ? path.Substring(_files.PathRoot.Length).TrimStart('/', '\\').Replace('\\', '/') : path;

    /// <summary>Records that a change of the passphrase started (<paramref name="completed"/> false) or finished; no secret.</summary>
    internal void WriteKeyRotationRecord(DateTimeOffset startedAt, bool completed, bool encrypted)
    {
        CreateRoot();
        var json = new JsonObject { ["startedAt"] = startedAt, ["encrypted"] = encrypted };
        if (completed)
        {
            json["completedAt"] = DateTimeOffset.UtcNow;
        }

        WriteJson(Path.Combine(_files.PathRoot, KeyRotationFile), json);
    }

    /// <summary>
    /// The error for a secret the passphrase given does not open: KeyPassphraseChanged, saying when the
    /// passphrase was changed, when a change ran on this state; KeyPasswordIncorrect otherwise.
    /// </summary>
    internal AcmeArgumentException PassphraseDoesNotOpen(string what, Exception inner)
    {
        JsonObject? record = null;
        try
        {
            record = ReadJson(Path.Combine(_files.PathRoot, KeyRotationFile));
        }
        catch (AcmeLocalException)
        {
        }

        if (record is null)
        {
            return new AcmeArgumentException(AcmeErrorId.KeyPasswordIncorrect, $"The passphrase does not open {what}.", inner);
        }

        string started = record.GetString("startedAt") ?? "an unknown time";
        string state = record.ContainsKey("completedAt")
            ? $"the key passphrase of this state was changed at {record.GetString("completedAt")}: every secret in it opens only with the new passphrase"
            : $"a change of the key passphrase of this state started at {started} and did not finish: a secret already re-encrypted opens only with the new passphrase, the others with the old one until the change is run again";
        return new AcmeArgumentException(AcmeErrorId.KeyPassphraseChanged, $"The passphrase given does not open {what}; {state}.", inner);
    }
}
