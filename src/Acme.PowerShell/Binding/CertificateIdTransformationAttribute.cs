using System;
using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Binding;

/// <summary>
/// Lets an ARI certificate identifier parameter (RFC 9773 section 4.1) take the identifier itself, or
/// the AcmeCertificate or X509Certificate2 it identifies, whose identifier is then computed.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class CertificateIdTransformationAttribute : AcmeTransformationAttribute
{
    protected override object Convert(EngineIntrinsics engineIntrinsics, object value) => value switch
    {
        AcmeCertificate certificate => AcmeRenewalInfo.GetCertificateId(certificate.Certificate),
        X509Certificate2 certificate => AcmeRenewalInfo.GetCertificateId(certificate),
        string id when AcmeRenewalInfo.IsCertificateId(id.Trim()) => id.Trim(),
        _ => throw new ArgumentTransformationMetadataException(
            "Give an ARI certificate identifier (two base64url parts joined by a period), or the AcmeCertificate it replaces."),
    };
}
