using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Challenges.Dns01;
using Acme.Protocol.Client;
using Acme.Protocol.Crypto;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Issuance;
using Acme.Protocol.Model;
using Acme.Protocol.Renewal;
using static Acme.Protocol.State.StepSupport;

namespace Acme.Protocol.State;

/// <summary>
/// Issue or renew: whether a saved certificate is due (with the CA's renewal information, saved with
/// it), New-AcmeCertificate's whole run (the saved certificate when not due, otherwise the account,
/// order and finalize steps), and recording a revocation. The pipeline cmdlets and New-AcmeCertificate
/// call these same steps.
/// </summary>
public static class CertificateSteps
{
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

        // A failed renewal holds the decision back until its NextAttempt (RenewalBackoff).
        RenewalFailure? failure = store?.ReadRenewalFailure(certificate);
        RenewalDecision decision = RenewalBackoff.Apply(RenewalRule.Decide(notBefore, notAfter, now, ari?.Window, revoked, force), failure, now);
        return new AcmeRenewalCheck(certificate, decision, ari, failure);
    }

    /// <summary>
    /// The watch on a certificate validated with dns-persist-01: each saved record is read from the name
    /// servers (<paramref name="checker"/>) and one that will not validate the next renewal (the latest
    /// moment it is expected, <see cref="RenewalRule.NextRenewal"/>) is a warning with the record to set,
    /// kept in <see cref="AcmeRenewalCheck.PersistentRecordProblems"/>. Whether the certificate is due
    /// does not change. No lookup at all for a certificate without such records.
    /// </summary>
    public static async Task CheckPersistentRecordsAsync(AcmeRenewalCheck check, Func<DnsPropagationChecker> checker, DateTimeOffset now, IAcmeLog log,
        CancellationToken cancellationToken = default)
    {
        IReadOnlyList<AcmePersistentRecord> records = check.Certificate.PersistentRecords;
        if (records.Count == 0)
        {
            return;
        }

        DateTimeOffset next = check.NextRenewal(now);
        log.Verbose($"Checking {records.Count} dns-persist-01 record(s) of {check.Name ?? check.Certificate.Thumbprint} for the next renewal (by {next:u}).");
        check.PersistentRecordProblems = await PersistentRecordWatch.CheckAsync(records, checker(), next, cancellationToken).ConfigureAwait(false);
        foreach (AcmePersistentRecordProblem problem in check.PersistentRecordProblems)
        {
            Warn(log, problem.ToString());
        }
    }

    /// <summary>
    /// New-AcmeCertificate: the certificate saved under <paramref name="name"/> when it has the same
    /// identifiers and is not due (nothing is ordered, Issued is false), otherwise a new one: the saved
    /// account (created when missing), an order (replacing the saved certificate when there is one), the
    /// challenges answered by <paramref name="solver"/>, finalize and download, each step saved. The
    /// certificate's lock is held throughout, so a second process doing the same waits, then finds the
    /// certificate this one issued. <paramref name="replaceIf"/> forces a renewal when it holds for the version
    /// read under the lock (Start-AcmeRenewalWorker -IssuedBefore). The certificate returned carries Result (Issued, Renewed or Unchanged; the
    /// caller that re-exports makes it Reexported) and RenewAt.
    /// </summary>
    public static async Task<(AcmeCertificate Certificate, bool Issued)> IssueAsync(AcmeClient client, AcmeStateStore store, string name,
        IReadOnlyList<AcmeIdentifier> identifiers, string accountName, IReadOnlyList<string> contact, bool acceptTermsOfService,
        ExternalAccountBinding? binding, AcmeKeyAlgorithm? keyAlgorithm, string? profile, IChallengeSolver solver, RetryPolicy policy, bool force, IProgress<AcmeProgress>? progress = null,
        CancellationToken cancellationToken = default, int keepVersions = AcmeStateStore.DefaultKeepVersions, Func<AcmeCertificate, bool>? replaceIf = null)
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
            // Decided on the version read under the lock: one another process put in place meanwhile is judged itself.
            force = force || existing is not null && replaceIf?.Invoke(existing) == true;
            if (existing is not null && sameNames && !force)
            {
                AcmeRenewalCheck check = await CheckRenewalAsync(client, existing, false, DateTimeOffset.UtcNow, log, cancellationToken).ConfigureAwait(false);
                if (!check.Due)
                {
                    log.Verbose($"The certificate '{name}' ({existing.Thumbprint}) is valid until {existing.NotAfter:u} and not due before " +
                        $"{check.RenewAt:u}; nothing to order.");
                    existing.Result = AcmeIssueResult.Unchanged;
                    existing.RenewAt = check.RenewAt;
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

            try
            {
                return (await RenewAsync(existing, sameNames).ConfigureAwait(false), true);
            }
            catch (Exception e) when (existing is not null && RenewalFailureSteps.Counts(e))
            {
                // Remembered with the certificate this run was to replace: the next check backs off.
                RenewalFailureSteps.RecordHeld(store, existing, e, DateTimeOffset.UtcNow, log);
                throw;
            }
        }

        // The account, order, challenges and finalize, under the lock taken above.
        async Task<AcmeCertificate> RenewAsync(AcmeCertificate? existing, bool sameNames)
        {
            AcmeAccount account = await AccountSteps.FindOrCreateAccountAsync(client, store, accountName, contact, acceptTermsOfService, AcmeKeyAlgorithm.EC256,
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
                order = await OrderSteps.FindUnfinishedOrderAsync(client, store, name, account, identifiers, existing, cancellationToken).ConfigureAwait(false)
                    ?? await OrderSteps.NewOrderAsync(client, account, identifiers, name, null, null, profile, replaces, algorithm, cancellationToken).ConfigureAwait(false);
            }
            catch (AcmeProblemException e) when (e.Problem.Type == AcmeProblemTypes.AccountDoesNotExist)
            {
                // The CA forgot the saved account (a reset, a staging wipe). Its "replaces" named a
                // certificate of the account that is gone, so the new account orders without it.
                account = await AccountSteps.RegisterAgainAsync(client, store, account, acceptTermsOfService, binding, e, cancellationToken).ConfigureAwait(false);
                order = await OrderSteps.NewOrderAsync(client, account, identifiers, name, null, null, profile, null, algorithm, cancellationToken).ConfigureAwait(false);
            }
            if (order.Status == AcmeOrderStatus.Pending)
            {
                // Saved as it then stands, also when validation fails or the run is stopped.
                order = await OrderSteps.SolveAsync(client, order, solver, policy, progress, cancellationToken).ConfigureAwait(false);
            }

            AcmeCertificate issued = await OrderSteps.CompleteOrderAsync(client, order, null, algorithm, null, null, policy, progress, cancellationToken,
                keepVersions).ConfigureAwait(false);
            issued.Result = existing is null ? AcmeIssueResult.Issued : AcmeIssueResult.Renewed;
            issued.RenewAt = RenewalRule.LifetimeRenewAt(new DateTimeOffset(issued.NotBefore.ToUniversalTime()), new DateTimeOffset(issued.NotAfter.ToUniversalTime()));
            return issued;
        }
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

    /// <summary>
    /// Records an export on the certificate (CertFile, KeyFile, ... PfxFile) and, when it is saved, in its
    /// version's certificate.json, so Get-AcmeCertificate says where the current version was written.
    /// </summary>
    public static async Task RecordExportAsync(AcmeCertificate certificate, CertificateExport export, IAcmeLog log,
        CancellationToken cancellationToken = default)
    {
        certificate.SetExport(export);
        if (certificate.Store() is not { } store || certificate.SavedServer is not { } server || certificate.Name is null)
        {
            return;
        }

        using (await store.LockCertificateAsync(server, certificate.Name, log, cancellationToken).ConfigureAwait(false))
        {
            Write("the export", () => store.WriteExport(certificate, export));
        }
    }
}
