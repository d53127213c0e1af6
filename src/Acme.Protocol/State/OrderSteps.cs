using System;
using System.Collections.Generic;
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
using static Acme.Protocol.State.StepSupport;

namespace Acme.Protocol.State;

/// <summary>
/// The order steps with the state folder: placing an order (or its replacement), answering its
/// challenges, saving it, resuming one an earlier run left unfinished, and finalizing with the
/// certificate key saved before finalize. Each saves what changed under the certificate's lock. An
/// order that is not saved (no name) goes through unchanged, touching no file.
/// </summary>
public static class OrderSteps
{
    /// <summary>newOrder; with a saved account the order is saved too, under <paramref name="name"/> or its first identifier.</summary>
    public static async Task<AcmeOrder> NewOrderAsync(AcmeClient client, AcmeAccount account, IReadOnlyList<AcmeIdentifier> identifiers, string? name,
        DateTimeOffset? notBefore, DateTimeOffset? notAfter, string? profile, string? replaces, AcmeKeyAlgorithm? keyAlgorithm,
        CancellationToken cancellationToken = default, bool resumeUnfinished = false, AcmeCertificate? renewing = null)
    {
        bool saved = account.Store() is not null && account.Name is not null;
        if (saved)
        {
            name = AcmeStateStore.CheckName(name ?? AcmeStateStore.NameFor(identifiers), "a certificate");
            if (resumeUnfinished && await FindUnfinishedOrderAsync(client, account.Store()!, name, account, identifiers,
                    renewing ?? Current(account, name, client.Log), cancellationToken).ConfigureAwait(false) is { } unfinished)
            {
                // Under a lease taken after another host's lapsed (it died mid-order): its saved order, not a second one.
                return unfinished;
            }
        }

        AcmeOrder order;
        try
        {
            order = await client.NewOrderAsync(account, identifiers, notBefore, notAfter, profile, replaces, cancellationToken).ConfigureAwait(false);
        }
        catch (AcmeAlreadyReplacedException e) when (replaces is not null)
        {
            // RFC 9773 section 5: the server rejects a "replaces" naming a certificate that already has a
            // replacement order. That order (an earlier run's, left unfinished, or another machine's) would
            // block every later renewal, so this one is placed without saying what it replaces; the user
            // hears it, since two replacements of one certificate often mean two renewers of one name.
            StepSupport.Warn(client.Log, $"The CA {client.Connection.Server} already has an order replacing the certificate {replaces} " +
                $"(alreadyReplaced: {e.Problem.Describe()}); this order is placed without 'replaces', so the CA does not link it to that certificate. " +
                "If another machine or task also renews this name, let only one do it.");
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

    /// <summary>The certificate saved under the name, whose own order is never resumed; null when there is none or it cannot be read.</summary>
    private static AcmeCertificate? Current(AcmeAccount account, string name, Diagnostics.IAcmeLog log)
    {
        AcmeStateStore store = account.Store()!;
        try
        {
            return store.ReadCertificate(account.Server, name, n => n == account.Name ? account : store.ReadAccount(account.Server, n));
        }
        catch (AcmeException e)
        {
            log.Verbose($"The certificate saved as '{name}' could not be read ({e.Message}).");
            return null;
        }
    }

    /// <summary>
    /// The order that renews <paramref name="certificate"/>: the same account (the one that ordered it,
    /// unless another is given), identifiers, profile and key type, under the same name, with "replaces"
    /// naming it (RFC 9773 section 5) when the CA offers renewal information.
    /// </summary>
    public static Task<AcmeOrder> NewReplacementOrderAsync(AcmeClient client, AcmeCertificate certificate, AcmeAccount? account, string? name,
        DateTimeOffset? notBefore, DateTimeOffset? notAfter, string? profile, CancellationToken cancellationToken = default, bool resumeUnfinished = false)
    {
        account ??= certificate.Order?.Account ?? throw new AcmeArgumentException(AcmeErrorId.NoAccount,
            $"The certificate {certificate.Thumbprint} does not say which account ordered it.");
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
            replaces, keyAlgorithm, cancellationToken, resumeUnfinished, certificate);
    }

    /// <summary>
    /// Answers the order's challenges with <paramref name="solver"/> (<see cref="OrderFlow.SolveAsync"/>)
    /// and saves the order as it then stands, so a later session resumes from there.
    /// </summary>
    public static async Task<AcmeOrder> SolveAsync(AcmeClient client, AcmeOrder order, IChallengeSolver solver, RetryPolicy policy,
        IProgress<AcmeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        AcmeOrder solved;
        try
        {
            solved = await OrderFlow.SolveAsync(client, order, solver, policy, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AcmeException or OperationCanceledException && e is not AcmeArgumentException and not AcmeLocalException
            && order.Store() is not null)
        {
            // Input refused or a local step that failed (a port in use, a web root not writable) before the
            // CA was told anything leaves the order as it was: nothing to re-read or save then.
            await SaveFailedOrderAsync(client, order, e, cancellationToken.IsCancellationRequested).ConfigureAwait(false);
            throw;
        }

        await SaveOrderAsync(solved, client.Log, cancellationToken).ConfigureAwait(false);
        return solved;
    }

    /// <summary>
    /// After a validation that failed or was stopped, the order as the CA now has it (invalid once an
    /// authorization is, RFC 8555 section 7.1.6) is saved, so the state folder does not say Pending for
    /// an order that can never be valid. The cancelled token cannot be used, so this gets its own, short one;
    /// when the CA cannot be read, what is known locally is saved.
    /// </summary>
    private static async Task SaveFailedOrderAsync(AcmeClient client, AcmeOrder order, Exception failure, bool cancelled)
    {
        using var own = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await client.GetOrderAsync(order, own.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AcmeException or OperationCanceledException)
        {
            client.Log.Verbose($"The order {order.Location} could not be re-read after {(cancelled ? "the stop" : "the failure")} ({e.Message}); saving it as last seen.");
            if (failure is AcmeException && order.Authorizations.Any(a => a.Status == AcmeAuthorizationStatus.Invalid))
            {
                order.Status = AcmeOrderStatus.Invalid;
            }
        }

        try
        {
            await SaveOrderAsync(order, client.Log, own.Token).ConfigureAwait(false);
            client.Log.Verbose($"Saved the order '{order.Name}' as {AcmeStatusParser.ToWire(order.Status)}.");
        }
        catch (Exception e) when (e is AcmeException or OperationCanceledException)
        {
            client.Log.Verbose($"The order '{order.Name}' could not be saved after {(cancelled ? "the stop" : "the failure")}: {e.Message}");
        }
    }

    /// <summary>
    /// Re-reads a saved order and its authorizations from the CA (RFC 8555 section 7.4, POST-as-GET) and
    /// saves it as the CA now has it.
    /// </summary>
    public static async Task<AcmeOrder> RefreshOrderAsync(AcmeClient client, AcmeOrder order, CancellationToken cancellationToken = default)
    {
        await client.GetOrderAsync(order, cancellationToken).ConfigureAwait(false);
        await client.RefreshAuthorizationsAsync(order, cancellationToken).ConfigureAwait(false);
        await SaveOrderAsync(order, client.Log, cancellationToken).ConfigureAwait(false);
        return order;
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
    /// again; the certificate is saved as the new current version once downloaded, and the oldest
    /// versions beyond <paramref name="keepVersions"/> (the current one counts) are removed.
    /// </summary>
    public static async Task<AcmeCertificate> CompleteOrderAsync(AcmeClient client, AcmeOrder order, AcmeKey? key, AcmeKeyAlgorithm? algorithm,
        byte[]? csr, string? preferredChain, RetryPolicy policy, IProgress<AcmeProgress>? progress = null, CancellationToken cancellationToken = default,
        int keepVersions = AcmeStateStore.DefaultKeepVersions)
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
            IReadOnlyList<string> pruned = Array.Empty<string>();
            Write("the certificate", () => pruned = store.WriteCertificate(issued, keepVersions));
            log.Verbose($"Saved the certificate as the current version of '{order.Name}'." +
                (pruned.Count > 0 ? $" Removed {pruned.Count} older version(s) beyond the {keepVersions} kept: {string.Join(", ", pruned)}." : string.Empty));
        }

        return issued;
    }

    /// <summary>
    /// The order saved under the name that an earlier run left unfinished (a process stopped or killed
    /// after newOrder, after answering, after finalize), when the CA still has it usable for the same
    /// account and names: resuming it spends no new order and reuses the certificate key saved before
    /// finalize, so a key the CA has seen is the one used. Null (place a new order) when there is none,
    /// it already gave the saved certificate, it expired, or the CA says it is invalid or gone.
    /// </summary>
    internal static async Task<AcmeOrder?> FindUnfinishedOrderAsync(AcmeClient client, AcmeStateStore store, string name, AcmeAccount account,
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
}
