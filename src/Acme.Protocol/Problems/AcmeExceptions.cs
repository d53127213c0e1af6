using System;

namespace Acme.Protocol;

/// <summary>The base of every error the protocol core raises. The inner exception is always kept.</summary>
public class AcmeException : Exception
{
    public AcmeException(string message) : base(message) { }

    public AcmeException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>The server answered with a problem document (RFC 8555 section 6.7).</summary>
public class AcmeProblemException : AcmeException
{
    public AcmeProblemException(AcmeProblem problem, Exception? innerException = null)
        : base(problem?.ToString() ?? "The ACME server reported a problem.", innerException)
    {
        Problem = problem ?? throw new ArgumentNullException(nameof(problem));
    }

    public AcmeProblem Problem { get; }

    /// <summary>Creates the most specific exception for a problem, so callers can act on its type.</summary>
    public static AcmeProblemException Create(AcmeProblem problem, TimeSpan? retryAfter)
    {
        return problem.Type switch
        {
            AcmeProblemTypes.BadNonce => new AcmeBadNonceException(problem),
            AcmeProblemTypes.RateLimited => new AcmeRateLimitedException(problem, retryAfter),
            AcmeProblemTypes.AlreadyReplaced => new AcmeAlreadyReplacedException(problem),
            _ => new AcmeProblemException(problem),
        };
    }
}

/// <summary>badNonce after the bounded number of retries with fresh nonces.</summary>
public sealed class AcmeBadNonceException : AcmeProblemException
{
    public AcmeBadNonceException(AcmeProblem problem) : base(problem) { }
}

/// <summary>rateLimited, with the server's Retry-After when it sent one.</summary>
public sealed class AcmeRateLimitedException : AcmeProblemException
{
    public AcmeRateLimitedException(AcmeProblem problem, TimeSpan? retryAfter) : base(problem)
    {
        RetryAfter = retryAfter;
    }

    public TimeSpan? RetryAfter { get; }
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
        $"The CA could not validate {Authorization.Identifier.Value}: {Problem.Describe(includeIdentifier: false)} ({Problem.ShortType})";
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

/// <summary>The server broke the protocol: a missing header, a body that is not what RFC 8555 defines.</summary>
public sealed class AcmeProtocolException : AcmeException
{
    public AcmeProtocolException(string message, Exception? innerException = null) : base(message, innerException) { }
}

/// <summary>A wait ran out of time. <see cref="SuggestedRetryAt"/> is the server's next time, when it gave one.</summary>
public sealed class AcmeTimeoutException : AcmeException
{
    public AcmeTimeoutException(string message, DateTimeOffset? suggestedRetryAt = null, Exception? innerException = null)
        : base(message, innerException)
    {
        SuggestedRetryAt = suggestedRetryAt;
    }

    public DateTimeOffset? SuggestedRetryAt { get; }
}

/// <summary>Input refused by the client before any request (a bad identifier, a key, a file).</summary>
public sealed class AcmeArgumentException : AcmeException
{
    public AcmeArgumentException(string errorId, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorId = errorId;
    }

    /// <summary>A stable id, such as "AcmeInvalidIdentifier", that the cmdlet layer uses as the ErrorId.</summary>
    public string ErrorId { get; }
}

/// <summary>A local step could not be carried out (a port in use, a file that cannot be written).</summary>
public sealed class AcmeLocalException : AcmeException
{
    public AcmeLocalException(string errorId, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorId = errorId;
    }

    public string ErrorId { get; }
}

/// <summary>The server could not be reached or dropped the connection.</summary>
public sealed class AcmeConnectionException : AcmeException
{
    public AcmeConnectionException(string message, Exception? innerException = null) : base(message, innerException) { }
}

/// <summary>A 5xx answer without an ACME problem document (a proxy or load balancer in the way).</summary>
public sealed class AcmeServerException : AcmeProblemException
{
    public AcmeServerException(AcmeProblem problem, TimeSpan? retryAfter) : base(problem)
    {
        RetryAfter = retryAfter;
    }

    public TimeSpan? RetryAfter { get; }
}
