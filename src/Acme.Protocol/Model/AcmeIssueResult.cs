namespace Acme.Protocol.Model;

/// <summary>What New-AcmeCertificate did in its run (the certificate's <see cref="AcmeCertificate.Result"/>).</summary>
public enum AcmeIssueResult
{
    /// <summary>A first certificate for the name was ordered and issued.</summary>
    Issued,

    /// <summary>The saved certificate was due (or -Force, or other names) and a new one replaced it.</summary>
    Renewed,

    /// <summary>The saved certificate is valid and not due; an export of it was missing or stale and was written again, nothing was ordered.</summary>
    Reexported,

    /// <summary>The saved certificate is valid and not due, and its exports hold it: nothing was ordered or written.</summary>
    Unchanged,
}
