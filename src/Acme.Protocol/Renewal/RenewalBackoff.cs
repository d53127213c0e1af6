using System;

namespace Acme.Protocol.Renewal;

/// <summary>
/// The last failed renewal of a certificate, kept with it in its state folder until a renewal
/// succeeds: what went wrong, when, how many times in a row, and when the next try is allowed.
/// </summary>
public sealed class RenewalFailure
{
    public RenewalFailure(string error, string? errorId, DateTimeOffset lastAttempt, int failures, DateTimeOffset nextAttempt)
    {
        Error = error ?? throw new ArgumentNullException(nameof(error));
        ErrorId = errorId;
        LastAttempt = lastAttempt;
        Failures = failures < 1 ? 1 : failures;
        NextAttempt = nextAttempt < lastAttempt ? lastAttempt : nextAttempt;
    }

    /// <summary>The failure's message.</summary>
    public string Error { get; }

    /// <summary>The failure's AcmeErrorId (or the CA's problem type), when it had one.</summary>
    public string? ErrorId { get; }

    public DateTimeOffset LastAttempt { get; }

    /// <summary>Failed renewals in a row.</summary>
    public int Failures { get; }

    /// <summary>No renewal is due before this moment (unless forced).</summary>
    public DateTimeOffset NextAttempt { get; }

    /// <summary>Whether the backoff still holds at <paramref name="now"/>.</summary>
    public bool Holds(DateTimeOffset now) => now < NextAttempt;
}

/// <summary>
/// How long a failed renewal waits before the next try: 1 hour after the first failure, doubling
/// with each failure in a row (2 h, 4 h, ...) up to 1 day, so a runbook that runs every hour does not
/// hammer the CA (Let's Encrypt allows 5 failed validations per identifier per hour). While the
/// certificate is still valid, the wait is never more than half the time it has left, so the next
/// try always comes before it expires (and tries come closer together as expiry nears), but never
/// sooner than <see cref="Shortest"/>.
/// </summary>
public static class RenewalBackoff
{
    public static readonly TimeSpan First = TimeSpan.FromHours(1);

    public static readonly TimeSpan Longest = TimeSpan.FromDays(1);

    public static readonly TimeSpan Shortest = TimeSpan.FromMinutes(1);

    /// <summary>The wait after the <paramref name="failures"/>-th failure in a row at <paramref name="at"/>.</summary>
    public static TimeSpan Delay(int failures, DateTimeOffset at, DateTimeOffset notAfter)
    {
        int doublings = Math.Max(0, Math.Min(failures - 1, 10));
        TimeSpan delay = TimeSpan.FromTicks(Math.Min(First.Ticks << doublings, Longest.Ticks));
        if (at < notAfter)
        {
            TimeSpan half = TimeSpan.FromTicks((notAfter - at).Ticks / 2);
            if (half < delay)
            {
                delay = half < Shortest ? Shortest : half;
            }
        }

        return delay;
    }

    /// <summary>
    /// The failure to record after a renewal of a certificate valid until <paramref name="notAfter"/>
    /// failed at <paramref name="at"/>. A CA's Retry-After (<paramref name="retryAt"/>, as on a rate
    /// limit) later than the schedule's moment wins.
    /// </summary>
    public static RenewalFailure After(RenewalFailure? previous, string error, string? errorId, DateTimeOffset at, DateTimeOffset notAfter,
        DateTimeOffset? retryAt = null)
    {
        int failures = (previous?.Failures ?? 0) + 1;
        DateTimeOffset next = at + Delay(failures, at, notAfter);
        if (retryAt is { } server && server > next)
        {
            next = server;
        }

        return new RenewalFailure(error, errorId, at, failures, next);
    }

    /// <summary>
    /// The rule's decision, held back while a failure's backoff lasts: not due (reason Backoff) until
    /// NextAttempt. A forced check is never held back.
    /// </summary>
    public static RenewalDecision Apply(RenewalDecision decision, RenewalFailure? failure, DateTimeOffset now)
    {
        if (decision is null)
        {
            throw new ArgumentNullException(nameof(decision));
        }

        return decision.Due && decision.Reason != RenewalReason.Forced && failure is not null && failure.Holds(now)
            ? new RenewalDecision(false, RenewalReason.Backoff, failure.NextAttempt)
            : decision;
    }
}
