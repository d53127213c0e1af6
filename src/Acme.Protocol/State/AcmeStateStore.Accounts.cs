using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;
using Acme.Protocol.Model;

namespace Acme.Protocol.State;

/// <summary>Accounts: &lt;server&gt;/accounts/&lt;name&gt;/account.json and account-key.pem.</summary>
public sealed partial class AcmeStateStore
{
    private const string AccountFile = "account.json";
    private const string AccountKeyFile = "account-key.pem";
    private const string NextAccountKeyFile = "account-key.next.pem";

    /// <summary>The saved accounts' servers and names, of one server or of all.</summary>
    public IReadOnlyList<(AcmeServer Server, string Name)> GetAccountNames(AcmeServer? server = null) =>
        Servers(server)
            .SelectMany(s => ItemNames(Path.Combine(ServerFolder(s), AccountsFolder))
                .Where(n => _files.FileExists(Path.Combine(AccountFolder(s, n), AccountFile)))
                .Select(n => (s, n)))
            .ToList();

    /// <summary>
    /// The saved account with its key, or null when there is none by that name. The server comes from
    /// the state (with the trust saved for it).
    /// </summary>
    public AcmeAccount? ReadAccount(AcmeServer server, string name)
    {
        CheckName(name, "an account");
        string folder = AccountFolder(server, name);
        string file = Path.Combine(folder, AccountFile);
        JsonObject? json = ReadJson(file);
        if (json is null)
        {
            return null;
        }

        AcmeServer saved = ReadServerFile(ServerFolder(server)) ?? server;
        Uri location = json.GetUri("location") ?? throw Corrupt(file, "it has no account URL");
        AcmeKey key = ReadKey(Path.Combine(folder, AccountKeyFile))
            ?? throw Corrupt(Path.Combine(folder, AccountKeyFile), "the account's key file is missing");
        if (json.GetString("keyThumbprint") is { } thumbprint && thumbprint != key.Thumbprint)
        {
            throw Corrupt(Path.Combine(folder, AccountKeyFile), $"the key is not the account's (its thumbprint is {key.Thumbprint}, the account's {thumbprint})");
        }

        var account = new AcmeAccount(saved, key, location) { Name = name, SavedIn = this };
        try
        {
            account.Update(json);
        }
        catch (AcmeProtocolException e)
        {
            throw Corrupt(file, e.Message, e);
        }

        return account;
    }

    /// <summary>The account key saved under the name, with or without account.json (a crash may come between them).</summary>
    internal AcmeKey? ReadAccountKey(AcmeServer server, string name) => ReadKey(Path.Combine(AccountFolder(server, name), AccountKeyFile));

    /// <summary>Saves an account key before the CA hears of it (and the server it is for).</summary>
    internal void WriteAccountKey(AcmeServer server, string name, AcmeKey key)
    {
        WriteServer(server);
        WriteKey(Path.Combine(AccountFolder(server, name), AccountKeyFile), key);
    }

    /// <summary>Saves an account's data (not its key, which <see cref="WriteAccountKey"/> wrote first).</summary>
    internal void WriteAccount(AcmeAccount account)
    {
        string name = account.Name ?? throw new InvalidOperationException("The account has no name.");
        var json = new JsonObject
        {
            ["name"] = name,
            ["location"] = account.Location.AbsoluteUri,
            ["status"] = AcmeStatusParser.ToWire(account.Status),
            ["contact"] = account.Contact.Cast<object?>().ToList(),
            ["termsOfServiceAgreed"] = account.TermsOfServiceAgreed,
            ["keyThumbprint"] = account.KeyThumbprint,
            ["savedAt"] = DateTimeOffset.UtcNow,
        };
        if (account.Orders is not null)
        {
            json["orders"] = account.Orders.AbsoluteUri;
        }

        if (account.CreatedAt is DateTimeOffset created)
        {
            json["createdAt"] = created;
        }

        WriteJson(Path.Combine(AccountFolder(account.Server, name), AccountFile), json);
    }

    /// <summary>
    /// Key rollover, step one: the new key is saved next to the old one before the CA is asked to
    /// switch, so a crash after the switch cannot lose the only key the account still accepts.
    /// </summary>
    internal void WriteNextAccountKey(AcmeAccount account, AcmeKey key) =>
        WriteKey(Path.Combine(AccountFolder(account.Server, account.Name!), NextAccountKeyFile), key);

    /// <summary>Key rollover, step two, after the CA switched: the new key replaces the old one.</summary>
    internal void CommitNextAccountKey(AcmeAccount account)
    {
        string folder = AccountFolder(account.Server, account.Name!);
        WriteKey(Path.Combine(folder, AccountKeyFile), account.Key);
        WriteAccount(account);
        DeleteFile(Path.Combine(folder, NextAccountKeyFile));
    }

    /// <summary>Key rollover refused by the CA: the new key never took over, so it goes.</summary>
    internal void DiscardNextAccountKey(AcmeAccount account) =>
        DeleteFile(Path.Combine(AccountFolder(account.Server, account.Name!), NextAccountKeyFile));

    /// <summary>The path of a new key left by a key rollover that was interrupted, if any.</summary>
    public string? InterruptedKeyRollover(AcmeAccount account)
    {
        if (account.Name is null)
        {
            return null;
        }

        string path = Path.Combine(AccountFolder(account.Server, account.Name), NextAccountKeyFile);
        return _files.FileExists(path) ? path : null;
    }

    /// <summary>
    /// The certificates (and orders) on the account's server that name the account: in their saved
    /// order, or in the version in use.
    /// </summary>
    public IReadOnlyList<string> GetCertificatesOfAccount(AcmeServer server, string accountName)
    {
        CheckName(accountName, "an account");
        var names = new List<string>();
        foreach ((AcmeServer _, string name) in GetCertificateNames(server))
        {
            string folder = CertificateFolder(server, name);
            string? current = _files.ReadText(Path.Combine(folder, CurrentFile))?.Trim();
            bool uses = string.Equals(TryReadJson(Path.Combine(folder, OrderFile))?.GetString("account"), accountName, StringComparison.Ordinal)
                || (current is not null && s_thumbprint.IsMatch(current)
                    && string.Equals(TryReadJson(Path.Combine(folder, current, CertificateFile))?.GetString("account"), accountName, StringComparison.Ordinal));
            if (uses)
            {
                names.Add(name);
            }
        }

        return names;
    }

    /// <summary>Removes the saved account: its data and its key (held under the account's lock; the lock file goes after).</summary>
    internal void DeleteAccount(AcmeServer server, string name) => DeleteFolderExceptLock(AccountFolder(server, name));

    /// <summary>Removes an account's folder when nothing but its lock file is left in it.</summary>
    internal void DeleteEmptyAccountFolder(AcmeServer server, string name) => DeleteFolderIfOnlyLock(AccountFolder(server, name));

    /// <summary>
    /// A name for an account New-AcmeAccount creates without -Name: "default", then "default-2",
    /// "default-3"... The folder is created at once, so two processes (each holding the server's lock
    /// in turn) never pick the same name.
    /// </summary>
    internal string ReserveAccountName(AcmeServer server)
    {
        for (int i = 1; ; i++)
        {
            string name = i == 1 ? DefaultAccountName : DefaultAccountName + "-" + i.ToString(CultureInfo.InvariantCulture);
            string folder = AccountFolder(server, name);
            if (!_files.FolderExists(folder))
            {
                CreateFolder(folder);
                return name;
            }
        }
    }
}
