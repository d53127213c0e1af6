using System;
using System.Security.Cryptography;

namespace Acme.Protocol.Renewal;

/// <summary>Why a certificate is, or is not yet, due for renewal.</summary>
public enum RenewalReason
{
    /// <summary>Not due: neither the CA's window nor the lifetime rule has been reached.</summary>
    NotDue,

    /// <summary>The moment chosen in the CA's ARI suggested window (RFC 9773) has come.</summary>
    Ari,

    /// <summary>Without ARI: a third of the lifetime is left (half, for certificates of under 10 days).</summary>
    LifetimeFraction,

    /// <summary>The certificate has expired.</summary>
    Expired,

    /// <summary>The certificate was revoked.</summary>
    Revoked,

    /// <summary>The caller asked for renewal regardless.</summary>
    Forced,

    /// <summary>Not due yet: the last renewal failed, and the next try waits until NextAttempt (see <see cref="RenewalBackoff"/>).</summary>
    Backoff,
}

/// <summary>An ARI suggested window (RFC 9773 section 4.2) and the moment chosen in it.</summary>
public sealed class RenewalWindow
{
    public RenewalWindow(DateTimeOffset start, DateTimeOffset end, DateTimeOffset selected)
    {
        if (end < start)
        {
            throw new ArgumentException("The window ends before it starts.", nameof(end));
        }

        Start = start;
        End = end;
        Selected = selected < start || selected > end ? start : selected;
    }

    public DateTimeOffset Start { get; }

    public DateTimeOffset End { get; }

    /// <summary>The moment picked uniformly at random inside the window, kept so repeated runs agree.</summary>
    public DateTimeOffset Selected { get; }
}

/// <summary>The outcome of the renewal rule for one certificate.</summary>
public sealed class RenewalDecision
{
    public RenewalDecision(bool due, RenewalReason reason, DateTimeOffset renewAt)
    {
        Due = due;
        Reason = reason;
        RenewAt = renewAt;
    }

    public bool Due { get; }

    public RenewalReason Reason { get; }

    /// <summary>When the certificate is (or was) due.</summary>
    public DateTimeOffset RenewAt { get; }
}

/// <summary>
/// When to renew. With ARI: "the client SHOULD select a uniform random time within the suggested
/// window" and renew once it has passed (RFC 9773 section 4.2). Without ARI: when a third of the
/// lifetime is left, or half of it for certificates shorter than 10 days (the rule Let's Encrypt
/// recommends for its 6-day certificates, and certbot's and lego's default).
/// </summary>
public static class RenewalRule
{
    private static readonly TimeSpan ShortLived = TimeSpan.FromDays(10);

    public static DateTimeOffset LifetimeRenewAt(DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        TimeSpan lifetime = notAfter - notBefore;
        if (lifetime <= TimeSpan.Zero)
        {
            return notBefore;
        }

        double fractionLeft = lifetime < ShortLived ? 1.0 / 2 : 1.0 / 3;
        return notAfter - TimeSpan.FromTicks((long)(lifetime.Ticks * fractionLeft));
    }

    public static RenewalDecision Decide(DateTimeOffset notBefore, DateTimeOffset notAfter, DateTimeOffset now,
        RenewalWindow? ari = null, bool revoked = false, bool force = false)
    {
        if (force)
        {
            return new RenewalDecision(true, RenewalReason.Forced, now);
        }

        if (revoked)
        {
            return new RenewalDecision(true, RenewalReason.Revoked, now);
        }

        if (now >= notAfter)
        {
            return new RenewalDecision(true, RenewalReason.Expired, notAfter);
        }

        if (ari is not null)
        {
            // "If the selected time is in the past, the client SHOULD attempt renewal immediately" (RFC 9773 section 4.2).
            return now >= ari.Selected
                ? new RenewalDecision(true, RenewalReason.Ari, ari.Selected)
                : new RenewalDecision(false, RenewalReason.NotDue, ari.Selected);
        }

        DateTimeOffset at = LifetimeRenewAt(notBefore, notAfter);
        return now >= at
            ? new RenewalDecision(true, RenewalReason.LifetimeFraction, at)
            : new RenewalDecision(false, RenewalReason.NotDue, at);
    }

    /// <summary>
    /// The latest moment the next renewal is expected, which a dns-persist-01 record must outlive: the end
    /// of the CA's window with ARI (renewal may come anywhere in it), else the lifetime rule's moment, or the
    /// retry after a failure when that is later; never before <paramref name="now"/> (a due certificate renews now).
    /// </summary>
    public static DateTimeOffset NextRenewal(DateTimeOffset renewAt, DateTimeOffset? windowEnd, DateTimeOffset? nextAttempt, DateTimeOffset now)
    {
        DateTimeOffset at = windowEnd is { } end && end > renewAt ? end : renewAt;
        if (nextAttempt is { } retry && retry > at)
        {
            at = retry;
        }

        return at > now ? at : now;
    }

    /// <summary>A moment drawn uniformly at random between <paramref name="start"/> and <paramref name="end"/>.</summary>
    public static DateTimeOffset PickInWindow(DateTimeOffset start, DateTimeOffset end)
    {
        if (end <= start)
        {
            return start;
        }

        byte[] bytes = new byte[8];
        using (var rng = RandomNumberGenerator.Create())
        {
            rng.GetBytes(bytes);
        }

        double fraction = (BitConverter.ToUInt64(bytes, 0) >> 11) / (double)(1UL << 53);
        return start + TimeSpan.FromTicks((long)((end - start).Ticks * fraction));
    }
}
