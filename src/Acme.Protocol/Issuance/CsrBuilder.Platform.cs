#if NET
using System.Collections.Generic;
using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.Protocol.Issuance;

/// <summary>
/// On .NET (PowerShell 7) the CSR is built by the platform's <see cref="CertificateRequest"/>, so a fresh
/// process that issues a certificate does not load and JIT-compile BouncyCastle (bench/NOTES.md). The same
/// request as <c>BuildWithBouncyCastle</c> writes, field by field (CsrBuilderPlatformTests): the subject
/// (an empty name or one UTF8String CN), the SubjectPublicKeyInfo, one extensionRequest attribute holding
/// only a non-critical subjectAltName (dNSName and iPAddress entries, in the identifiers' order), and the
/// signature algorithm (ecdsa-with-SHA256/SHA384, sha256WithRSAEncryption).
/// </summary>
public static partial class CsrBuilder
{
    private const string SubjectAltNameOid = "2.5.29.17";

    internal static byte[] BuildWithPlatform(AcmeKey key, IReadOnlyList<AcmeIdentifier> identifiers, bool commonName)
    {
        // The SAN is written here rather than by SubjectAlternativeNameBuilder, which maps DNS names through
        // IDNA (lower case, punycode): the identifiers go into the CSR as the order names them, as BouncyCastle writes them.
        var san = new AsnWriter(AsnEncodingRules.DER);
        using (san.PushSequence())
        {
            foreach (AcmeIdentifier identifier in identifiers)
            {
                if (identifier.Type == AcmeIdentifier.DnsType)
                {
                    san.WriteCharacterString(UniversalTagNumber.IA5String, identifier.Value, new Asn1Tag(TagClass.ContextSpecific, 2));
                }
                else if (identifier.Type == AcmeIdentifier.IpType)
                {
                    san.WriteOctetString(IPAddress.Parse(identifier.Value).GetAddressBytes(), new Asn1Tag(TagClass.ContextSpecific, 7));
                }
                else
                {
                    throw new AcmeArgumentException(AcmeErrorId.UnsupportedIdentifier, $"Identifiers of type '{identifier.Type}' cannot go into a CSR.");
                }
            }
        }

        string? cn = CommonName(identifiers, commonName);
        var subject = new X500DistinguishedNameBuilder();
        if (cn is not null)
        {
            subject.Add("2.5.4.3", cn, UniversalTagNumber.UTF8String);
        }

        return key.CreateSigningRequest(subject.Build(), new X509Extension(SubjectAltNameOid, san.Encode(), critical: false));
    }
}
#endif
