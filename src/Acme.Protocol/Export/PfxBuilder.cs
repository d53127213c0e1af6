using System.Collections.Generic;
using System.IO;
using System.Linq;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace Acme.Protocol.Export;

/// <summary>PKCS#12 (PFX) files for a certificate, its chain and its key.</summary>
public static class PfxBuilder
{
    /// <summary>
    /// By default the key and certificates are encrypted with AES-256-CBC under PBKDF2-HMAC-SHA256
    /// (PBES2), which OpenSSL 3 reads without its legacy provider and Windows 10 1709 and later import.
    /// <paramref name="legacy"/> uses SHA1 with 3DES, for Windows Server 2016 and older readers.
    /// </summary>
    public static byte[] Build(AcmeCertificate certificate, char[] password, bool legacy = false, string? friendlyName = null)
    {
        if (certificate.Key is null)
        {
            throw new AcmeArgumentException(AcmeErrorId.CertificateKeyMissing,
                "The certificate has no private key in this session, so no PFX can be made; export the PEM files instead.");
        }

        var builder = new Pkcs12StoreBuilder().SetUseDerEncoding(true);
        if (legacy)
        {
            builder.SetKeyAlgorithm(PkcsObjectIdentifiers.PbeWithShaAnd3KeyTripleDesCbc)
                .SetCertAlgorithm(PkcsObjectIdentifiers.PbeWithShaAnd3KeyTripleDesCbc);
        }
        else
        {
            builder.SetKeyAlgorithm(NistObjectIdentifiers.IdAes256Cbc, PkcsObjectIdentifiers.IdHmacWithSha256)
                .SetCertAlgorithm(NistObjectIdentifiers.IdAes256Cbc, PkcsObjectIdentifiers.IdHmacWithSha256);
        }

        Pkcs12Store store = builder.Build();
        var parser = new X509CertificateParser();
        var entries = new List<X509CertificateEntry> { new(parser.ReadCertificate(certificate.Certificate.RawData)) };
        entries.AddRange(certificate.Chain.Select(c => new X509CertificateEntry(parser.ReadCertificate(c.RawData))));
        string alias = friendlyName ?? certificate.Names.FirstOrDefault() ?? certificate.Thumbprint;
        store.SetKeyEntry(alias, new AsymmetricKeyEntry(certificate.Key.ToBouncyCastlePrivate()), entries.ToArray());
        using var stream = new MemoryStream();
        store.Save(stream, password, new SecureRandom());
        return stream.ToArray();
    }
}
