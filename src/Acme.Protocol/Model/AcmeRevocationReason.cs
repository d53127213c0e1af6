namespace Acme.Protocol.Model;

/// <summary>
/// The CRLReason codes of RFC 5280 section 5.3.1 that a revocation request may carry (RFC 8555
/// section 7.6: "reason (optional, int): One of the revocation reasonCodes defined in Section 5.3.1
/// of [RFC5280]"). Code 7 is unused in RFC 5280 and has no name here.
/// </summary>
public enum AcmeRevocationReason
{
    Unspecified = 0,
    KeyCompromise = 1,
    CACompromise = 2,
    AffiliationChanged = 3,
    Superseded = 4,
    CessationOfOperation = 5,
    CertificateHold = 6,
    RemoveFromCRL = 8,
    PrivilegeWithdrawn = 9,
    AACompromise = 10,
}
