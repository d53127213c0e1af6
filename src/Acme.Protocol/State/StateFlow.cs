using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Client;
using Acme.Protocol.Crypto;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Issuance;
using Acme.Protocol.Model;
using Acme.Protocol.Renewal;

namespace Acme.Protocol.State;

/// <summary>
/// The steps of the pipeline with the state folder: each saves what changed under the item's lock,
/// and saves keys before the request that makes the CA see them. The pipeline cmdlets and
/// New-AcmeCertificate call these same steps. Objects that are not saved (no name) go through
/// unchanged, touching no file.
/// </summary>
public static class StateFlow
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
                $"{server.Name} requires agreeing to its terms of service ({directory.TermsOfService}). Read them, then pass -AcceptTermsOfService.");
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
                    $"The account '{name}' on {server.Name} is saved with another key; choose another -Name, or leave out -KeyPath to use the saved account.");
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

    /// <summary>newOrder; with a saved account the order is saved too, under <paramref name="name"/> or its first identifier.</summary>
    public static async Task<AcmeOrder> NewOrderAsync(AcmeClient client, AcmeAccount account, IReadOnlyList<AcmeIdentifier> identifiers, string? name,
        DateTimeOffset? notBefore, DateTimeOffset? notAfter, string? profile, string? replaces, AcmeKeyAlgorithm? keyAlgorithm,
        CancellationToken cancellationToken = default)
    {
        bool saved = account.Store() is not null && account.Name is not null;
        if (saved)
        {
            name = AcmeStateStore.CheckName(name ?? AcmeStateStore.NameFor(identifiers), "a certificate");
        }

        AcmeOrder order;
        try
        {
            order = await client.NewOrderAsync(account, identifiers, notBefore, notAfter, profile, replaces, cancellationToken).ConfigureAwait(false);
        }
        catch (AcmeAlreadyReplacedException) when (replaces is not null)
        {
            // RFC 9773 section 5: the server rejects a "replaces" naming a certificate that already has a
            // replacement order. That order (an earlier run's, left unfinished) would block every later
            // renewal, so this one is placed without saying what it replaces.
            client.Log.Verbose($"{client.Connection.Server} already has an order replacing {replaces}; ordering without 'replaces'.");
            order = await client.NewOrderAsync(account, identifiers, notBefore, notAfter, profile, null, cancellationToken).ConfigureAwait(false);
        }

        order.KeyAlgorithm = keyAlgorithm;
        if (saved)
        {
            order.Name = name;
            await SaveOrderAsync(order, client.Log, cancellationToken).ConfigureAwait(false);
            client.Log.Verbose($"Saved the order as '{name}'.");
            await Failpoint.HitAsync(Failpoint.OrderSaved, client.Log, cancellationToken).ConfigureAwait(false);
        }

        return order;
    }

    /// <summary>
    /// The order that renews <paramref name="certificate"/>: the same account (the one that ordered it,
    /// unless another is given), identifiers, profile and key type, under the same name, with "replaces"
    /// naming it (RFC 9773 section 5) when the CA offers renewal information.
    /// </summary>
    public static Task<AcmeOrder> NewReplacementOrderAsync(AcmeClient client, AcmeCertificate certificate, AcmeAccount? account, string? name,
        DateTimeOffset? notBefore, DateTimeOffset? notAfter, string? profile, CancellationToken cancellationToken = default)
    {
        account ??= certificate.Order?.Account ?? throw new AcmeArgumentException(AcmeErrorId.NoAccount,
            $"The certificate {certificate.Thumbprint} does not say which account ordered it: give -Account.");
        IReadOnlyList<AcmeIdentifier> identifiers = certificate.Order?.Identifiers is { Count: > 0 } ordered
            ? ordered
            : certificate.Names.Select(n => IPAddress.TryParse(n, out _) ? new AcmeIdentifier(AcmeIdentifier.IpType, n) : new AcmeIdentifier(AcmeIdentifier.DnsType, n)).ToArray();
        string? replaces = null;
        try
        {
            replaces = AcmeRenewalInfo.GetCertificateId(certificate.Certificate);
        }
        catch (AcmeArgumentException e)
        {
            client.Log.Verbose(e.Message + " The order does not say which certificate it replaces.");
        }

        AcmeKeyAlgorithm? keyAlgorithm = certificate.Order?.KeyAlgorithm
            ?? (certificate.Key is not null && Enum.TryParse(certificate.Key.Name, out AcmeKeyAlgorithm fromKey) ? fromKey : null);
        return NewOrderAsync(client, account, identifiers, name ?? certificate.Name, notBefore, notAfter, profile ?? certificate.Order?.Profile,
            replaces, keyAlgorithm, cancellationToken);
    }

    /// <summary>
    /// Answers the order's challenges with <paramref name="solver"/> (<see cref="OrderFlow.SolveAsync"/>)
    /// and saves the order as it then stands, so a later session resumes from there.
    /// </summary>
    public static async Task<AcmeOrder> SolveAsync(AcmeClient client, AcmeOrder order, IChallengeSolver solver, RetryPolicy policy,
        IProgress<AcmeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        AcmeOrder solved = await OrderFlow.SolveAsync(client, order, solver, policy, progress, cancellationToken).ConfigureAwait(false);
        await SaveOrderAsync(solved, client.Log, cancellationToken).ConfigureAwait(false);
        return solved;
    }

    /// <summary>Saves an order whose state changed (answered, validated); an order not saved is left alone.</summary>
    public static async Task SaveOrderAsync(AcmeOrder order, IAcmeLog log, CancellationToken cancellationToken = default)
    {
        if (order.Store() is not { } store)
        {
            return;
        }

        using (await store.LockCertificateAsync(order.Account.Server, order.Name!, log, cancellationToken).ConfigureAwait(false))
        {
            Write("the order", () => store.WriteOrder(order));
        }
    }

    /// <summary>
    /// Finalizes (or resumes) an order and downloads its certificate. With a saved order, the whole step
    /// holds the certificate's lock; the certificate key is saved before finalize, or, when this order
    /// already has a saved key (a process died after finalize), that key is used and nothing is sent
    /// again; the certificate is saved as the new current version once downloaded.
    /// </summary>
    public static async Task<AcmeCertificate> CompleteOrderAsync(AcmeClient client, AcmeOrder order, AcmeKey? key, AcmeKeyAlgorithm? algorithm,
        byte[]? csr, string? preferredChain, RetryPolicy policy, IProgress<AcmeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        IAcmeLog log = client.Log;
        AcmeStateStore? store = order.Store();
        using StateLock? held = store is null ? null
            : await store.LockCertificateAsync(order.Account.Server, order.Name!, log, cancellationToken).ConfigureAwait(false);
        bool finalizes = order.Status is AcmeOrderStatus.Ready or AcmeOrderStatus.Pending;

        // A retry in this session (after a failed download, say) reuses the key the first attempt made;
        // a later session finds it saved; only then is a new one made.
        key ??= csr is null ? order.CertificateKey : null;
        if (key is null && csr is null && store is not null && store.ReadOrderKey(order) is { } savedKey)
        {
            key = savedKey;
            log.Verbose($"Using the certificate key {savedKey} saved for this order.");
        }

        if (key is null && csr is null && finalizes)
        {
            key = AcmeKey.Generate(algorithm ?? order.KeyAlgorithm ?? store?.ReadKeyAlgorithm(order.Account.Server, order.Name!) ?? AcmeKeyAlgorithm.EC256);
        }

        if (csr is null)
        {
            order.CertificateKey = key;
        }

        if (store is not null && key is not null && finalizes)
        {
            Write("the certificate key and the order that names it", () => store.WriteOrderKey(order, key));
            log.Verbose($"Saved the certificate key {key} before finalizing.");
            await Failpoint.HitAsync(Failpoint.OrderKeySaved, log, cancellationToken).ConfigureAwait(false);
        }

        Func<AcmeOrder, CancellationToken, Task>? finalized = store is null ? null : async (o, token) =>
        {
            Write("the order", () => store.WriteOrder(o));
            await Failpoint.HitAsync(Failpoint.Finalized, log, token).ConfigureAwait(false);
        };
        IReadOnlyList<AcmeCertificate> chains = await OrderFlow.FinalizeAsync(client, order, key, csr, policy, finalized, progress, cancellationToken)
            .ConfigureAwait(false);
        X509Certificate2 leaf = chains[0].Certificate;
        if (key is null && csr is null && store is not null)
        {
            // The same certificate downloaded again: its key is in the version saved the first time.
            key = store.ReadVersionKey(order.Account.Server, order.Name!, leaf.Thumbprint);
        }

        if (key is not null && !key.MatchesCertificate(leaf))
        {
            throw finalizes
                ? new AcmeProtocolException("The CA issued a certificate for a different public key than the one in the request.")
                : new AcmeArgumentException(AcmeErrorId.CertificateKeyMismatch, $"The order's certificate was not issued for the key {key}.");
        }

        if (csr is not null && finalizes && !leaf.GetPublicKey().SequenceEqual(AcmeKey.PublicKeyBits(CsrBuilder.EnsureMatchesOrder(csr, order.Identifiers))))
        {
            throw new AcmeProtocolException("The CA issued a certificate for a different public key than the one in the CSR.");
        }

        foreach (AcmeCertificate chain in chains)
        {
            chain.Key = key;
            chain.Name = order.Name;
            chain.SavedIn = store;
            chain.SavedServer = store is null ? null : order.Account.Server;
        }

        AcmeCertificate issued = ChainSelector.Choose(chains, preferredChain, log);
        log.Verbose($"Issued {issued.Thumbprint} for {string.Join(", ", issued.Names)}, valid until {issued.NotAfter:u}" +
            (chains.Count > 1 ? $"; {chains.Count - 1} alternate chain(s) in AlternateChains." : "."));
        if (store is not null)
        {
            Write("the certificate", () => store.WriteCertificate(issued));
            log.Verbose($"Saved the certificate as the current version of '{order.Name}'.");
        }

        return issued;
    }

    /// <summary>
    /// Whether a certificate is due (see <see cref="RenewalRule"/>). With a CA that offers ARI, its
    /// renewal information is asked for only when the saved answer's Retry-After has passed, and the
    /// moment chosen in the window is kept while the window stays the same; the answer is saved with
    /// the certificate. Without a client (no server known) the lifetime rule decides alone.
    /// </summary>
    public static async Task<AcmeRenewalCheck> CheckRenewalAsync(AcmeClient? client, AcmeCertificate certificate, bool force, DateTimeOffset now,
        IAcmeLog log, CancellationToken cancellationToken = default)
    {
        AcmeStateStore? store = certificate.SavedServer is null ? null : certificate.Store();
        RenewalState? ari = store?.ReadRenewalState(certificate);
        DateTimeOffset notBefore = new(certificate.NotBefore.ToUniversalTime());
        DateTimeOffset notAfter = new(certificate.NotAfter.ToUniversalTime());
        bool revoked = certificate.RevokedAt is not null;

        // RFC 9773 section 4.3 (the schedule for checking): no more checks once the certificate has
        // expired, or when it is replaced anyway (forced, revoked).
        if (client is not null && !force && !revoked && now < notAfter && (ari is null || ari.NeedsCheck(now)))
        {
            try
            {
                AcmeDirectory directory = await client.GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
                if (directory.RenewalInfo is null)
                {
                    ari = null;
                }
                else
                {
                    AcmeRenewalInfo answer = await client.GetRenewalInfoAsync(certificate.Certificate, cancellationToken).ConfigureAwait(false);
                    ari = RenewalState.FromAnswer(answer, ari);
                    if (store is not null)
                    {
                        // Only a cache of the CA's answer: a read-only state folder just asks again next time.
                        using StateLock saving = await store.LockCertificateAsync(certificate.SavedServer!, certificate.Name!, log, cancellationToken,
                            allowReadOnly: true).ConfigureAwait(false);
                        if (saving.ReadOnlyError is { } readOnly)
                        {
                            log.Verbose($"The renewal information is not saved: {readOnly.Message}");
                        }
                        else
                        {
                            RenewalState fresh = ari;
                            Write("the renewal information", () => store.WriteRenewalState(certificate, fresh));
                        }
                    }
                }
            }
            catch (AcmeException e) when (e is not AcmeLocalException)
            {
                // RFC 9773 section 4.2: a client that gets no usable answer treats it "as though they failed
                // to receive any response from the server (e.g., retry at an appropriate interval, renew on a
                // fallback schedule, etc.)": the saved window if there is one, else the lifetime rule.
                string message = $"The renewal information for {certificate.Name ?? certificate.Thumbprint} could not be read ({e.Message}); " +
                    (ari is null ? "the lifetime rule decides." : "the window saved before decides.");
                Warn(log, message);
            }
        }

        RenewalDecision decision = RenewalRule.Decide(notBefore, notAfter, now, ari?.Window, revoked, force);
        return new AcmeRenewalCheck(certificate, decision, ari);
    }

    /// <summary>
    /// New-AcmeCertificate: the certificate saved under <paramref name="name"/> when it has the same
    /// identifiers and is not due (nothing is ordered, Issued is false), otherwise a new one: the saved
    /// account (created when missing), an order (replacing the saved certificate when there is one), the
    /// challenges answered by <paramref name="solver"/>, finalize and download, each step saved. The
    /// certificate's lock is held throughout, so a second process doing the same waits, then finds the
    /// certificate this one issued.
    /// </summary>
    public static async Task<(AcmeCertificate Certificate, bool Issued)> IssueAsync(AcmeClient client, AcmeStateStore store, string name,
        IReadOnlyList<AcmeIdentifier> identifiers, string accountName, IReadOnlyList<string> contact, bool acceptTermsOfService,
        ExternalAccountBinding? binding, AcmeKeyAlgorithm? keyAlgorithm, string? profile, IChallengeSolver solver, RetryPolicy policy, bool force, IProgress<AcmeProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        AcmeServer server = client.Connection.Server;
        IAcmeLog log = client.Log;
        AcmeStateStore.CheckName(name, "a certificate");
        // A read-only state folder still answers "nothing to do" for a valid certificate; it fails
        // (AcmeStateReadOnly) only once something would have to be written.
        using (StateLock held = await store.LockCertificateAsync(server, name, log, cancellationToken, allowReadOnly: true).ConfigureAwait(false))
        {
            AcmeCertificate? existing = store.ReadCertificate(server, name, n => store.ReadAccount(server, n));
            bool sameNames = existing is not null && existing.HasIdentifiers(identifiers);
            if (existing is not null && sameNames && !force)
            {
                AcmeRenewalCheck check = await CheckRenewalAsync(client, existing, false, DateTimeOffset.UtcNow, log, cancellationToken).ConfigureAwait(false);
                if (!check.Due)
                {
                    log.Verbose($"The certificate '{name}' ({existing.Thumbprint}) is valid until {existing.NotAfter:u} and not due before " +
                        $"{check.RenewAt:u}; nothing to do (-Force renews it now).");
                    return (existing, false);
                }

                log.Verbose($"The certificate '{name}' is due ({check.Reason}); renewing it.");
            }
            else if (existing is not null && !sameNames)
            {
                log.Verbose($"The certificate saved as '{name}' is for {string.Join(", ", existing.Names)}; ordering one for the names given.");
            }

            if (held.ReadOnlyError is { } readOnly)
            {
                throw readOnly;
            }

            AcmeAccount account = await FindOrCreateAccountAsync(client, store, accountName, contact, acceptTermsOfService, AcmeKeyAlgorithm.EC256,
                binding, cancellationToken).ConfigureAwait(false);
            string? replaces = null;
            if (existing is not null && sameNames && existing.Order?.Account.Location == account.Location && DateTime.UtcNow < existing.NotAfter.ToUniversalTime())
            {
                try
                {
                    replaces = AcmeRenewalInfo.GetCertificateId(existing.Certificate);
                }
                catch (AcmeArgumentException)
                {
                    // No Authority Key Identifier: nothing to name in "replaces".
                }
            }

            AcmeKeyAlgorithm? algorithm = keyAlgorithm
                ?? (existing?.Key is not null && Enum.TryParse(existing.Key.Name, out AcmeKeyAlgorithm previous) ? previous : null);
            AcmeOrder order;
            try
            {
                order = await FindUnfinishedOrderAsync(client, store, name, account, identifiers, existing, cancellationToken).ConfigureAwait(false)
                    ?? await NewOrderAsync(client, account, identifiers, name, null, null, profile, replaces, algorithm, cancellationToken).ConfigureAwait(false);
            }
            catch (AcmeProblemException e) when (e.Problem.Type == AcmeProblemTypes.AccountDoesNotExist)
            {
                // The CA forgot the saved account (a reset, a staging wipe). Its "replaces" named a
                // certificate of the account that is gone, so the new account orders without it.
                account = await RegisterAgainAsync(client, store, account, acceptTermsOfService, binding, e, cancellationToken).ConfigureAwait(false);
                order = await NewOrderAsync(client, account, identifiers, name, null, null, profile, null, algorithm, cancellationToken).ConfigureAwait(false);
            }
            if (order.Status == AcmeOrderStatus.Pending)
            {
                order = await OrderFlow.SolveAsync(client, order, solver, policy, progress, cancellationToken).ConfigureAwait(false);
                await SaveOrderAsync(order, log, cancellationToken).ConfigureAwait(false);
            }

            AcmeCertificate issued = await CompleteOrderAsync(client, order, null, algorithm, null, null, policy, progress, cancellationToken)
                .ConfigureAwait(false);
            return (issued, true);
        }
    }

    /// <summary>
    /// A saved account the CA answered accountDoesNotExist for, registered again with the same saved
    /// key (newAccount, RFC 8555 section 7.3) and the saved contacts, and saved with its new URL. The
    /// terms count as agreed when the caller agrees now or the saved account recorded agreeing; an
    /// external account binding is sent when given. Says so in a warning.
    /// </summary>
    private static async Task<AcmeAccount> RegisterAgainAsync(AcmeClient client, AcmeStateStore store, AcmeAccount forgotten, bool acceptTermsOfService,
        ExternalAccountBinding? binding, AcmeProblemException problem, CancellationToken cancellationToken)
    {
        string name = forgotten.Name ?? throw problem;
        AcmeAccount account = await NewAccountAsync(client, store, name, forgotten.Key, AcmeKeyAlgorithm.EC256, forgotten.Contact,
            acceptTermsOfService || forgotten.TermsOfServiceAgreed, binding, cancellationToken).ConfigureAwait(false);
        Warn(client.Log, $"{client.Connection.Server.Name} no longer knows the account '{name}' ({forgotten.Location}: {problem.Problem.Describe()}); " +
            $"registered its saved key again as {account.Location} and saved that.");
        return account;
    }

    private static void Warn(IAcmeLog log, string message)
    {
        if (log is IAcmeWarningLog warnings)
        {
            warnings.Warning(message);
        }
        else
        {
            log.Verbose(message);
        }
    }

    /// <summary>
    /// The order saved under the name that an earlier run left unfinished (a process stopped or killed
    /// after newOrder, after answering, after finalize), when the CA still has it usable for the same
    /// account and names: resuming it spends no new order and reuses the certificate key saved before
    /// finalize, so a key the CA has seen is the one used. Null (place a new order) when there is none,
    /// it already gave the saved certificate, it expired, or the CA says it is invalid or gone.
    /// </summary>
    private static async Task<AcmeOrder?> FindUnfinishedOrderAsync(AcmeClient client, AcmeStateStore store, string name, AcmeAccount account,
        IReadOnlyList<AcmeIdentifier> identifiers, AcmeCertificate? existing, CancellationToken cancellationToken)
    {
        AcmeOrder? saved;
        try
        {
            saved = store.ReadOrder(account.Server, name, n => n == account.Name ? account : null);
        }
        catch (AcmeException e) when (e is AcmeArgumentException or AcmeLocalException)
        {
            // Placed by another account, or unreadable: a new order is saved over it.
            client.Log.Verbose($"The order saved as '{name}' is not resumed: {e.Message}");
            return null;
        }

        if (saved is null || saved.Status == AcmeOrderStatus.Invalid || saved.Account.Location != account.Location
            || (existing?.Order is { } done && done.Location == saved.Location)
            || (saved.Expires is { } expires && expires <= DateTimeOffset.UtcNow)
            || !new HashSet<string>(saved.Identifiers.Select(i => i.Value), StringComparer.OrdinalIgnoreCase).SetEquals(identifiers.Select(i => i.Value)))
        {
            return null;
        }

        try
        {
            saved = await client.GetOrderAsync(saved, cancellationToken).ConfigureAwait(false);
        }
        catch (AcmeProblemException e)
        {
            client.Log.Verbose($"The order {saved.Location} saved as '{name}' is not resumed: {e.Message}");
            return null;
        }

        if (saved.Status == AcmeOrderStatus.Invalid)
        {
            return null;
        }

        client.Log.Verbose($"Resuming the unfinished order {saved.Location} saved as '{name}' ({saved.Status}) instead of placing a new one.");
        return saved;
    }

    /// <summary>Records in the state folder that the certificate was revoked, so the renewal check says Revoked.</summary>
    public static async Task RecordRevocationAsync(AcmeCertificate certificate, AcmeRevocationReason? reason, IAcmeLog log,
        CancellationToken cancellationToken = default)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        certificate.RevokedAt = now;
        if (certificate.Store() is not { } store || certificate.SavedServer is not { } server)
        {
            return;
        }

        using (await store.LockCertificateAsync(server, certificate.Name!, log, cancellationToken).ConfigureAwait(false))
        {
            Write("the revocation", () => store.WriteRevocation(certificate, now, reason?.ToString()));
        }
    }

    /// <summary>Removes a saved order (the certificate's issued versions stay).</summary>
    public static async Task RemoveOrderAsync(AcmeOrder order, IAcmeLog log, CancellationToken cancellationToken = default)
    {
        AcmeStateStore store = order.Store() ?? throw NotSaved("order", string.Join(", ", order.Names));
        using (await store.LockCertificateAsync(order.Account.Server, order.Name!, log, cancellationToken).ConfigureAwait(false))
        {
            Write("the order's removal", () => store.DeleteOrder(order));
        }

        store.DeleteEmptyFolder(order.Account.Server, order.Name!);
    }

    /// <summary>Removes everything saved under the certificate's name: its versions, keys and order.</summary>
    public static async Task RemoveCertificateAsync(AcmeCertificate certificate, IAcmeLog log, CancellationToken cancellationToken = default)
    {
        AcmeStateStore store = certificate.Store() ?? throw NotSaved("certificate", string.Join(", ", certificate.Names));
        AcmeServer server = certificate.SavedServer ?? throw NotSaved("certificate", string.Join(", ", certificate.Names));
        using (await store.LockCertificateAsync(server, certificate.Name!, log, cancellationToken).ConfigureAwait(false))
        {
            Write("the certificate's removal", () => store.DeleteCertificate(server, certificate.Name!));
        }

        store.DeleteEmptyFolder(server, certificate.Name!);
    }

    /// <summary>A file system failure while saving, as AcmeStateWriteFailed naming what was being saved.</summary>
    private static void Write(string what, Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AcmeLocalException(AcmeErrorId.StateWriteFailed, $"Could not save {what} in the state folder: {e.Message}", e);
        }
    }

    private static AcmeArgumentException NotSaved(string what, string names) =>
        new(AcmeErrorId.NotSaved, $"The {what} for {names} is not saved in a state folder, so there is nothing to remove.");
}
