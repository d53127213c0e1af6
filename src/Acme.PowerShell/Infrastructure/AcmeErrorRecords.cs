using System;
using System.Globalization;
using System.Management.Automation;
using System.Text;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Infrastructure;

/// <summary>
/// The one place that turns an exception into an ErrorRecord: a stable ErrorId, the matching
/// ErrorCategory, the target, and ErrorDetails carrying the server's detail ("Clients SHOULD display
/// the 'detail' field of all errors", RFC 8555 section 6.7) and a recommended action.
/// </summary>
public static class AcmeErrorRecords
{
    public static ErrorRecord Create(Exception exception, object? target)
    {
        if (exception is AggregateException aggregate && aggregate.InnerExceptions.Count == 1)
        {
            exception = aggregate.InnerExceptions[0];
        }

        (string id, ErrorCategory category, string? details, string? action) = Classify(exception);
        var record = new ErrorRecord(exception, id, category, target);
        if (details is not null)
        {
            record.ErrorDetails = new ErrorDetails(details);
        }

        if (action is not null)
        {
            record.ErrorDetails ??= new ErrorDetails(exception.Message);
            record.ErrorDetails.RecommendedAction = action;
        }

        return record;
    }

    private static (string Id, ErrorCategory Category, string? Details, string? Action) Classify(Exception e)
    {
        switch (e)
        {
            case AcmeArgumentException a:
                return (a.ErrorId, ArgumentCategory(a.ErrorId), null, ArgumentAction(a.ErrorId));
            case AcmeLocalException l:
                return (l.ErrorId, LocalCategory(l.ErrorId), null, LocalAction(l.ErrorId));
            case AcmeAuthorizationFailedException f:
                return ("AcmeAuthorizationFailed", ProblemCategory(f.Problem), f.Message,
                    $"Check that {CaText.Clean(f.Authorization.Identifier.Value, CaText.MaxField)} reaches this machine's answer for the challenge, then order again.");
            case AcmeBadNonceException n:
                return ("AcmeBadNonce", ErrorCategory.ProtocolError, ProblemText(n.Problem, "The CA kept refusing fresh nonces"),
                    "The CA rejected every retry's nonce; try again later.");
            case AcmeRateLimitedException r:
                return ("AcmeRateLimited", ErrorCategory.LimitsExceeded, ProblemText(r.Problem, "The CA's rate limit was reached"),
                    r.RetryAfter is TimeSpan wait
                        ? $"Retry after {DateTimeOffset.Now.Add(wait).ToString("u", CultureInfo.InvariantCulture)} ({Math.Ceiling(wait.TotalSeconds)} seconds)."
                        : "Wait before retrying; see the CA's rate limit documentation.");
            case AcmeServerException s:
                return ("AcmeServerUnavailable", ErrorCategory.ResourceUnavailable, ProblemText(s.Problem, "The CA is unavailable"), ServerErrorAction(s));
            case AcmeOrderFailedException o:
                return ("AcmeOrderFailed", ProblemCategory(o.Problem), ProblemText(o.Problem, $"The order {o.Order.Location} failed"), null);
            case AcmeProblemException p when p.Problem.Type == AcmeProblemTypes.ServerInternal || (p.Problem.Status ?? 0) >= 500:
                // A problem document on a 5xx: the server's own type, and its Retry-After when it sent one.
                return (ProblemErrorId(p.Problem), ProblemCategory(p.Problem), ProblemText(p.Problem, "The CA had a server error"),
                    ProblemAction(p.Problem) ?? ServerErrorAction(p));
            case AcmeProblemException p:
                return (ProblemErrorId(p.Problem), ProblemCategory(p.Problem), ProblemText(p.Problem, "The CA refused the request"),
                    ProblemAction(p.Problem) ?? (p.RetryAfter is TimeSpan later ? $"The CA asked to come back after {At(later)} ({Math.Ceiling(later.TotalSeconds)} seconds)." : null));
            case AcmeProtocolException v:
                return (v.ErrorId, ProtocolCategory(v.ErrorId), null, ProtocolAction(v.ErrorId));
            case AcmeTimeoutException t:
                return ("AcmeTimeout", ErrorCategory.OperationTimeout, null, TimeoutAction(t));
            case AcmeConnectionException:
                return ("AcmeConnectionFailed", ErrorCategory.ConnectionError, null, "Check the server URL, the network and the server's TLS certificate (use -TrustedRootCertificate for a private CA).");
            case UnauthorizedAccessException:
                return ("AcmeAccessDenied", ErrorCategory.PermissionDenied, null, null);
            case System.IO.IOException:
                return ("AcmeFileError", ErrorCategory.WriteError, null, null);
            default:
                return ("AcmeUnexpectedError", ErrorCategory.NotSpecified, null, null);
        }
    }

    private static string At(TimeSpan wait) => DateTimeOffset.Now.Add(wait).ToString("u", CultureInfo.InvariantCulture);

    private static string ServerErrorAction(AcmeProblemException e) => e.RetryAfter is TimeSpan busy
        ? $"The CA asked to come back after {At(busy)} ({Math.Ceiling(busy.TotalSeconds)} seconds); retry then."
        : "The CA had a server error; retry later.";

    private static string TimeoutAction(AcmeTimeoutException t)
    {
        if (t.SuggestedRetryAt is DateTimeOffset at)
        {
            return $"The CA suggested trying again at {at.ToLocalTime().ToString("u", CultureInfo.InvariantCulture)}.";
        }

        if (t.RequestTimeout is TimeSpan limit)
        {
            // -TimeoutSec bounds a poll, not one request: suggesting it would send the user nowhere.
            return $"The CA did not answer one request within {limit.TotalSeconds:0.###} seconds, a fixed per-request limit (-TimeoutSec does not change it). " +
                "Check the CA's status and the network, then run the command again.";
        }

        return "Retry with a longer -TimeoutSec.";
    }

    private static ErrorCategory ProtocolCategory(string id) => id switch
    {
        "AcmeChainTooLong" => ErrorCategory.InvalidData,
        _ => ErrorCategory.ProtocolError,
    };

    private static string? ProtocolAction(string id) => id switch
    {
        "AcmeChainTooLong" => "The CA sent a certificate chain no CA needs; nothing was saved or exported. Report it to the CA, " +
            "or download the certificate again later (Complete-AcmeOrder resumes the order).",
        _ => null,
    };

    private static string ProblemText(AcmeProblem problem, string lead)
    {
        var sb = new StringBuilder(lead).Append(": ").Append(problem.Describe());
        sb.Append(" (").Append(CaText.Clean(problem.ShortType, CaText.MaxField));
        if (problem.Status is int status)
        {
            sb.Append(", HTTP ").Append(status);
        }

        sb.Append(')');
        return sb.ToString();
    }

    /// <summary>"Acme" and the problem's short type in Pascal case: rejectedIdentifier becomes AcmeRejectedIdentifier.</summary>
    internal static string ProblemErrorId(AcmeProblem problem)
    {
        if (!problem.Type.StartsWith(AcmeProblemTypes.Namespace, StringComparison.Ordinal))
        {
            return (problem.Status ?? 0) >= 500 ? "AcmeServerUnavailable" : "AcmeServerError";
        }

        string shortType = problem.ShortType;
        return shortType.Length == 0 ? "AcmeServerError" : "Acme" + char.ToUpperInvariant(shortType[0]) + shortType.Substring(1);
    }

    internal static ErrorCategory ProblemCategory(AcmeProblem problem)
    {
        if (problem.Type == AcmeProblemTypes.Compound && problem.Subproblems.Count > 0)
        {
            return ProblemCategory(problem.Subproblems[0]);
        }

        return problem.Type switch
        {
            AcmeProblemTypes.Malformed or AcmeProblemTypes.BadCsr or AcmeProblemTypes.BadPublicKey or AcmeProblemTypes.BadSignatureAlgorithm
                or AcmeProblemTypes.BadRevocationReason or AcmeProblemTypes.InvalidContact or AcmeProblemTypes.UnsupportedContact
                or AcmeProblemTypes.UnsupportedIdentifier or AcmeProblemTypes.InvalidProfile => ErrorCategory.InvalidArgument,
            AcmeProblemTypes.RejectedIdentifier or AcmeProblemTypes.Caa or AcmeProblemTypes.Unauthorized => ErrorCategory.PermissionDenied,
            AcmeProblemTypes.AccountDoesNotExist => ErrorCategory.ObjectNotFound,
            AcmeProblemTypes.ExternalAccountRequired => ErrorCategory.AuthenticationError,
            AcmeProblemTypes.RateLimited => ErrorCategory.LimitsExceeded,
            AcmeProblemTypes.OrderNotReady or AcmeProblemTypes.UserActionRequired => ErrorCategory.InvalidOperation,
            AcmeProblemTypes.AlreadyRevoked or AcmeProblemTypes.AlreadyReplaced => ErrorCategory.ResourceExists,
            AcmeProblemTypes.Connection or AcmeProblemTypes.Dns or AcmeProblemTypes.Tls => ErrorCategory.ConnectionError,
            AcmeProblemTypes.IncorrectResponse => ErrorCategory.InvalidResult,
            AcmeProblemTypes.ServerInternal => ErrorCategory.ResourceUnavailable,
            AcmeProblemTypes.BadNonce => ErrorCategory.ProtocolError,
            _ => (problem.Status ?? 0) >= 500 ? ErrorCategory.ResourceUnavailable : ErrorCategory.InvalidOperation,
        };
    }

    private static string? ProblemAction(AcmeProblem problem) => problem.Type switch
    {
        AcmeProblemTypes.ExternalAccountRequired => ExternalAccountAction,
        AcmeProblemTypes.UserActionRequired => problem.Instance is null ? "Visit the CA's website and follow its instructions." : $"Visit {CaText.Clean(problem.Instance, CaText.MaxField * 4)} and follow the instructions there.",
        AcmeProblemTypes.RejectedIdentifier => "The CA will not issue for this name; check its policy.",
        AcmeProblemTypes.Caa => "Add the CA to the domain's CAA records, or remove the records that forbid it.",
        AcmeProblemTypes.AccountDoesNotExist => "No account exists for this key on this server (a CA that was reset forgets its accounts). " +
            "New-AcmeCertificate registers a saved account's key again by itself; or run New-AcmeAccount -Name <the same name> to register the saved key again, " +
            "or New-AcmeAccount to create another account.",
        AcmeProblemTypes.AlreadyReplaced => "Another order already replaces this certificate: finish that order, or order again without -Replaces.",
        AcmeProblemTypes.AlreadyRevoked => "Nothing to do: the CA already lists the certificate as revoked.",
        AcmeProblemTypes.InvalidProfile => "Use one of the profiles Get-AcmeDirectory lists, or leave out -Profile.",
        _ => null,
    };

    private const string ExternalAccountAction =
        "This CA requires external account binding: pass -ExternalAccountBinding (a PSCredential whose user name is the key id and " +
        "whose password is the HMAC key the CA issued), or -ExternalAccountKeyId with -ExternalAccountKeyPath (a file holding the HMAC key).";

    private static string? ArgumentAction(string id) => id switch
    {
        "AcmeExternalAccountRequired" => ExternalAccountAction,
        "AcmeUnknownProfile" => "Use one of the profiles Get-AcmeDirectory lists, or leave out -Profile.",
        "AcmeCsrMismatch" => "Make the CSR name exactly the order's identifiers, or order exactly the CSR's names.",
        "AcmeServerRequired" => "Pass -Account (the account that ordered the certificate) or -Server.",
        "AcmeFileExists" => "Choose another path, or pass -Force to replace the file.",
        "AcmeKeyPasswordRequired" => "Give the passphrase with -KeyPassphrase (the state folder's keys), -KeyPassword or -CertificateKeyPassword (a key or PFX file), or set ACME_KEY_PASSPHRASE.",
        "AcmeAccountNotFound" => "List the saved accounts with Get-AcmeAccount, or create this one with New-AcmeAccount -Name.",
        "AcmeAccountExists" => "Use the saved account (Get-AcmeAccount -Name), or give another -Name.",
        "AcmeDnsScriptInvalid" => "Define the functions Add-AcmeDnsRecord and Remove-AcmeDnsRecord, each with param($RecordName, $Value, $Identifier), in the script (Get-Help about_Acme_Dsc).",
        _ => null,
    };

    private static ErrorCategory ArgumentCategory(string id) => id switch
    {
        "AcmeOrderNotReady" or "AcmeOrderNotValid" => ErrorCategory.InvalidOperation,
        "AcmeChallengeTypeUnavailable" => ErrorCategory.InvalidOperation,
        "AcmeChallengeAlreadySubmitted" => ErrorCategory.InvalidOperation,
        "AcmeWebRootNotFound" or "AcmeStoreNotFound" => ErrorCategory.ObjectNotFound,
        "AcmeKeyPasswordIncorrect" => ErrorCategory.AuthenticationError,
        "AcmeExternalAccountRequired" => ErrorCategory.AuthenticationError,
        "AcmeAccountKeyInUse" or "AcmeFileExists" or "AcmeAccountExists" => ErrorCategory.ResourceExists,
        "AcmeNotSaved" => ErrorCategory.InvalidOperation,
        "AcmeAccountNotFound" or "AcmeCertificateNotFound" => ErrorCategory.ObjectNotFound,
        "AcmeOrderNotFound" or "AcmeRenewalInfoNotFound" or "AcmeKeyFileNotFound" or "AcmeCertificateFileNotFound" or "AcmeCsrFileNotFound"
            => ErrorCategory.ObjectNotFound,
        "AcmeKeyChangeUnsupported" or "AcmeRevocationUnsupported" or "AcmeRenewalInfoUnsupported" => ErrorCategory.NotImplemented,
        "AcmeCsrMismatch" or "AcmeCertificateKeyMismatch" => ErrorCategory.InvalidData,
        "AcmeDnsScriptNotFound" => ErrorCategory.ObjectNotFound,
        "AcmeDnsScriptInvalid" => ErrorCategory.InvalidData,
        _ => ErrorCategory.InvalidArgument,
    };

    private static ErrorCategory LocalCategory(string id) => id switch
    {
        "AcmeListenerPortInUse" => ErrorCategory.ResourceBusy,
        "AcmeListenerAccessDenied" => ErrorCategory.PermissionDenied,
        "AcmeWebRootNotWritable" => ErrorCategory.WriteError,
        "AcmeSelfCheckFailed" => ErrorCategory.ConnectionError,
        "AcmeListenerFailed" => ErrorCategory.ResourceUnavailable,
        "AcmeDnsPropagationTimeout" => ErrorCategory.OperationTimeout,
        "AcmeDnsZoneNotFound" => ErrorCategory.ObjectNotFound,
        "AcmeDnsRecordAddFailed" or "AcmeDnsRecordRemoveFailed" => ErrorCategory.WriteError,
        "AcmeManualNotInteractive" => ErrorCategory.InvalidOperation,
        "AcmeStoreUnavailable" => ErrorCategory.ResourceUnavailable,
        "AcmeCertificateLocked" => ErrorCategory.ResourceBusy,
        "AcmeStateLocked" => ErrorCategory.ResourceBusy,
        "AcmeStateReadOnly" => ErrorCategory.PermissionDenied,
        "AcmeStateCorrupt" => ErrorCategory.InvalidData,
        "AcmeStateConflict" => ErrorCategory.ResourceExists,
        "AcmeStateWriteFailed" or "AcmeCertificateStoreFailed" => ErrorCategory.WriteError,
        "AcmeCertificateStoreUnavailable" => ErrorCategory.NotImplemented,
        _ => ErrorCategory.NotSpecified,
    };

    private static string? LocalAction(string id) => id switch
    {
        "AcmeListenerPortInUse" => "Stop the program that listens on the port, or answer another way (-WebRoot, a shared -Store); " +
            "when another renewal on this machine holds it, let it finish or wait longer with -PortWaitSec.",
        "AcmeStoreUnavailable" => "Check that this host reaches the challenge store (Redis running, its address, password and TLS; the folder mounted and writable), then run the pipeline again.",
        "AcmeCertificateLocked" => "Another host or process is ordering this certificate: let it finish, or wait for it with -LockTimeoutSec.",
        "AcmeStateLocked" => "Another process is changing this item of the state folder: run again once it is done, or wait longer with ACME_STATE_LOCK_TIMEOUT (seconds).",
        "AcmeStateCorrupt" => "Restore the file from a backup, or remove the item (Remove-AcmeOrder, Remove-AcmeCertificate) and order again.",
        "AcmeStateReadOnly" => "Make the state folder writable for this user (remount it read-write, or fix its permissions), or point -StatePath or ACME_STATE_PATH at a writable folder.",
        "AcmeStateWriteFailed" => "Check that the state folder (-StatePath, ACME_STATE_PATH) is writable and has space.",
        _ => null,
    };
}
