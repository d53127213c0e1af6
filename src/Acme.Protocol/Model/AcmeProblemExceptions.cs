using System;
using System.Collections.Generic;
using System.Linq;
using Acme.Protocol.Errors;

namespace Acme.Protocol.Model;

/// <summary>
/// The server answered with a problem document (RFC 8555 section 6.7). The message is built from
/// <see cref="AcmeProblem.ToString"/>, so it is bounded and free of control characters whatever the
/// CA sent; <see cref="Problem"/> keeps the server's text as it came.
/// </summary>
public class AcmeProblemException : AcmeException
{
    public AcmeProblemException(AcmeProblem problem, Exception? innerException = null)
        : this(problem, null, innerException)
    {
    }

    public AcmeProblemException(AcmeProblem problem, TimeSpan? retryAfter, Exception? innerException = null)
        : base(BuildMessage(problem, retryAfter), innerException)
    {
        Problem = problem ?? throw new ArgumentNullException(nameof(problem));
        RetryAfter = retryAfter;
        RetryAt = retryAfter is TimeSpan wait ? DateTimeOffset.UtcNow + wait : null;
    }

    /// <summary>A problem whose message the subclass words (the problem's own text is part of it).</summary>
    protected AcmeProblemException(AcmeProblem problem, string message, TimeSpan? retryAfter)
        : base(message)
    {
        Problem = problem ?? throw new ArgumentNullException(nameof(problem));
        RetryAfter = retryAfter;
        RetryAt = retryAfter is TimeSpan wait ? DateTimeOffset.UtcNow + wait : null;
    }

    public AcmeProblem Problem { get; }

    /// <summary>
    /// The server's Retry-After on the answer, whatever its status (RFC 9110 section 10.2.3: it
    /// "indicates how long the user agent ought to wait before making a follow-up request").
    /// </summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>When the server said to come back (the answer's time plus <see cref="RetryAfter"/>).</summary>
    public DateTimeOffset? RetryAt { get; }

    /// <summary>Creates the most specific exception for a problem, so callers can act on its type.</summary>
    public static AcmeProblemException Create(AcmeProblem problem, TimeSpan? retryAfter)
    {
        return problem.Type switch
        {
            AcmeProblemTypes.BadNonce => new AcmeBadNonceException(problem),
            AcmeProblemTypes.RateLimited => new AcmeRateLimitedException(problem, retryAfter),
            AcmeProblemTypes.AlreadyReplaced => new AcmeAlreadyReplacedException(problem),
            _ => new AcmeProblemException(problem, retryAfter),
        };
    }

    private static string BuildMessage(AcmeProblem? problem, TimeSpan? retryAfter)
    {
        string text = problem?.ToString() ?? "The ACME server reported a problem.";
        return retryAfter is TimeSpan wait ? text + " " + DescribeRetryAfter(wait) : text;
    }

    /// <summary>"The server asked to retry after 2025-01-01 10:00:00Z (10 seconds)."</summary>
    internal static string DescribeRetryAfter(TimeSpan wait) =>
        $"The server asked to retry after {(DateTimeOffset.UtcNow + wait).ToString("u", System.Globalization.CultureInfo.InvariantCulture)} " +
        $"({Math.Ceiling(wait.TotalSeconds):0} seconds, Retry-After).";
}

/// <summary>badNonce after the bounded number of retries with fresh nonces.</summary>
public sealed class AcmeBadNonceException : AcmeProblemException
{
    public AcmeBadNonceException(AcmeProblem problem) : base(problem) { }
}

/// <summary>rateLimited, with the server's Retry-After when it sent one.</summary>
public sealed class AcmeRateLimitedException : AcmeProblemException
{
    public AcmeRateLimitedException(AcmeProblem problem, TimeSpan? retryAfter) : base(problem, retryAfter)
    {
    }
}

/// <summary>The certificate named in "replaces" already has a replacement (RFC 9773).</summary>
public sealed class AcmeAlreadyReplacedException : AcmeProblemException
{
    public AcmeAlreadyReplacedException(AcmeProblem problem) : base(problem) { }
}

/// <summary>An authorization ended invalid: the CA could not validate an identifier.</summary>
public sealed class AcmeAuthorizationFailedException : AcmeProblemException
{
    public AcmeAuthorizationFailedException(AcmeAuthorization authorization, AcmeProblem problem)
        : base(problem)
    {
        Authorization = authorization;
    }

    public AcmeAuthorization Authorization { get; }

    public override string Message =>
        $"The CA could not validate {CaText.Clean(Authorization.Identifier.Value, CaText.MaxField)}: " +
        $"{Problem.Describe(includeIdentifier: false)} ({CaText.Clean(Problem.ShortType, CaText.MaxField)})";
}

/// <summary>An order ended invalid (RFC 8555 section 7.1.6) for a reason other than a failed authorization.</summary>
public sealed class AcmeOrderFailedException : AcmeProblemException
{
    public AcmeOrderFailedException(AcmeOrder order, AcmeProblem problem) : base(problem)
    {
        Order = order;
    }

    public AcmeOrder Order { get; }
}

/// <summary>A 5xx answer without an ACME problem document (a proxy or load balancer in the way).</summary>
public sealed class AcmeServerException : AcmeProblemException
{
    public AcmeServerException(AcmeProblem problem, TimeSpan? retryAfter) : base(problem, retryAfter)
    {
    }
}

/// <summary>
/// HTTP 501 Not Implemented (RFC 9110 section 15.6.2): the CA does not support the request at all,
/// whatever problem type it gives (step-ca answers keyChange with 501 and rejectedIdentifier), so it
/// is no refusal of the identifiers or the account and retrying does not help.
/// </summary>
public sealed class AcmeNotImplementedException : AcmeProblemException
{
    public AcmeNotImplementedException(AcmeProblem problem, string operation)
        : base(problem, $"The CA does not implement {operation}: {problem}", null)
    {
        Operation = operation;
    }

    /// <summary>What was asked, in words ("account key rollover (keyChange)"), or the method and URL.</summary>
    public string Operation { get; }
}

/// <summary>invalidProfile (draft-ietf-acme-profiles), with the profiles the CA's directory offers.</summary>
public sealed class AcmeInvalidProfileException : AcmeProblemException
{
    public AcmeInvalidProfileException(AcmeProblem problem, IReadOnlyDictionary<string, string> offered)
        : base(problem, problem + " " + OfferedText(offered), null)
    {
        Offered = offered.Keys.ToArray();
        OfferedDescription = OfferedText(offered);
    }

    /// <summary>The names of the profiles the CA's directory lists (empty when it lists none).</summary>
    public IReadOnlyList<string> Offered { get; }

    /// <summary>"The CA offers the profiles: default (...), shortlived (...)." or that it lists none.</summary>
    public string OfferedDescription { get; }

    private static string OfferedText(IReadOnlyDictionary<string, string> offered) => offered.Count == 0
        ? "The CA's directory lists no profiles."
        : "The CA offers the profiles: " + string.Join(", ", offered.Select(p =>
            p.Value.Length == 0 ? CaText.Clean(p.Key, CaText.MaxField) : $"{CaText.Clean(p.Key, CaText.MaxField)} ({CaText.Clean(p.Value, CaText.MaxField)})")) + ".";
}
