using System;
using System.Threading.Tasks;

namespace Acme.Protocol.Issuance;

/// <summary>
/// How a wait polls: first soon, then backing off, never past a deadline, and never sooner than the
/// server's Retry-After (after instant-acme's RetryPolicy). An immutable value.
/// </summary>
public sealed class RetryPolicy
{
    public static readonly RetryPolicy Default = new();

    public RetryPolicy(TimeSpan? initialDelay = null, double backoff = 2, TimeSpan? maxDelay = null, TimeSpan? timeout = null)
    {
        InitialDelay = initialDelay ?? TimeSpan.FromMilliseconds(25);
        Backoff = backoff < 1 ? 1 : backoff;
        MaxDelay = maxDelay ?? TimeSpan.FromSeconds(5);
        Timeout = timeout ?? TimeSpan.FromMinutes(5);
        if (InitialDelay < TimeSpan.Zero || MaxDelay < TimeSpan.Zero || Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), "Delays must not be negative and the timeout must be positive.");
        }
    }

    /// <summary>
    /// The first poll's delay. Well under a second: Pebble and Boulder often finish in milliseconds.
    /// 25 ms doubling (25, 50, 100, 200 ms...) finds a fast CA's answer at the first poll and polls a
    /// CA that takes three seconds seven times.
    /// </summary>
    public TimeSpan InitialDelay { get; }

    public double Backoff { get; }

    public TimeSpan MaxDelay { get; }

    public TimeSpan Timeout { get; }

    public RetryPolicy WithTimeout(TimeSpan timeout) => new(InitialDelay, Backoff, MaxDelay, timeout);

    /// <summary>The delay before poll number <paramref name="attempt"/> (0-based) when the server gave no Retry-After.</summary>
    public TimeSpan DelayFor(int attempt)
    {
        double ms = InitialDelay.TotalMilliseconds * Math.Pow(Backoff, Math.Min(attempt, 64));
        return ms >= MaxDelay.TotalMilliseconds ? MaxDelay : TimeSpan.FromMilliseconds(ms);
    }

    /// <summary>
    /// The delay before the next poll: the server's Retry-After when it sent one (RFC 8555 section
    /// 7.4: the client "SHOULD" honour it), otherwise the backoff. Null when the wait would pass the
    /// deadline, which the caller turns into a timeout naming the server's suggested time.
    /// </summary>
    public TimeSpan? NextDelay(int attempt, TimeSpan? retryAfter, DateTimeOffset now, DateTimeOffset deadline)
    {
        TimeSpan delay = retryAfter is TimeSpan ra && ra > TimeSpan.Zero ? ra : DelayFor(attempt);
        if (now + delay > deadline)
        {
            // The last poll happens at the deadline, unless the server asked for a later time.
            if (retryAfter is TimeSpan asked && asked > TimeSpan.Zero)
            {
                return null;
            }

            TimeSpan left = deadline - now;
            return left > TimeSpan.Zero ? left : null;
        }

        return delay;
    }
}
