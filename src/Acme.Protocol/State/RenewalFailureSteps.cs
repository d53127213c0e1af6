using System;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.Renewal;
using static Acme.Protocol.State.StepSupport;

namespace Acme.Protocol.State;

/// <summary>
/// A failed renewal, remembered with the saved certificate it was to replace so the next renewal
/// check backs off (<see cref="RenewalBackoff"/>), and forgotten when a renewal succeeds.
/// New-AcmeCertificate and the pipeline cmdlets (Start-*Challenge, Complete-AcmeOrder) record it.
/// </summary>
public static class RenewalFailureSteps
{
    /// <summary>
    /// Whether <paramref name="error"/> counts as a failed renewal: what the CA refused or could not
    /// answer, a validation that failed, a wait that timed out. Bad input and local failures (a port
    /// in use, a read-only state folder) do not: fixing them must not wait for a backoff.
    /// </summary>
    public static bool Counts(Exception error) =>
        error is AcmeException && error is not AcmeArgumentException && error is not AcmeLocalException;

    /// <summary>Records <paramref name="error"/> as the certificate's last failed renewal at <paramref name="now"/>; a failure to save it is only logged.</summary>
    public static async Task<RenewalFailure?> RecordAsync(AcmeCertificate? certificate, Exception error, DateTimeOffset now, IAcmeLog log,
        CancellationToken cancellationToken = default)
    {
        if (certificate?.Name is null || certificate.SavedServer is not { } server || certificate.Store() is not { } store || !Counts(error))
        {
            return null;
        }

        try
        {
            using StateLock held = await store.LockCertificateAsync(server, certificate.Name, log, cancellationToken, allowReadOnly: true).ConfigureAwait(false);
            if (held.ReadOnlyError is not null)
            {
                log.Verbose("The failed renewal is not saved: the state folder is read-only.");
                return null;
            }

            return RecordHeld(store, certificate, error, now, log);
        }
        catch (Exception e) when (e is AcmeException || e is OperationCanceledException)
        {
            log.Verbose($"The failed renewal of '{certificate.Name}' is not saved: {e.Message}");
            return null;
        }
    }

    /// <summary>
    /// The pipeline's failure (Start-*Challenge, Complete-AcmeOrder) for an order saved under a
    /// certificate name: recorded with the certificate saved under that name, which it was to renew.
    /// A first issuance (nothing saved yet) records nothing.
    /// </summary>
    public static async Task<RenewalFailure?> RecordForOrderAsync(AcmeOrder order, Exception error, DateTimeOffset now, IAcmeLog log,
        CancellationToken cancellationToken = default)
    {
        if (order?.Name is null || order.Store() is not { } store || !Counts(error))
        {
            return null;
        }

        AcmeCertificate? saved;
        try
        {
            AcmeServer server = order.Account.Server;
            saved = store.ReadCertificate(server, order.Name, n => store.ReadAccount(server, n));
        }
        catch (Exception e) when (e is AcmeException || e is System.IO.IOException)
        {
            log.Verbose($"The failed renewal of '{order.Name}' is not saved: {e.Message}");
            return null;
        }

        return saved is null ? null : await RecordAsync(saved, error, now, log, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records the failure while the caller holds the certificate's lock; a failure to save it is only logged.</summary>
    internal static RenewalFailure? RecordHeld(AcmeStateStore store, AcmeCertificate certificate, Exception error, DateTimeOffset now, IAcmeLog log)
    {
        try
        {
            RenewalFailure? previous = store.ReadRenewalFailure(certificate);
            RenewalFailure failure = RenewalBackoff.After(previous, error.Message, ErrorIdOf(error), now,
                new DateTimeOffset(certificate.NotAfter.ToUniversalTime()), (error as AcmeProblemException)?.RetryAt);
            Write("the failed renewal", () => store.WriteRenewalFailure(certificate, failure));
            log.Verbose($"The renewal of '{certificate.Name}' failed ({failure.Failures} in a row); the next try is not before {failure.NextAttempt:u} " +
                "(a forced renewal tries at once).");
            return failure;
        }
        catch (AcmeException e)
        {
            log.Verbose($"The failed renewal of '{certificate.Name}' is not saved: {e.Message}");
            return null;
        }
    }

    private static string? ErrorIdOf(Exception error) => error switch
    {
        AcmeProblemException problem => problem.Problem.Type,
        AcmeProtocolException protocol => protocol.ErrorId,
        AcmeTimeoutException => "Acme" + AcmeErrorId.Timeout,
        AcmeConnectionException => "Acme" + AcmeErrorId.ConnectionFailed,
        _ => null,
    };
}
