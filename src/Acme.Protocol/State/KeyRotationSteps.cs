using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Crypto;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;
using Acme.Protocol.Model;

namespace Acme.Protocol.State;

/// <summary>
/// Changes the key passphrase of a state (a folder or a database): every account key, order key,
/// certificate version's key and sealed DNS provider secret is re-encrypted with the new passphrase
/// (or left unencrypted, where the backend allows it, when there is no new one). Everything is read and
/// opened first: a secret that neither passphrase opens stops the change before anything is written.
/// Each certificate, then each account, is re-read and rewritten under its own lock, so no renewal
/// writes it meanwhile; a host still holding the old passphrase afterwards gets AcmeKeyPassphraseChanged.
/// Each item is rewritten whole (atomically, owner-only), one at a time, so a change
/// that is stopped leaves each item readable with the old or the new passphrase; run again with the
/// same pair it skips what the new passphrase already opens.
/// </summary>
public static class KeyRotationSteps
{
    private const string Activity = "Changing the key passphrase";

    private sealed class Item
    {
        public Item(AcmeStateStore.SecretItem secret, string shown)
        {
            Secret = secret;
            Shown = shown;
        }

        public AcmeStateStore.SecretItem Secret { get; }

        public string Shown { get; }

        public bool Done { get; set; }

        public bool Gone { get; set; }

        public AcmeKey? Key { get; set; }

        public JsonObject? Json { get; set; }

        public Dictionary<string, string> Opened { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>
    /// Changes the passphrase from <paramref name="oldPassphrase"/> (null: the keys are unencrypted) to
    /// <paramref name="newPassphrase"/> (null: remove it). <paramref name="confirm"/> is asked, with the
    /// list of the items to re-encrypt, before the first write; when it says no, nothing is written and null returned.
    /// </summary>
    public static async Task<AcmeKeyPassphraseChange?> ChangeAsync(AcmeStateStore store, char[]? oldPassphrase, char[]? newPassphrase,
        Func<IReadOnlyList<string>, Task<bool>> confirm, IAcmeLog log, IProgress<AcmeProgress>? progress, CancellationToken cancellationToken)
    {
        oldPassphrase = oldPassphrase is { Length: > 0 } ? oldPassphrase : null;
        newPassphrase = newPassphrase is { Length: > 0 } ? newPassphrase : null;
        if (newPassphrase is null && !store.Files.AllowsPlaintextKeys)
        {
            throw new AcmeArgumentException(AcmeErrorId.StatePlaintextKeyRefused,
                $"The state in {store.Root} is shared by every host that reads the database: its keys cannot be left unencrypted unless the database was initialized to allow it.");
        }

        // Everything is read and opened first, without locks: a secret neither passphrase opens stops the
        // change before any write. Then each certificate is re-read and rewritten under its own lock, one
        // at a time (a database holds a connection per lock, so holding them all would exhaust its pool),
        // and last the accounts under their server's and their own locks: the order renewals take them in.
        var owners = store.SecretOwners();
        List<Item> items = Plan(store, owners, oldPassphrase, newPassphrase, log, progress, cancellationToken);
        List<Item> todo = items.Where(i => !i.Done).ToList();
        if (!await confirm(todo.Select(i => i.Shown).ToList()).ConfigureAwait(false))
        {
            return null;
        }

        var writer = new Writer(store, newPassphrase, log, progress, todo.Count);
        foreach (var owner in owners)
        {
            foreach (string name in owner.Certificates)
            {
                using IDisposable held = await store.LockCertificateAsync(owner.Server, name, log, cancellationToken).ConfigureAwait(false);
                var one = new[] { (owner.Server, (IReadOnlyList<string>)Array.Empty<string>(), (IReadOnlyList<string>)new[] { name }) };
                await writer.WriteAsync(Plan(store, one, oldPassphrase, newPassphrase, log, null, cancellationToken), cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (var owner in owners)
        {
            using IDisposable serverLock = await store.LockServerAsync(owner.Server, log, cancellationToken).ConfigureAwait(false);
            foreach (string name in owner.Accounts)
            {
                using IDisposable held = await store.LockAccountAsync(owner.Server, name, log, cancellationToken).ConfigureAwait(false);
                var one = new[] { (owner.Server, (IReadOnlyList<string>)new[] { name }, (IReadOnlyList<string>)Array.Empty<string>()) };
                await writer.WriteAsync(Plan(store, one, oldPassphrase, newPassphrase, log, null, cancellationToken), cancellationToken).ConfigureAwait(false);
            }
        }

        return writer.Finish(items);
    }

    private static List<Item> Plan(AcmeStateStore store, IReadOnlyList<(AcmeServer Server, IReadOnlyList<string> Accounts, IReadOnlyList<string> Certificates)> owners,
        char[]? oldPassphrase, char[]? newPassphrase, IAcmeLog log, IProgress<AcmeProgress>? progress, CancellationToken cancellationToken)
    {
        var items = new List<Item>();
        foreach (var owner in owners)
        {
            foreach (string name in owner.Accounts)
            {
                items.AddRange(store.SecretItems(store.AccountFolder(owner.Server, name), certificate: false).Select(s => new Item(s, store.RelativeItem(s.Path))));
            }

            foreach (string name in owner.Certificates)
            {
                items.AddRange(store.SecretItems(store.CertificateFolder(owner.Server, name), certificate: true).Select(s => new Item(s, store.RelativeItem(s.Path))));
            }
        }

        var unopened = new List<string>();
        for (int n = 0; n < items.Count; n++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Item item = items[n];
            progress?.Report(new AcmeProgress(Activity, $"Reading {item.Shown}", n * 100 / Math.Max(1, items.Count)));
            string? text = store.Files.ReadText(item.Secret.Path);
            if (text is null)
            {
                item.Gone = true;
                continue;
            }

            bool opens = item.Secret.IsKey ? OpenKey(item, text, oldPassphrase, newPassphrase) : OpenSealed(item, text, oldPassphrase, newPassphrase);
            if (!opens)
            {
                unopened.Add(item.Shown);
            }
        }

        // A dns-provider.json without a sealed secret holds nothing under the passphrase.
        items.RemoveAll(i => i.Gone || (!i.Secret.IsKey && i.Json is null));
        if (unopened.Count > 0)
        {
            string which = string.Join(", ", unopened.Take(5)) + (unopened.Count > 5 ? $" and {unopened.Count - 5} more" : string.Empty);
            throw oldPassphrase is null
                ? new AcmeArgumentException(AcmeErrorId.KeyPasswordRequired,
                    $"{unopened.Count} of the {items.Count} secrets in {store.Root} are encrypted with a passphrase that was not given as the current one, and the new one does not open them ({which}); nothing was changed.")
                : new AcmeArgumentException(AcmeErrorId.KeyPasswordIncorrect,
                    $"Neither the current passphrase given nor the new one opens {unopened.Count} of the {items.Count} secrets in {store.Root} ({which}); nothing was changed.");
        }

        log.Verbose($"{items.Count(i => !i.Done)} of the {items.Count} secrets in {store.Root} are to be re-encrypted; {items.Count(i => i.Done)} already open with the new passphrase.");
        return items;
    }

    /// <summary>A key: done when the new passphrase opens it (or it is unencrypted and stays so); else opened with the old one, or unencrypted.</summary>
    private static bool OpenKey(Item item, string pem, char[]? oldPassphrase, char[]? newPassphrase)
    {
        bool encrypted = pem.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----");
        try
        {
            if (!encrypted)
            {
                item.Done = newPassphrase is null;
                item.Key = item.Done ? null : AcmeKey.ImportPem(pem);
                return true;
            }

            if (newPassphrase is not null && TryImport(pem, newPassphrase) is not null)
            {
                item.Done = true;
                return true;
            }

            item.Key = oldPassphrase is null ? null : TryImport(pem, oldPassphrase);
            return item.Key is not null;
        }
        catch (AcmeArgumentException e) when (e.Id is AcmeErrorId.InvalidKey or AcmeErrorId.UnsupportedKey)
        {
            throw AcmeStateStore.Corrupt(item.Shown, e.Message, e);
        }
    }

    private static AcmeKey? TryImport(string pem, char[] passphrase)
    {
        try
        {
            return AcmeKey.ImportPem(pem, passphrase);
        }
        catch (AcmeArgumentException e) when (e.Id is AcmeErrorId.KeyPasswordIncorrect or AcmeErrorId.KeyPasswordRequired)
        {
            return null;
        }
    }

    /// <summary>A dns-provider.json: done when it has no sealed secret, or the new passphrase opens each; else each opened with one of them.</summary>
    private static bool OpenSealed(Item item, string text, char[]? oldPassphrase, char[]? newPassphrase)
    {
        JsonObject json;
        try
        {
            json = JsonCodec.ParseObject(text);
        }
        catch (FormatException e)
        {
            throw AcmeStateStore.Corrupt(item.Shown, e.Message, e);
        }

        var sealedValues = (json.GetObject("parameters") ?? new JsonObject())
            .Where(p => p.Value is JsonObject entry && entry.GetString("sealed") is not null)
            .Select(p => (p.Key, Sealed: ((JsonObject)p.Value!).GetString("sealed")!))
            .ToList();
        item.Json = sealedValues.Count > 0 ? json : null;
        item.Done = true;
        foreach ((string name, string sealedText) in sealedValues)
        {
            if (newPassphrase is not null && TryOpen(item, sealedText, newPassphrase) is not null)
            {
                continue;
            }

            string? plain = oldPassphrase is null ? null : TryOpen(item, sealedText, oldPassphrase);
            if (plain is null)
            {
                return false;
            }

            item.Opened[name] = plain;
            item.Done = false;
        }

        return true;
    }

    private static string? TryOpen(Item item, string sealedText, char[] passphrase)
    {
        try
        {
            return PassphraseSecret.Open(sealedText, passphrase);
        }
        catch (AcmeArgumentException)
        {
            return null;
        }
        catch (AcmeLocalException e)
        {
            throw AcmeStateStore.Corrupt(item.Shown, e.Message, e);
        }
    }

    /// <summary>Rewrites the items of each locked batch; counts across batches; records the change's start and end.</summary>
    private sealed class Writer
    {
        private readonly AcmeStateStore _store;
        private readonly char[]? _newPassphrase;
        private readonly IAcmeLog _log;
        private readonly IProgress<AcmeProgress>? _progress;
        private readonly int _planned;
        private readonly List<string> _rotated = new();
        private readonly List<string> _failed = new();
        private readonly List<string> _dropped = new();
        private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
        private int _written;

        public Writer(AcmeStateStore store, char[]? newPassphrase, IAcmeLog log, IProgress<AcmeProgress>? progress, int planned)
        {
            _store = store;
            _newPassphrase = newPassphrase;
            _log = log;
            _progress = progress;
            _planned = planned;
        }

        public async Task WriteAsync(List<Item> batch, CancellationToken cancellationToken)
        {
            foreach (Item item in batch.Where(i => !i.Done))
            {
                // Between two items, never inside one: Ctrl+C leaves every item whole.
                cancellationToken.ThrowIfCancellationRequested();
                if (_written == 0)
                {
                    _store.WriteKeyRotationRecord(_started, completed: false, encrypted: _newPassphrase is not null);
                }

                _written++;
                int total = Math.Max(_planned, _written);
                _progress?.Report(new AcmeProgress(Activity, $"Re-encrypting {item.Shown} ({_written} of {total})", (_written - 1) * 100 / total));
                try
                {
                    _store.Files.WriteText(item.Secret.Path, item.Secret.IsKey ? KeyText(item.Key!, _newPassphrase) : SealedText(item, _newPassphrase, _dropped), ownerOnly: true);
                    _rotated.Add(item.Shown);
                    _log.Verbose($"Re-encrypted {item.Shown}.");
                }
                catch (Exception e) when (e is System.IO.IOException or UnauthorizedAccessException or AcmeLocalException)
                {
                    _failed.Add(item.Shown);
                    _log.Verbose($"Could not write {item.Shown}: {e.Message} It still opens with the current passphrase.");
                }

                await Failpoint.HitAsync(Failpoint.KeyRotated + ":" + _written.ToString(System.Globalization.CultureInfo.InvariantCulture), _log, cancellationToken).ConfigureAwait(false);
            }
        }

        public AcmeKeyPassphraseChange Finish(List<Item> planned)
        {
            if (_written > 0 && _failed.Count == 0)
            {
                _store.WriteKeyRotationRecord(_started, completed: true, encrypted: _newPassphrase is not null);
            }

            _progress?.Report(new AcmeProgress(Activity, "Done", 100, completed: true));
            var rotated = new HashSet<string>(_rotated, StringComparer.Ordinal);
            var failed = new HashSet<string>(_failed, StringComparer.Ordinal);
            return new AcmeKeyPassphraseChange(_store.Root, _newPassphrase is not null, _rotated,
                planned.Where(i => i.Done && !rotated.Contains(i.Shown) && !failed.Contains(i.Shown)).Select(i => i.Shown).ToList(), _failed, _dropped);
        }
    }

    private static string KeyText(AcmeKey key, char[]? newPassphrase) =>
        newPassphrase is null ? key.ExportPkcs8Pem() : key.ExportEncryptedPkcs8Pem(newPassphrase);

    /// <summary>The dns-provider.json with each secret the old passphrase opened sealed with the new one; without one, the secret is left out (listed under "unsaved").</summary>
    private static string SealedText(Item item, char[]? newPassphrase, List<string> dropped)
    {
        JsonObject json = item.Json!;
        JsonObject parameters = json.GetObject("parameters")!;
        var unsaved = json.GetStringArray("unsaved").ToList();
        foreach (KeyValuePair<string, string> opened in item.Opened)
        {
            if (newPassphrase is null)
            {
                parameters.Remove(opened.Key);
                unsaved.Add(opened.Key);
                dropped.Add(item.Shown + ": " + opened.Key);
            }
            else
            {
                parameters[opened.Key] = new JsonObject { ["sealed"] = PassphraseSecret.Seal(opened.Value, newPassphrase) };
            }
        }

        json["unsaved"] = unsaved.Distinct(StringComparer.OrdinalIgnoreCase).Cast<object?>().ToList();
        return JsonCodec.Serialize(json) + "\n";
    }
}
