using System;
using System.Net;
using Acme.Protocol.Model;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace Acme.Protocol.Challenges.TlsAlpn01;

/// <summary>The self-signed certificate a tls-alpn-01 responder presents (RFC 8737 section 3).</summary>
public static class TlsAlpnCertificate
{
    /// <summary>id-pe-acmeIdentifier (RFC 8737 section 6.1): 1.3.6.1.5.5.7.1.31.</summary>
    public static readonly DerObjectIdentifier AcmeIdentifierOid = new("1.3.6.1.5.5.7.1.31");

    private static readonly SecureRandom s_random = new();

    /// <summary>A throwaway P-256 key for the challenge certificates (the CA never sees it again).</summary>
    public static AsymmetricCipherKeyPair GenerateKey()
    {
        var generator = new ECKeyPairGenerator();
        generator.Init(new ECKeyGenerationParameters(ECNamedCurveTable.GetOid("P-256"), s_random));
        return generator.GenerateKeyPair();
    }

    /// <summary>
    /// The extension value: "The extension value is a DER encoded ASN.1 OCTET STRING containing the
    /// SHA-256 digest of the key authorization" (RFC 8737 section 3), so the extnValue OCTET STRING
    /// holds another OCTET STRING of 32 bytes.
    /// </summary>
    public static byte[] AcmeIdentifierExtensionValue(string keyAuthorization) =>
        new DerOctetString(AcmeChallenge.KeyAuthorizationDigest(keyAuthorization)).GetEncoded(Asn1Encodable.Der);

    /// <summary>
    /// "The client prepares for validation by constructing a self-signed certificate that MUST contain
    /// an acmeIdentifier extension and a subjectAlternativeName extension [RFC5280]. The
    /// subjectAlternativeName extension MUST contain a single dNSName entry where the value is the
    /// domain name being validated. The acmeIdentifier extension MUST contain the SHA-256 digest ...
    /// The acmeIdentifier extension MUST be critical" (RFC 8737 section 3). An IP identifier gets a
    /// single iPAddress entry instead (RFC 8738 section 6).
    /// </summary>
    public static X509Certificate Build(AcmeIdentifier identifier, string keyAuthorization, AsymmetricCipherKeyPair key)
    {
        GeneralName name = identifier.Type == AcmeIdentifier.IpType
            ? new GeneralName(GeneralName.IPAddress, new DerOctetString(IPAddress.Parse(identifier.Value).GetAddressBytes()))
            : new GeneralName(GeneralName.DnsName, identifier.Value);
        var subject = new X509Name("CN=ACME tls-alpn-01 challenge");
        DateTime now = DateTime.UtcNow;
        var generator = new X509V3CertificateGenerator();
        generator.SetSerialNumber(new BigInteger(128, s_random).SetBit(127));
        generator.SetIssuerDN(subject);
        generator.SetSubjectDN(subject);
        generator.SetNotBefore(now.AddDays(-1));
        generator.SetNotAfter(now.AddDays(7));
        generator.SetPublicKey(key.Public);
        generator.AddExtension(X509Extensions.SubjectAlternativeName, false, new GeneralNames(name));
        generator.AddExtension(AcmeIdentifierOid, true, new DerOctetString(AcmeChallenge.KeyAuthorizationDigest(keyAuthorization)));
        return generator.Generate(new Asn1SignatureFactory("SHA256WITHECDSA", key.Private, s_random));
    }
}
