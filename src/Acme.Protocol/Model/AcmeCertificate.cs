using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;

namespace Acme.Protocol.Model;

/// <summary>
/// An issued certificate with its chain and private key. The key is reachable for export but never
/// shown: no property returns private material, and <see cref="AcmeKey.ToString"/> prints only the
/// key type and public thumbprint.
/// </summary>
public sealed class AcmeCertificate
{
    public AcmeCertificate(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> chain, string pem)
    {
        Certificate = certificate ?? throw new ArgumentNullException(nameof(certificate));
        Chain = chain ?? throw new ArgumentNullException(nameof(chain));
        Pem = pem ?? throw new ArgumentNullException(nameof(pem));
        Names = ReadSubjectAlternativeNames(certificate);
    }

    /// <summary>The end-entity certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The issuer certificates that follow the end-entity certificate, nearest first.</summary>
    public IReadOnlyList<X509Certificate2> Chain { get; }

    /// <summary>The chain as the CA sent it: "application/pem-certificate-chain" (RFC 8555 section 9.1).</summary>
    public string Pem { get; }

    /// <summary>The certificate's private key, when this module made it or was given it.</summary>
    public AcmeKey? Key { get; internal set; }

    /// <summary>The certificate URL on the CA.</summary>
    public Uri? Location { get; internal set; }

    public AcmeOrder? Order { get; internal set; }

    /// <summary>
    /// The other chains the CA offered for the same certificate (RFC 8555 section 7.4.2, Link
    /// rel="alternate"), each a complete AcmeCertificate that can be exported on its own.
    /// </summary>
    public IReadOnlyList<AcmeCertificate> AlternateChains { get; internal set; } = Array.Empty<AcmeCertificate>();

    /// <summary>The certificate's name in its state folder (shared by its earlier and later versions); null when not saved.</summary>
    public string? Name { get; internal set; }

    public string? StatePath => SavedIn?.Root;

    internal IStateLocation? SavedIn { get; set; }

    /// <summary>The server whose folder the certificate is saved in (it holds the trust saved for it).</summary>
    internal AcmeServer? SavedServer { get; set; }

    /// <summary>When this version was saved in the state, to the second (null for a certificate not read from a state).</summary>
    public DateTimeOffset? SavedAt { get; internal set; }

    /// <summary>When this module revoked the certificate (as recorded in its state folder).</summary>
    public DateTimeOffset? RevokedAt { get; internal set; }

    /// <summary>Whole days until NotAfter (rounded down, negative once expired), counted when read: Where-Object DaysLeft -lt 30 and Sort-Object DaysLeft work.</summary>
    public int DaysLeft => (int)Math.Floor((Certificate.NotAfter.ToUniversalTime() - DateTime.UtcNow).TotalDays);

    /// <summary>The cert.pem this version was last exported to (Export-AcmeCertificate, New-AcmeCertificate), as recorded in its state folder; null when never.</summary>
    public string? CertFile { get; internal set; }

    /// <summary>The key.pem of the last PEM export of this version; null when never, or when the export had no key.</summary>
    public string? KeyFile { get; internal set; }

    /// <summary>The chain.pem of the last PEM export of this version.</summary>
    public string? ChainFile { get; internal set; }

    /// <summary>The fullchain.pem of the last PEM export of this version.</summary>
    public string? FullChainFile { get; internal set; }

    /// <summary>The PFX file this version was last exported to.</summary>
    public string? PfxFile { get; internal set; }

    /// <summary>When this version was last exported (PEM or PFX), as recorded in its state folder.</summary>
    public DateTimeOffset? ExportedAt { get; internal set; }

    /// <summary>Records a PEM or PFX export on this object (the state folder records it through CertificateSteps).</summary>
    internal void SetExport(CertificateExport export)
    {
        if (export.CertFile is not null)
        {
            CertFile = export.CertFile;
            ChainFile = export.ChainFile;
            FullChainFile = export.FullChainFile;
            KeyFile = export.KeyFile;
        }

        if (export.PfxFile is not null)
        {
            PfxFile = export.PfxFile;
        }

        ExportedAt = export.At;
    }

    /// <summary>What New-AcmeCertificate did in the run that wrote this object (Issued, Renewed, Reexported, Unchanged); null elsewhere.</summary>
    public AcmeIssueResult? Result { get; internal set; }

    /// <summary>When New-AcmeCertificate's run that wrote this object will renew it (the renewal check's moment); null elsewhere.</summary>
    public DateTimeOffset? RenewAt { get; internal set; }

    /// <summary>
    /// The names of this certificate validated with dns-persist-01 and the TXT records they stay valid
    /// through (saved with its order): what Test-AcmeRenewal checks before the next renewal. Empty otherwise.
    /// </summary>
    public IReadOnlyList<AcmePersistentRecord> PersistentRecords => Order?.PersistentRecords ?? Array.Empty<AcmePersistentRecord>();

    /// <summary>The DNS names and IP addresses in the subjectAltName extension.</summary>
    public string[] Names { get; }

    public DateTime NotBefore => Certificate.NotBefore;

    public DateTime NotAfter => Certificate.NotAfter;

    public string Thumbprint => Certificate.Thumbprint;

    public string SerialNumber => Certificate.SerialNumber;

    public string Subject => Certificate.Subject;

    public string Issuer => Certificate.Issuer;

    /// <summary>The issuer name of the topmost certificate in the chain, for preferred-chain choices.</summary>
    public string? ChainIssuer => Chain.Count > 0 ? Chain[Chain.Count - 1].Issuer : null;

    /// <summary>
    /// True when the certificate is for exactly these DNS names and IP addresses, in any order, compared
    /// as New-AcmeCertificate compares them (each one normalised as an order would send it: lower case,
    /// an international name in its ASCII form, an IPv6 address in canonical form). Throws
    /// AcmeArgumentException for a name that is not valid.
    /// </summary>
    public bool HasNames(IEnumerable<string> names) => HasIdentifiers(IdentifierParser.Parse(names));

    internal bool HasIdentifiers(IEnumerable<AcmeIdentifier> identifiers) =>
        new HashSet<string>(Names, StringComparer.OrdinalIgnoreCase).SetEquals(identifiers.Select(i => i.Value));

    /// <summary>The most certificates a chain from a CA may hold, the end-entity certificate included.</summary>
    public const int MaxChainCertificates = 10;

    /// <summary>The largest one certificate of a chain from a CA may be (DER bytes).</summary>
    public const int MaxCertificateBytes = 64 * 1024;

    /// <summary>Parses an "application/pem-certificate-chain" body into an end-entity certificate and its chain.</summary>
    public static AcmeCertificate FromPem(string pem) => FromBlocks(Decode(pem), pem);

    /// <summary>
    /// <see cref="FromPem"/> for a chain a CA sent, bounded first: at most <see cref="MaxChainCertificates"/>
    /// certificates of at most <see cref="MaxCertificateBytes"/> each. Real chains hold two to four
    /// certificates of one or two KiB; RFC 8555 section 9.1 sets no limit, so without one a CA could
    /// have a megabyte of copies saved and exported as fullchain.pem. A chain past the bounds is refused
    /// (AcmeChainTooLong) before anything is parsed, saved or exported.
    /// </summary>
    internal static AcmeCertificate FromCaPem(string pem, Uri source)
    {
        IReadOnlyList<PemBlock> blocks = Decode(pem);
        int count = blocks.Count(b => b.Label == "CERTIFICATE");
        if (count > MaxChainCertificates)
        {
            throw new AcmeProtocolException(AcmeErrorId.ChainTooLong,
                $"The certificate chain at {source.AbsoluteUri} holds {count} certificates, more than the {MaxChainCertificates} a chain may have; " +
                "it was not saved or exported.", null);
        }

        PemBlock? large = blocks.FirstOrDefault(b => b.Label == "CERTIFICATE" && b.Data.Length > MaxCertificateBytes);
        if (large is not null)
        {
            throw new AcmeProtocolException(AcmeErrorId.ChainTooLong,
                $"The certificate chain at {source.AbsoluteUri} holds a certificate of {large.Data.Length} bytes, more than the {MaxCertificateBytes} " +
                "one may have; it was not saved or exported.", null);
        }

        return FromBlocks(blocks, pem);
    }


    private static IReadOnlyList<PemBlock> Decode(string pem)
    {
        try
        {
            return Crypto.Pem.Decode(pem);
        }
        catch (FormatException e)
        {
            throw new AcmeProtocolException("The certificate chain is not valid PEM: " + e.Message, e);
        }
    }

    private static AcmeCertificate FromBlocks(IReadOnlyList<PemBlock> blocks, string pem)
    {
        X509Certificate2[] certificates;
        try
        {
            certificates = blocks.Where(b => b.Label == "CERTIFICATE").Select(b => new X509Certificate2(b.Data)).ToArray();
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new AcmeProtocolException("The certificate chain holds a certificate that cannot be parsed.", e);
        }

        if (certificates.Length == 0)
        {
            throw new AcmeProtocolException("The certificate chain holds no certificate.");
        }

        return new AcmeCertificate(certificates[0], certificates.Skip(1).ToArray(), pem);
    }

    internal static string[] ReadSubjectAlternativeNames(X509Certificate2 certificate)
    {
#if NET
        // The platform reads the extension (no BouncyCastle in a fresh PowerShell 7 process); same order, same text.
        var platformNames = new List<string>();
        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != "2.5.29.17")
            {
                continue;
            }

            var sequence = new System.Formats.Asn1.AsnReader(extension.RawData, System.Formats.Asn1.AsnEncodingRules.DER).ReadSequence();
            while (sequence.HasData)
            {
                System.Formats.Asn1.Asn1Tag tag = sequence.PeekTag();
                if (tag.TagClass == System.Formats.Asn1.TagClass.ContextSpecific && tag.TagValue == 2 && !tag.IsConstructed)
                {
                    platformNames.Add(sequence.ReadCharacterString(System.Formats.Asn1.UniversalTagNumber.IA5String, tag));
                }
                else if (tag.TagClass == System.Formats.Asn1.TagClass.ContextSpecific && tag.TagValue == 7 && !tag.IsConstructed)
                {
                    byte[] bytes = sequence.ReadOctetString(tag);
                    if (bytes.Length == 4 || bytes.Length == 16)
                    {
                        platformNames.Add(new IPAddress(bytes).ToString());
                    }
                }
                else
                {
                    sequence.ReadEncodedValue();
                }
            }
        }

        return platformNames.ToArray();
#else
        var parsed = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(certificate.RawData);
        var names = new List<string>();
        var sans = parsed.GetSubjectAlternativeNames();
        if (sans is null)
        {
            return Array.Empty<string>();
        }

        foreach (IList<object> entry in sans)
        {
            int tag = (int)entry[0];
            string? value = entry[1] as string;
            if (value is null)
            {
                continue;
            }

            if (tag == Org.BouncyCastle.Asn1.X509.GeneralName.DnsName)
            {
                names.Add(value);
            }
            else if (tag == Org.BouncyCastle.Asn1.X509.GeneralName.IPAddress)
            {
                // BouncyCastle renders IPv4 as dotted text and IPv6 as hex pairs; normalise the latter.
                names.Add(IPAddress.TryParse(value, out IPAddress? ip) ? ip.ToString() : value);
            }
        }

        return names.ToArray();
#endif
    }

    public override string ToString() => $"{string.Join(", ", Names)} (until {NotAfter:u})";
}
