using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Pkcs;

namespace Acme.Protocol.Crypto;

/// <summary>Builds the PKCS#10 CSR that finalize sends (RFC 8555 section 7.4, RFC 2986).</summary>
public static class CsrBuilder
{
    /// <summary>
    /// "The CSR MUST indicate the exact same set of requested identifiers as the initial newOrder
    /// request. Identifiers of type 'dns' MUST appear either in the commonName portion of the
    /// requested subject name or in an extensionRequest attribute requesting a subjectAltName
    /// extension, or both" (RFC 8555 section 7.4). Every identifier goes into the SAN; IP identifiers
    /// as iPAddress entries (RFC 8738 section 3), never as DNS names. The first DNS name short enough
    /// for a commonName (64 characters) is also the subject CN, which older servers still read.
    /// </summary>
    public static byte[] Build(AcmeKey key, IReadOnlyList<AcmeIdentifier> identifiers)
    {
        if (key is null)
        {
            throw new ArgumentNullException(nameof(key));
        }

        if (identifiers is null || identifiers.Count == 0)
        {
            throw new AcmeArgumentException("AcmeNoIdentifier", "A CSR needs at least one identifier.");
        }

        var names = new List<GeneralName>();
        foreach (AcmeIdentifier identifier in identifiers)
        {
            if (identifier.Type == AcmeIdentifier.DnsType)
            {
                names.Add(new GeneralName(GeneralName.DnsName, identifier.Value));
            }
            else if (identifier.Type == AcmeIdentifier.IpType)
            {
                names.Add(new GeneralName(GeneralName.IPAddress, new DerOctetString(IPAddress.Parse(identifier.Value).GetAddressBytes())));
            }
            else
            {
                throw new AcmeArgumentException("AcmeUnsupportedIdentifier", $"Identifiers of type '{identifier.Type}' cannot go into a CSR.");
            }
        }

        string? commonName = identifiers.FirstOrDefault(i => i.Type == AcmeIdentifier.DnsType && i.Value.Length <= 64)?.Value;
        X509Name subject = commonName is null
            ? new X509Name(new List<DerObjectIdentifier>(), new List<string>())
            : new X509Name(new List<DerObjectIdentifier> { X509Name.CN }, new List<string> { commonName });

        var extensions = new X509ExtensionsGenerator();
        extensions.AddExtension(X509Extensions.SubjectAlternativeName, false, new GeneralNames(names.ToArray()));
        var attribute = new AttributePkcs(PkcsObjectIdentifiers.Pkcs9AtExtensionRequest, new DerSet(extensions.Generate()));

        string signatureAlgorithm = key.KeyType == "EC"
            ? (key.KeySize == 384 ? "SHA384WITHECDSA" : "SHA256WITHECDSA")
            : "SHA256WITHRSA";
        var factory = new Asn1SignatureFactory(signatureAlgorithm, key.ToBouncyCastlePrivate());
        var request = new Pkcs10CertificationRequest(factory, subject, key.ToBouncyCastlePublic(), new DerSet(attribute));
        return request.GetDerEncoded();
    }

    /// <summary>The identifiers a CSR asks for (SAN DNS names and IP addresses, and a subject CN), for checks before finalize.</summary>
    public static IReadOnlyList<AcmeIdentifier> ReadIdentifiers(byte[] csrDer, out byte[] subjectPublicKeyInfo)
    {
        Pkcs10CertificationRequest request;
        try
        {
            request = new Pkcs10CertificationRequest(csrDer);
        }
        catch (Exception e) when (e is ArgumentException || e is InvalidCastException || e is System.IO.IOException || e is InvalidOperationException)
        {
            throw new AcmeArgumentException("AcmeInvalidCsr", "The CSR could not be read: it is not a DER or PEM PKCS#10 request.", e);
        }

        if (!request.Verify())
        {
            throw new AcmeArgumentException("AcmeInvalidCsr", "The CSR's signature does not verify with its own public key.");
        }

        CertificationRequestInfo info = request.GetCertificationRequestInfo();
        subjectPublicKeyInfo = info.SubjectPublicKeyInfo.GetDerEncoded();
        var identifiers = new List<AcmeIdentifier>();
        foreach (AttributePkcs attribute in info.Attributes?.OfType<Asn1Encodable>()
            .Select(AttributePkcs.GetInstance) ?? Enumerable.Empty<AttributePkcs>())
        {
            if (!attribute.AttrType.Equals(PkcsObjectIdentifiers.Pkcs9AtExtensionRequest))
            {
                continue;
            }

            foreach (Asn1Encodable value in attribute.AttrValues)
            {
                X509Extensions extensions = X509Extensions.GetInstance(value);
                X509Extension? san = extensions.GetExtension(X509Extensions.SubjectAlternativeName);
                if (san is null)
                {
                    continue;
                }

                foreach (GeneralName name in GeneralNames.GetInstance(san.GetParsedValue()).GetNames())
                {
                    if (name.TagNo == GeneralName.DnsName)
                    {
                        identifiers.Add(new AcmeIdentifier(AcmeIdentifier.DnsType, name.Name.ToString()!.ToLowerInvariant()));
                    }
                    else if (name.TagNo == GeneralName.IPAddress)
                    {
                        byte[] bytes = Asn1OctetString.GetInstance(name.Name).GetOctets();
                        identifiers.Add(new AcmeIdentifier(AcmeIdentifier.IpType, new IPAddress(bytes).ToString()));
                    }
                }
            }
        }

        foreach (string cn in info.Subject.GetValueList(X509Name.CN))
        {
            var identifier = new AcmeIdentifier(AcmeIdentifier.DnsType, cn.ToLowerInvariant());
            if (!identifiers.Contains(identifier))
            {
                identifiers.Add(identifier);
            }
        }

        return identifiers.Distinct().ToArray();
    }
}
