using System;
using System.Globalization;
using System.Management.Automation;
using System.Text;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Errors;

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
        if (target is string address && Acme.Protocol.Model.PostgresUrl.IsAddress(address))
        {
            // A state address's password never reaches an error record.
            target = Acme.Protocol.Model.PostgresUrl.Mask(address);
        }

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
                return Row(a.Id, a);
            case AcmeLocalException l:
                return Row(l.Id, l);
            case AcmeProtocolException v:
                return Row(v.Id, v);
            case AcmeAuthorizationFailedException f:
                return ("AcmeAuthorizationFailed", ProblemCategory(f.Problem), f.Message,
                    $"Check that {CaText.Clean(f.Authorization.Identifier.Value, CaText.MaxField)} reaches this machine's answer for the challenge, then order again.");
            case AcmeBadNonceException n:
                return WithDetails(AcmeErrorId.BadNonce, ProblemText(n.Problem, "The CA kept refusing fresh nonces"));
            case AcmeRateLimitedException r:
                return ("AcmeRateLimited", ErrorCategory.LimitsExceeded, ProblemText(r.Problem, "The CA's rate limit was reached"),
                    r.RetryAfter is TimeSpan wait
                        ? $"Retry after {DateTimeOffset.Now.Add(wait).ToString("u", CultureInfo.InvariantCulture)} ({Math.Ceiling(wait.TotalSeconds)} seconds)."
                        : ErrorCatalog.For(AcmeErrorId.RateLimited).RecommendedAction);
            case AcmeNotImplementedException ni:
                // Before the 5xx cases: a 501 is no outage and no refusal of the identifiers, whatever its problem type.
                return WithDetails(AcmeErrorId.NotImplementedByServer, ni.Message);
            case AcmeServerException s:
                return ("AcmeServerUnavailable", ErrorCategory.ResourceUnavailable, ProblemText(s.Problem, "The CA is unavailable"), ServerErrorAction(s));
            case AcmeOrderFailedException o:
                return ("AcmeOrderFailed", ProblemCategory(o.Problem), ProblemText(o.Problem, $"The order {o.Order.Location} failed"), null);
            case AcmeInvalidProfileException ip:
                return (ProblemErrorId(ip.Problem), ProblemCategory(ip.Problem), ProblemText(ip.Problem, "The CA refused the request") + " " + ip.OfferedDescription,
                    ProblemAction(ip.Problem));
            case AcmeProblemException p when p.Problem.Type == AcmeProblemTypes.ServerInternal || (p.Problem.Status ?? 0) >= 500:
                // A problem document on a 5xx: the server's own type, and its Retry-After when it sent one.
                return (ProblemErrorId(p.Problem), ProblemCategory(p.Problem), ProblemText(p.Problem, "The CA had a server error"),
                    (p.Problem.Type == AcmeProblemTypes.ServerInternal ? null : ProblemAction(p.Problem)) ?? ServerErrorAction(p));
            case AcmeProblemException p:
                return (ProblemErrorId(p.Problem), ProblemCategory(p.Problem), ProblemText(p.Problem, "The CA refused the request"),
                    ProblemAction(p.Problem) ?? (p.RetryAfter is TimeSpan later ? $"The CA asked to come back after {At(later)} ({Math.Ceiling(later.TotalSeconds)} seconds)." : null));
            case AcmeTimeoutException t:
                // One request's timeout: the message must say that -TimeoutSec is not the limit that ran out.
                return ("AcmeTimeout", ErrorCategory.OperationTimeout, t.RequestTimeout is null ? null : t.Message + " " + TimeoutAction(t), TimeoutAction(t));
            case AcmeConnectionException:
                return Row(AcmeErrorId.ConnectionFailed, null);
            case UnauthorizedAccessException:
                return Row(AcmeErrorId.AccessDenied, null);
            case System.IO.IOException:
                return Row(AcmeErrorId.FileError, null);
            default:
                return Row(AcmeErrorId.UnexpectedError, null);
        }
    }

    /// <summary>The record of an error the core raised by its id: the row's category and action, the action added to the message where the row says so.</summary>
    private static (string Id, ErrorCategory Category, string? Details, string? Action) Row(AcmeErrorId id, Exception? e)
    {
        ErrorCatalogRow row = ErrorCatalog.For(id);
        string? details = e is not null && row.ShownWithMessage && row.RecommendedAction is { } action ? e.Message + " " + action : null;
        return (row.ErrorId, row.Category, details, row.RecommendedAction);
    }

    private static (string Id, ErrorCategory Category, string? Details, string? Action) WithDetails(AcmeErrorId id, string details)
    {
        ErrorCatalogRow row = ErrorCatalog.For(id);
        return (row.ErrorId, row.Category, details, row.RecommendedAction);
    }

    private static string At(TimeSpan wait) => DateTimeOffset.Now.Add(wait).ToString("u", CultureInfo.InvariantCulture);

    private static string ServerErrorAction(AcmeProblemException e) => e.RetryAfter is TimeSpan busy
        ? $"The CA asked to come back after {At(busy)} ({Math.Ceiling(busy.TotalSeconds)} seconds); retry then."
        : ErrorCatalog.For(AcmeErrorId.ServerInternal).RecommendedAction!;

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

        return ErrorCatalog.For(AcmeErrorId.Timeout).RecommendedAction!;
    }

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

    /// <summary>The catalogue's category for the problem's type; a compound problem takes its first subproblem's.</summary>
    internal static ErrorCategory ProblemCategory(AcmeProblem problem)
    {
        if (problem.Type == AcmeProblemTypes.Compound && problem.Subproblems.Count > 0)
        {
            return ProblemCategory(problem.Subproblems[0]);
        }

        return problem.Type.StartsWith(AcmeProblemTypes.Namespace, StringComparison.Ordinal) && ErrorCatalog.Find(ProblemErrorId(problem)) is { } row
            && problem.Type != AcmeProblemTypes.Compound
            ? row.Category
            : (problem.Status ?? 0) >= 500 ? ErrorCategory.ResourceUnavailable : ErrorCategory.InvalidOperation;
    }

    private static string? ProblemAction(AcmeProblem problem)
    {
        if (problem.Type == AcmeProblemTypes.UserActionRequired && problem.Instance is not null)
        {
            return $"Visit {CaText.Clean(problem.Instance, CaText.MaxField * 4)} and follow the instructions there.";
        }

        // Only the CA's own refusals take the catalogue's advice; rate limits and bad nonces are worded above.
        return problem.Type.StartsWith(AcmeProblemTypes.Namespace, StringComparison.Ordinal) && problem.Type != AcmeProblemTypes.RateLimited
            && problem.Type != AcmeProblemTypes.BadNonce && ErrorCatalog.Find(ProblemErrorId(problem)) is { } row
            ? row.RecommendedAction
            : null;
    }
}
