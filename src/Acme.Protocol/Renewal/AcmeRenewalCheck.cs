using System;
using System.Collections.Generic;
using Acme.Protocol.Model;

namespace Acme.Protocol.Renewal;

/// <summary>
/// Whether one certificate is due for renewal, why, and when it will be: what Test-AcmeRenewal writes.
/// The certificate travels with it, so a due one pipes on into New-AcmeOrder by property name.
/// </summary>
public sealed class AcmeRenewalCheck
{
    internal AcmeRenewalCheck(AcmeCertificate certificate, RenewalDecision decision, RenewalState? ari, RenewalFailure? failure = null)
    {
        LastError = failure?.Error;
        LastErrorId = failure?.ErrorId;
        LastAttempt = failure?.LastAttempt;
        NextAttempt = failure?.NextAttempt;
        Failures = failure?.Failures ?? 0;
        Certificate = certificate;
        Due = decision.Due;
        Reason = decision.Reason;
        RenewAt = decision.RenewAt;
        RetryAfter = ari?.NextCheck;
        ExplanationUrl = ari?.ExplanationUrl;
        WindowStart = ari?.Window.Start;
        WindowEnd = ari?.Window.End;
    }

    /// <summary>The certificate's name in its state folder (null for a certificate from a file).</summary>
    public string? Name => Certificate.Name;

    public string[] Names => Certificate.Names;

    public DateTime NotAfter => Certificate.NotAfter;

    public bool Due { get; }

    public RenewalReason Reason { get; }

    /// <summary>When the certificate is (or was) due: the moment chosen in the CA's window, or the lifetime rule's.</summary>
    public DateTimeOffset RenewAt { get; }

    /// <summary>With ARI: the CA's Retry-After; its renewal information is not asked for again before then.</summary>
    public DateTimeOffset? RetryAfter { get; }

    /// <summary>With ARI: the page the CA gave to explain its suggested window (an early window often means a coming revocation).</summary>
    public Uri? ExplanationUrl { get; }

    /// <summary>With ARI: the CA's suggested renewal window.</summary>
    public DateTimeOffset? WindowStart { get; }

    public DateTimeOffset? WindowEnd { get; }

    /// <summary>Why the last renewal failed (null when none failed since this version was issued).</summary>
    public string? LastError { get; }

    /// <summary>The last failure's error id (an AcmeErrorId, or the CA's problem type).</summary>
    public string? LastErrorId { get; }

    /// <summary>When the last failed renewal was tried.</summary>
    public DateTimeOffset? LastAttempt { get; }

    /// <summary>After a failure: the renewal is not due again before this moment (1 h, 2 h, 4 h ... up to 1 day, always before expiry), unless forced.</summary>
    public DateTimeOffset? NextAttempt { get; }

    /// <summary>Failed renewals in a row (0 when the last one succeeded).</summary>
    public int Failures { get; }

    /// <summary>
    /// The certificate's dns-persist-01 records that will not validate its next renewal, each with the
    /// record to set (checked only for a certificate validated with dns-persist-01; empty otherwise).
    /// </summary>
    public IReadOnlyList<AcmePersistentRecordProblem> PersistentRecordProblems { get; internal set; } = Array.Empty<AcmePersistentRecordProblem>();

    /// <summary>The latest moment the next renewal is expected (see <see cref="RenewalRule.NextRenewal"/>).</summary>
    internal DateTimeOffset NextRenewal(DateTimeOffset now) => RenewalRule.NextRenewal(RenewAt, WindowEnd, NextAttempt, now);

    public AcmeCertificate Certificate { get; }

    public override string ToString() => $"{Name ?? string.Join(", ", Names)}: {(Due ? "due" : "not due")} ({Reason}), renew at {RenewAt:u}" +
        (LastError is null ? string.Empty : $"; the last try failed at {LastAttempt:u}, next try at {NextAttempt:u}: {LastError}");
}
