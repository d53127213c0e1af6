using System;
using Acme.Protocol.Model;

namespace Acme.Protocol.Renewal;

/// <summary>
/// Whether one certificate is due for renewal, why, and when it will be: what Test-AcmeRenewal writes.
/// The certificate travels with it, so a due one pipes on into New-AcmeOrder by property name.
/// </summary>
public sealed class AcmeRenewalCheck
{
    internal AcmeRenewalCheck(AcmeCertificate certificate, RenewalDecision decision, RenewalState? ari)
    {
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

    public AcmeCertificate Certificate { get; }

    public override string ToString() => $"{Name ?? string.Join(", ", Names)}: {(Due ? "due" : "not due")} ({Reason}), renew at {RenewAt:u}";
}
