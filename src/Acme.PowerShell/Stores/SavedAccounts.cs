using System;
using System.Collections.Generic;
using System.Linq;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Stores;

/// <summary>
/// The saved account a cmdlet uses when none is given: New-AcmeAccount's rerun (an account with the same
/// key or the same contacts), and the state folder's single or "default" account for a server
/// (New-AcmeOrder without a piped account).
/// </summary>
internal static class SavedAccounts
{
    /// <summary>
    /// The valid saved account of <paramref name="server"/> with <paramref name="key"/>'s key when one is
    /// given, otherwise with exactly <paramref name="contact"/> (in any order, at least one) and, when
    /// <paramref name="keyType"/> is given, a key of that type; "default" first. Null when there is none
    /// (always without a key and contacts: nothing says it is the same account). Accounts that cannot be
    /// read are passed over.
    /// </summary>
    public static AcmeAccount? FindSame(AcmeStateStore store, AcmeServer server, AcmeKey? key, IReadOnlyList<string> contact, string? keyType)
    {
        if (key is null && contact.Count == 0)
        {
            return null;
        }

        var wanted = new HashSet<string>(contact, StringComparer.OrdinalIgnoreCase);
        foreach (AcmeAccount account in Valid(store, server))
        {
            bool same = key is not null
                ? account.Key.Thumbprint == key.Thumbprint
                : wanted.SetEquals(account.Contact) && (keyType is null || account.Key.Name == keyType);
            if (same)
            {
                return account;
            }
        }

        return null;
    }

    /// <summary>
    /// The server's single saved account, or the one named "default" among several, with why it was
    /// chosen. Throws AcmeArgumentException (NoAccount) when there is none, or several and no "default".
    /// </summary>
    public static (AcmeAccount Account, string Why) Default(AcmeStateStore store, AcmeServer server)
    {
        IReadOnlyList<string> names = store.GetAccountNames(server).Select(a => a.Name).ToList();
        string? name = names.Count == 1 ? names[0] : names.Contains(AcmeStateStore.DefaultAccountName) ? AcmeStateStore.DefaultAccountName : null;
        if (names.Count == 0)
        {
            throw new AcmeArgumentException(AcmeErrorId.NoAccount,
                $"No account for {server.Name} is saved in {store.Root}: create one with New-AcmeAccount (or pipe one, or give -Server for another CA).");
        }

        if (name is null)
        {
            throw new AcmeArgumentException(AcmeErrorId.NoAccount,
                $"{store.Root} holds {names.Count} accounts for {server.Name} ({string.Join(", ", names)}) and none is named '{AcmeStateStore.DefaultAccountName}': " +
                "pipe the one to use (Get-AcmeAccount -Name <name> | ...).");
        }

        AcmeAccount account = store.ReadAccount(server, name) ?? throw new AcmeArgumentException(AcmeErrorId.NoAccount,
            $"The account '{name}' for {server.Name} in {store.Root} has gone: create one with New-AcmeAccount.");
        string why = names.Count == 1 ? "the only account saved for it" : $"the '{AcmeStateStore.DefaultAccountName}' one of {names.Count}";
        return (account, $"Using the saved account '{name}' ({account.Location}) for {server.Name} from {store.Root}: {why}.");
    }

    private static IEnumerable<AcmeAccount> Valid(AcmeStateStore store, AcmeServer server)
    {
        IEnumerable<string> names = store.GetAccountNames(server).Select(a => a.Name)
            .OrderBy(n => n == AcmeStateStore.DefaultAccountName ? 0 : 1).ThenBy(n => n, StringComparer.Ordinal);
        foreach (string name in names)
        {
            AcmeAccount? account;
            try
            {
                account = store.ReadAccount(server, name);
            }
            catch (AcmeException)
            {
                continue;
            }

            if (account is not null && account.Status == AcmeAccountStatus.Valid)
            {
                yield return account;
            }
        }
    }
}
