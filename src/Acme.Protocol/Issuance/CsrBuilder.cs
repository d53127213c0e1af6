using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Pkcs;

namespace Acme.Protocol.Issuance;

/// <summary>Builds the PKCS#10 CSR that finalize sends (RFC 8555 section 7.4, RFC 2986).</summary>
public static partial class CsrBuilder
{
    /// <summary>
    /// "The CSR MUST indicate the exact same set of requested identifiers as the initial newOrder
    /// request. Identifiers of type 'dns' MUST appear either in the commonName portion of the
    /// requested subject name or in an extensionRequest attribute requesting a subjectAltName
    /// extension, or both" (RFC 8555 section 7.4). Every identifier goes into the SAN; IP identifiers
    /// as iPAddress entries (RFC 8738 section 3), never as DNS names. The first DNS name short enough
    /// for a commonName (64 characters) is also the subject CN, which older servers still read, unless
    /// <paramref name="commonName"/> is false (see <see cref="IncludesCommonName"/>); an IP address never
    /// is. The CSR asks for no other extension: no extendedKeyUsage (Let's Encrypt 2026: the CA decides
    /// the EKU, and its tlsserver profile refuses clientAuth), no keyUsage.
    /// </summary>
    public static byte[] Build(AcmeKey key, IReadOnlyList<AcmeIdentifier> identifiers) => Build(key, identifiers, commonName: true);

    /// <inheritdoc cref="Build(AcmeKey, IReadOnlyList{AcmeIdentifier})"/>
    public static byte[] Build(AcmeKey key, IReadOnlyList<AcmeIdentifier> identifiers, bool commonName)
    {
        if (key is null)
        {
            throw new ArgumentNullException(nameof(key));
        }

        if (identifiers is null || identifiers.Count == 0)
        {
            throw new AcmeArgumentException(AcmeErrorId.NoIdentifier, "A CSR needs at least one identifier.");
        }

#if NET
        return BuildWithPlatform(key, identifiers, commonName);
#else
        return BuildWithBouncyCastle(key, identifiers, commonName);
#endif
    }

    /// <summary>The CSR built by BouncyCastle: what netstandard2.0 (Windows PowerShell 5.1) sends; on .NET the tests compare it with <c>BuildWithPlatform</c>.</summary>
    internal static byte[] BuildWithBouncyCastle(AcmeKey key, IReadOnlyList<AcmeIdentifier> identifiers, bool commonName)
    {
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
                throw new AcmeArgumentException(AcmeErrorId.UnsupportedIdentifier, $"Identifiers of type '{identifier.Type}' cannot go into a CSR.");
            }
        }

        string? cn = CommonName(identifiers, commonName);
        X509Name subject = cn is null
            ? new X509Name(new List<DerObjectIdentifier>(), new List<string>())
            : new X509Name(new List<DerObjectIdentifier> { X509Name.CN }, new List<string> { cn });

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

    /// <summary>The subject CN: the first DNS name of at most 64 characters, unless the profile wants none.</summary>
    private static string? CommonName(IReadOnlyList<AcmeIdentifier> identifiers, bool commonName) =>
        commonName ? identifiers.FirstOrDefault(i => i.Type == AcmeIdentifier.DnsType && i.Value.Length <= 64)?.Value : null;

    /// <summary>
    /// Whether the CSR names a subject CN for an order with this profile. Let's Encrypt's CN-less
    /// profiles (tlsserver, shortlived: the CA puts no CN in the certificate, and the CA/B Forum
    /// baseline requirements deprecate it) get none, so the request asks for what the certificate will
    /// be; any other profile, or none, keeps the first DNS name as CN for CAs that still read it.
    /// </summary>
    public static bool IncludesCommonName(string? profile) =>
        profile is null || !s_commonNameLessProfiles.Contains(profile, StringComparer.OrdinalIgnoreCase);

    private static readonly string[] s_commonNameLessProfiles = { "tlsserver", "shortlived" };

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
            throw new AcmeArgumentException(AcmeErrorId.InvalidCsr, "The CSR could not be read: it is not a DER or PEM PKCS#10 request.", e);
        }

        if (!request.Verify())
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidCsr, "The CSR's signature does not verify with its own public key.");
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
            // Some tools put an IP address in the CN; it names the same "ip" identifier as the SAN.
            var identifier = IPAddress.TryParse(cn, out IPAddress? address) && (cn.IndexOf(':') >= 0 || cn.Split('.').Length == 4)
                ? new AcmeIdentifier(AcmeIdentifier.IpType, address.ToString())
                : new AcmeIdentifier(AcmeIdentifier.DnsType, cn.ToLowerInvariant());
            if (!identifiers.Contains(identifier))
            {
                identifiers.Add(identifier);
            }
        }

        return identifiers.Distinct().ToArray();
    }

    /// <summary>
    /// RFC 8555 section 7.4: "The CSR MUST indicate the exact same set of requested identifiers as the
    /// initial newOrder request." A CSR the user brought is checked before finalize, so a difference is
    /// named here instead of coming back from the CA as badCSR. Returns the CSR's SubjectPublicKeyInfo.
    /// </summary>
    public static byte[] EnsureMatchesOrder(byte[] csrDer, IReadOnlyList<AcmeIdentifier> orderIdentifiers)
    {
        if (csrDer is null || csrDer.Length == 0)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidCsr, "The CSR is empty.");
        }

        List<AcmeIdentifier> requested = ReadIdentifiers(csrDer, out byte[] subjectPublicKeyInfo).Select(Canonical).ToList();
        List<AcmeIdentifier> ordered = orderIdentifiers.Select(Canonical).ToList();
        List<AcmeIdentifier> missing = ordered.Except(requested).ToList();
        List<AcmeIdentifier> extra = requested.Except(ordered).ToList();
        if (missing.Count > 0 || extra.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0)
            {
                parts.Add("the order names " + string.Join(", ", missing.Select(i => i.Value)) + " but the CSR does not");
            }

            if (extra.Count > 0)
            {
                parts.Add("the CSR asks for " + string.Join(", ", extra.Select(i => i.Value)) + " which the order does not name");
            }

            throw new AcmeArgumentException(AcmeErrorId.CsrMismatch,
                "The CSR does not ask for exactly the order's identifiers: " + string.Join("; ", parts) + ".");
        }

        return subjectPublicKeyInfo;
    }

    /// <summary>IP addresses compared as addresses ("::1" and "0:0:0:0:0:0:0:1" are one identifier).</summary>
    private static AcmeIdentifier Canonical(AcmeIdentifier identifier) =>
        identifier.Type == AcmeIdentifier.IpType && IPAddress.TryParse(identifier.Value, out IPAddress? address)
            ? new AcmeIdentifier(AcmeIdentifier.IpType, address.ToString())
            : identifier;
}
