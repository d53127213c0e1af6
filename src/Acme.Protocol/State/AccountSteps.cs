using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Client;
using Acme.Protocol.Crypto;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using static Acme.Protocol.State.StepSupport;

namespace Acme.Protocol.State;

/// <summary>
/// The account steps with the state folder: newAccount, finding or creating New-AcmeCertificate's
/// account, saving a changed account, key rollover, and registering a forgotten account again. Each
/// saves what changed under the account's lock, and saves the key before the CA sees it. An account
/// that is not saved (no name) goes through unchanged, touching no file.
/// </summary>
public static class AccountSteps
{
    /// <summary>
    /// newAccount with the state folder. Without a name the account is saved as "default" (or
    /// "default-2", ...); the key is written before the CA is asked. A name that already has a saved
    /// key keeps it: the CA answers newAccount for a known key with the existing account (RFC 8555
    /// section 7.3: "If this will be the first account associated with the key ... otherwise the server
    /// returns the existing account"), so running the same command again gives the same account, and a
    /// process that died after saving the key but before saving the account recovers it.
    /// </summary>
    public static async Task<AcmeAccount> NewAccountAsync(AcmeClient client, AcmeStateStore? store, string? name, AcmeKey? key,
        AcmeKeyAlgorithm algorithm, IReadOnlyList<string> contact, bool acceptTermsOfService, ExternalAccountBinding? binding,
        CancellationToken cancellationToken = default)
    {
        AcmeServer server = client.Connection.Server;
        AcmeDirectory directory = await client.GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        if (directory.TermsOfService is not null && !acceptTermsOfService)
        {
            throw new AcmeArgumentException(AcmeErrorId.TermsOfServiceNotAccepted,
                $"{server.Name} requires agreeing to its terms of service ({directory.TermsOfService}), and they were not agreed to.");
        }

        // RFC 8555 section 7.1.1, externalAccountRequired: "the CA requires that all newAccount requests
        // include an 'externalAccountBinding' field"; refusing here sends nothing.
        if (directory.ExternalAccountRequired && binding is null)
        {
            throw new AcmeArgumentException(AcmeErrorId.ExternalAccountRequired,
                $"{server.Name} only creates accounts bound to an account you hold with the CA (external account binding), and none was given.");
        }

        if (store is null)
        {
            return await client.NewAccountAsync(key ?? AcmeKey.Generate(algorithm), contact, acceptTermsOfService, binding, false, cancellationToken)
                .ConfigureAwait(false);
        }

        if (name is null)
        {
            using (await store.LockServerAsync(server, client.Log, cancellationToken).ConfigureAwait(false))
            {
                name = store.ReserveAccountName(server);
            }
        }

        AcmeStateStore.CheckName(name, "an account");
        using (await store.LockAccountAsync(server, name, client.Log, cancellationToken).ConfigureAwait(false))
        {
            AcmeKey? saved = store.ReadAccountKey(server, name);
            if (saved is not null && key is not null && saved.Thumbprint != key.Thumbprint)
            {
                throw new AcmeArgumentException(AcmeErrorId.AccountExists,
                    $"The account '{name}' on {server.Name} is saved with another key.");
            }

            if (saved is null)
            {
                key ??= AcmeKey.Generate(algorithm);
                Write("the account key", () => store.WriteAccountKey(server, name, key));
                client.Log.Verbose($"Saved the key of the account '{name}' in {store.AccountFolder(server, name)} before creating the account.");
                await Failpoint.HitAsync(Failpoint.AccountKeySaved, client.Log, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                client.Log.Verbose($"The account '{name}' is saved in {store.AccountFolder(server, name)}; asking {server.Name} for it by its key.");
                key = saved;
            }

            AcmeAccount account = await client.NewAccountAsync(key, contact, acceptTermsOfService, binding, false, cancellationToken).ConfigureAwait(false);
            account.Name = name;
            account.SavedIn = store;
            Write("the account", () => store.WriteAccount(account));
            await Failpoint.HitAsync(Failpoint.AccountSaved, client.Log, cancellationToken).ConfigureAwait(false);
            return account;
        }
    }

    /// <summary>The saved account by that name, or a new one saved under it (New-AcmeCertificate's account).</summary>
    public static async Task<AcmeAccount> FindOrCreateAccountAsync(AcmeClient client, AcmeStateStore store, string name, IReadOnlyList<string> contact,
        bool acceptTermsOfService, AcmeKeyAlgorithm algorithm, ExternalAccountBinding? binding = null, CancellationToken cancellationToken = default)
    {
        AcmeServer server = client.Connection.Server;
        AcmeStateStore.CheckName(name, "an account");
        using (await store.LockAccountAsync(server, name, client.Log, cancellationToken).ConfigureAwait(false))
        {
            AcmeAccount? saved = store.ReadAccount(server, name);
            if (saved is not null)
            {
                client.Log.Verbose($"Using the saved account '{name}' ({saved.Location}).");
                return saved;
            }

            return await NewAccountAsync(client, store, name, null, algorithm, contact, acceptTermsOfService, binding, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Saves an account whose data changed (contacts, status); an account not saved is left alone.</summary>
    public static async Task SaveAccountAsync(AcmeAccount account, IAcmeLog log, CancellationToken cancellationToken = default)
    {
        if (account.Store() is not { } store || account.Name is not { } name)
        {
            return;
        }

        using (await store.LockAccountAsync(account.Server, name, log, cancellationToken).ConfigureAwait(false))
        {
            Write("the account", () => store.WriteAccount(account));
        }
    }

    /// <summary>
    /// Key rollover (RFC 8555 section 7.3.5) of a saved account: the new key is saved next to the old
    /// one first, replaces it once the CA has switched, and the account is saved with it.
    /// </summary>
    public static async Task<AcmeAccount> ChangeAccountKeyAsync(AcmeClient client, AcmeAccount account, AcmeKey newKey,
        CancellationToken cancellationToken = default)
    {
        if (account.Store() is not { } store || account.Name is not { } name)
        {
            return await client.ChangeAccountKeyAsync(account, newKey, cancellationToken).ConfigureAwait(false);
        }

        using (await store.LockAccountAsync(account.Server, name, client.Log, cancellationToken).ConfigureAwait(false))
        {
            Write("the new account key", () => store.WriteNextAccountKey(account, newKey));
            AcmeAccount changed;
            try
            {
                changed = await client.ChangeAccountKeyAsync(account, newKey, cancellationToken).ConfigureAwait(false);
            }
            catch (AcmeException e) when (e is AcmeProblemException or AcmeArgumentException)
            {
                // The CA answered and refused: the old key stays the account's. (Without an answer, a
                // timeout or a lost connection, the CA may have switched, so the new key is kept.)
                Write("the account", () => store.DiscardNextAccountKey(account));
                throw;
            }

            Write("the new account key", () => store.CommitNextAccountKey(changed));
            client.Log.Verbose($"Saved the new key of the account '{name}'.");
            return changed;
        }
    }

    /// <summary>
    /// A saved account the CA answered accountDoesNotExist for, registered again with the same saved
    /// key (newAccount, RFC 8555 section 7.3) and the saved contacts, and saved with its new URL. The
    /// terms count as agreed when the caller agrees now or the saved account recorded agreeing; an
    /// external account binding is sent when given. Says so in a warning.
    /// </summary>
    internal static async Task<AcmeAccount> RegisterAgainAsync(AcmeClient client, AcmeStateStore store, AcmeAccount forgotten, bool acceptTermsOfService,
        ExternalAccountBinding? binding, AcmeProblemException problem, CancellationToken cancellationToken)
    {
        string name = forgotten.Name ?? throw problem;
        AcmeAccount account = await NewAccountAsync(client, store, name, forgotten.Key, AcmeKeyAlgorithm.EC256, forgotten.Contact,
            acceptTermsOfService || forgotten.TermsOfServiceAgreed, binding, cancellationToken).ConfigureAwait(false);
        Warn(client.Log, $"{client.Connection.Server.Name} no longer knows the account '{name}' ({forgotten.Location}: {problem.Problem.Describe()}); " +
            $"registered its saved key again as {account.Location} and saved that.");
        return account;
    }
}
