using System;

namespace Acme.Protocol.Errors;

/// <summary>The base of every error the protocol core raises. The inner exception is always kept.</summary>
public class AcmeException : Exception
{
    public AcmeException(string message) : base(message) { }

    public AcmeException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>The server broke the protocol: a missing header, a body that is not what RFC 8555 defines.</summary>
public sealed class AcmeProtocolException : AcmeException
{
    public AcmeProtocolException(string message, Exception? innerException = null) : this(AcmeErrorId.ProtocolViolation, message, innerException)
    {
    }

    /// <summary>A violation a caller can tell apart by its id, such as <see cref="AcmeErrorId.ChainTooLong"/>.</summary>
    public AcmeProtocolException(AcmeErrorId id, string message, Exception? innerException)
        : base(message, innerException)
    {
        Id = id;
    }

    public AcmeErrorId Id { get; }

    /// <summary>The stable id the cmdlet layer uses as the ErrorId: "Acme" and <see cref="Id"/>.</summary>
    public string ErrorId => "Acme" + Id;
}

/// <summary>
/// A wait ran out of time. <see cref="SuggestedRetryAt"/> is the server's next time, when it gave one;
/// <see cref="RequestTimeout"/> is set when one HTTP request went unanswered (the connection's fixed
/// per-request limit, not the poll's -TimeoutSec).
/// </summary>
public sealed class AcmeTimeoutException : AcmeException
{
    public AcmeTimeoutException(string message, DateTimeOffset? suggestedRetryAt = null, Exception? innerException = null)
        : base(message, innerException)
    {
        SuggestedRetryAt = suggestedRetryAt;
    }

    /// <summary>One request that went unanswered within <paramref name="requestTimeout"/>.</summary>
    public AcmeTimeoutException(string message, TimeSpan requestTimeout, Exception? innerException)
        : base(message, innerException)
    {
        RequestTimeout = requestTimeout;
    }

    public DateTimeOffset? SuggestedRetryAt { get; }

    /// <summary>The per-request limit that ran out, when this is one request's timeout rather than a poll's.</summary>
    public TimeSpan? RequestTimeout { get; }
}

/// <summary>Input refused by the client before any request (a bad identifier, a key, a file).</summary>
public sealed class AcmeArgumentException : AcmeException
{
    public AcmeArgumentException(AcmeErrorId id, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Id = id;
    }

    public AcmeErrorId Id { get; }

    /// <summary>The stable id the cmdlet layer uses as the ErrorId: "Acme" and <see cref="Id"/>, such as "AcmeInvalidIdentifier".</summary>
    public string ErrorId => "Acme" + Id;
}

/// <summary>A local step could not be carried out (a port in use, a file that cannot be written).</summary>
public sealed class AcmeLocalException : AcmeException
{
    public AcmeLocalException(AcmeErrorId id, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Id = id;
    }

    public AcmeErrorId Id { get; }

    /// <summary>The stable id the cmdlet layer uses as the ErrorId: "Acme" and <see cref="Id"/>, such as "AcmeInvalidIdentifier".</summary>
    public string ErrorId => "Acme" + Id;
}

/// <summary>The server could not be reached or dropped the connection.</summary>
public sealed class AcmeConnectionException : AcmeException
{
    public AcmeConnectionException(string message, Exception? innerException = null) : base(message, innerException) { }
}
