using System;
using Acme.Protocol.Model;

namespace Acme.Protocol.Renewal;

/// <summary>What a renewal pass of Start-AcmeRenewalWorker did with one certificate.</summary>
public enum AcmeRenewalAction
{
    /// <summary>A first certificate for names given with -Certificate was issued.</summary>
    Issued,

    /// <summary>The certificate was due and a new version replaced it.</summary>
    Renewed,

    /// <summary>Not due (or renewed by another host meanwhile): nothing was ordered.</summary>
    NotDue,

    /// <summary>Another host held the certificate's lease for the whole pass; the next pass tries again.</summary>
    Skipped,

    /// <summary>The issuance or renewal failed; Error says why, and the next try backs off (Test-AcmeRenewal's Backoff).</summary>
    Failed,
}

/// <summary>
/// One certificate in one pass of Start-AcmeRenewalWorker: the action taken, why, the certificate it
/// left current, and the error when it failed.
/// </summary>
public sealed class AcmeRenewalResult
{
    public AcmeRenewalResult(int pass, string name, AcmeRenewalAction action, string? reason, AcmeCertificate? certificate,
        DateTimeOffset? renewAt = null, string? error = null, string? errorId = null)
    {
        Pass = pass;
        Name = name;
        Action = action;
        Reason = reason;
        Certificate = certificate;
        RenewAt = renewAt ?? certificate?.RenewAt;
        Error = error;
        ErrorId = errorId;
        Time = DateTimeOffset.UtcNow;
    }

    /// <summary>The pass of the worker, from 1.</summary>
    public int Pass { get; }

    /// <summary>The certificate's saved name.</summary>
    public string Name { get; }

    public AcmeRenewalAction Action { get; }

    /// <summary>
    /// Why: the renewal rule's reason (Ari, LifetimeFraction, Expired, Revoked, Backoff, NotDue), IssuedBefore,
    /// New (a first certificate), NamesChanged (-Certificate gives other names than the saved one's), RenewedElsewhere (another host renewed it during the pass), Locked, or
    /// WhatIf (what -WhatIf would have ordered).
    /// </summary>
    public string? Reason { get; }

    /// <summary>The certificate current after the pass (the new one when issued or renewed); null when none could be read.</summary>
    public AcmeCertificate? Certificate { get; }

    public string? Thumbprint => Certificate?.Thumbprint;

    public DateTime? NotAfter => Certificate?.NotAfter;

    /// <summary>When the certificate is due next (or, after a failure, when the next try may come).</summary>
    public DateTimeOffset? RenewAt { get; }

    /// <summary>The failure's message (the CA's detail included), for Failed.</summary>
    public string? Error { get; }

    /// <summary>The failure's stable error id (the first part of the error record's FullyQualifiedErrorId), for Failed.</summary>
    public string? ErrorId { get; }

    /// <summary>When this result was reached (UTC).</summary>
    public DateTimeOffset Time { get; }

    public override string ToString() => $"{Name}: {Action}{(Reason is null ? string.Empty : $" ({Reason})")}" +
        (Error is null ? string.Empty : $": {Error}");
}
