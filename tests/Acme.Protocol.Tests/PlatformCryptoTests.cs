using System;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Issuance;
using Acme.Protocol.Model;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>
/// The net10.0 build (PowerShell 7) builds CSRs and writes and reads keys with the platform; the
/// netstandard2.0 build (Windows PowerShell 5.1) with BouncyCastle. The two must write the same request
/// and read each other's key files.
/// </summary>
public class PlatformCryptoTests
{
    public static TheoryData<AcmeKeyAlgorithm, string, bool> CsrCases => new()
    {
        { AcmeKeyAlgorithm.EC256, "example.com,www.example.com", true },
        { AcmeKeyAlgorithm.EC384, "example.com,192.0.2.7,2001:db8::1", true },
        { AcmeKeyAlgorithm.RSA2048, "*.Example.ORG,example.org", true },
        { AcmeKeyAlgorithm.EC256, "a-name-that-is-longer-than-sixty-four-characters-so-it-is-no-cn.example.com,short.example.com", true },
        { AcmeKeyAlgorithm.EC256, "example.com,www.example.com", false },
        { AcmeKeyAlgorithm.EC256, "192.0.2.7", true },
    };

    [Theory]
    [MemberData(nameof(CsrCases))]
    public void ThePlatformCsrHasTheFieldsOfTheBouncyCastleCsr(AcmeKeyAlgorithm algorithm, string names, bool commonName)
    {
        using AcmeKey key = AcmeKey.Generate(algorithm);
        AcmeIdentifier[] identifiers = names.Split(',')
            .Select(n => new AcmeIdentifier(n.Contains(':') || char.IsDigit(n[0]) ? AcmeIdentifier.IpType : AcmeIdentifier.DnsType, n))
            .ToArray();

        byte[] platform = CsrBuilder.BuildWithPlatform(key, identifiers, commonName);
        byte[] bouncy = CsrBuilder.BuildWithBouncyCastle(key, identifiers, commonName);

        var p = new Pkcs10CertificationRequest(platform);
        var b = new Pkcs10CertificationRequest(bouncy);
        Assert.True(p.Verify());
        CertificationRequestInfo pi = p.GetCertificationRequestInfo();
        CertificationRequestInfo bi = b.GetCertificationRequestInfo();
        // Build is the platform builder in this (net10.0) build: the signed part is the same, byte for byte (ECDSA signatures are random).
        Assert.Equal(pi.GetDerEncoded(), new Pkcs10CertificationRequest(CsrBuilder.Build(key, identifiers, commonName)).GetCertificationRequestInfo().GetDerEncoded());
        Assert.Equal(bi.Version.IntValueExact, pi.Version.IntValueExact);
        Assert.Equal(bi.Subject.GetDerEncoded(), pi.Subject.GetDerEncoded());
        Assert.Equal(bi.SubjectPublicKeyInfo.GetDerEncoded(), pi.SubjectPublicKeyInfo.GetDerEncoded());
        Assert.Equal(bi.Attributes.GetDerEncoded(), pi.Attributes.GetDerEncoded());
        Assert.Equal(b.SignatureAlgorithm.GetDerEncoded(), p.SignatureAlgorithm.GetDerEncoded());

        // What the module reads back from its own request, and the CN rule.
        Assert.Equal(CsrBuilder.ReadIdentifiers(bouncy, out byte[] spkiB), CsrBuilder.ReadIdentifiers(platform, out byte[] spkiP));
        Assert.Equal(spkiB, spkiP);
        Assert.Equal(key.GetSubjectPublicKeyInfo(), spkiP);
        string? cn = commonName ? identifiers.FirstOrDefault(i => i.Type == AcmeIdentifier.DnsType && i.Value.Length <= 64)?.Value : null;
        Assert.Equal(cn, pi.Subject.GetValueList(Org.BouncyCastle.Asn1.X509.X509Name.CN).FirstOrDefault());
        Assert.DoesNotContain("2.5.29.37", pi.Attributes.GetDerEncoded().Length > 0 ? OidsIn(pi.Attributes) : Array.Empty<string>());
    }

    private static string[] OidsIn(Asn1Encodable value) =>
        value.ToAsn1Object() switch
        {
            DerObjectIdentifier oid => new[] { oid.Id },
            Asn1Sequence seq => seq.OfType<Asn1Encodable>().SelectMany(OidsIn).ToArray(),
            Asn1Set set => set.OfType<Asn1Encodable>().SelectMany(OidsIn).ToArray(),
            Asn1OctetString octets => TryParse(octets.GetOctets()) is { } inner ? OidsIn(inner) : Array.Empty<string>(),
            _ => Array.Empty<string>(),
        };

    private static Asn1Object? TryParse(byte[] der)
    {
        try { return Asn1Object.FromByteArray(der); } catch (Exception) { return null; }
    }

    [Theory]
    [InlineData(AcmeKeyAlgorithm.EC256)]
    [InlineData(AcmeKeyAlgorithm.EC384)]
    [InlineData(AcmeKeyAlgorithm.RSA2048)]
    public void EachLibraryReadsTheOthersPkcs8(AcmeKeyAlgorithm algorithm)
    {
        using AcmeKey key = AcmeKey.Generate(algorithm);

        // The platform's file, read by BouncyCastle (what the netstandard2.0 build does).
        PemBlock block = Pem.Decode(key.ExportPkcs8Pem()).Single();
        using (AcmeKey read = AcmeKey.FromBouncyCastle(PrivateKeyFactory.CreateKey(block.Data)))
        {
            Assert.Equal(key.Thumbprint, read.Thumbprint);
        }

        // BouncyCastle's file (what Windows PowerShell 5.1 wrote), read by the platform.
        byte[] bouncy = PrivateKeyInfoFactory.CreatePrivateKeyInfo(key.ToBouncyCastlePrivate()).GetDerEncoded();
        using AcmeKey platform = AcmeKey.TryImportPkcs8WithPlatform(bouncy) ?? throw new Xunit.Sdk.XunitException("the platform did not read the key");
        Assert.Equal(key.Thumbprint, platform.Thumbprint);
    }

    [Theory]
    [InlineData(AcmeKeyAlgorithm.EC256)]
    [InlineData(AcmeKeyAlgorithm.RSA2048)]
    public void EachLibraryReadsTheOthersEncryptedPkcs8(AcmeKeyAlgorithm algorithm)
    {
        using AcmeKey key = AcmeKey.Generate(algorithm);
        char[] passphrase = "pässwörd ÿ".ToCharArray();

        // The platform's file: the same PBES2 scheme BouncyCastle wrote, read by BouncyCastle.
        PemBlock block = Pem.Decode(key.ExportEncryptedPkcs8Pem(passphrase)).Single();
        Assert.Equal("ENCRYPTED PRIVATE KEY", block.Label);
        var info = EncryptedPrivateKeyInfo.GetInstance(block.Data);
        Assert.Equal(PkcsObjectIdentifiers.IdPbeS2, info.EncryptionAlgorithm.Algorithm);
        var pbes2 = PbeS2Parameters.GetInstance(info.EncryptionAlgorithm.Parameters);
        var pbkdf2 = Pbkdf2Params.GetInstance(pbes2.KeyDerivationFunc.Parameters);
        Assert.Equal(600_000, pbkdf2.IterationCount.IntValueExact);
        Assert.Equal(16, pbkdf2.GetSalt().Length);
        Assert.Equal(PkcsObjectIdentifiers.IdHmacWithSha256, pbkdf2.Prf.Algorithm);
        Assert.Equal(Org.BouncyCastle.Asn1.Nist.NistObjectIdentifiers.IdAes256Cbc, pbes2.EncryptionScheme.Algorithm);
        using (AcmeKey read = AcmeKey.FromBouncyCastle(PrivateKeyFactory.DecryptKey(passphrase, block.Data)))
        {
            Assert.Equal(key.Thumbprint, read.Thumbprint);
        }

        // BouncyCastle's file (the netstandard2.0 build's ExportEncryptedPkcs8Pem), read by the platform without BouncyCastle.
        byte[] salt = RandomNumberGenerator.GetBytes(16);
        byte[] bouncy = EncryptedPrivateKeyInfoFactory.CreateEncryptedPrivateKeyInfo(
            Org.BouncyCastle.Asn1.Nist.NistObjectIdentifiers.IdAes256Cbc, PkcsObjectIdentifiers.IdHmacWithSha256,
            passphrase, salt, 600_000, new SecureRandom(), key.ToBouncyCastlePrivate()).GetDerEncoded();
        using (AcmeKey platform = AcmeKey.TryImportEncryptedPkcs8WithPlatform(bouncy, passphrase) ?? throw new Xunit.Sdk.XunitException("the platform did not decrypt the key"))
        {
            Assert.Equal(key.Thumbprint, platform.Thumbprint);
        }

        // A wrong passphrase still gets the error id it always had.
        Assert.Null(AcmeKey.TryImportEncryptedPkcs8WithPlatform(bouncy, "wrong".ToCharArray()));
        var e = Assert.Throws<AcmeArgumentException>(() => AcmeKey.ImportPem(Pem.Encode("ENCRYPTED PRIVATE KEY", bouncy), "wrong".ToCharArray()));
        Assert.Equal(AcmeErrorId.KeyPasswordIncorrect, e.Id);

        // A character BouncyCastle cannot encode is refused with a clear error, not written in a form the other build cannot read.
        Assert.Equal(AcmeErrorId.InvalidPassword, Assert.Throws<AcmeArgumentException>(() => key.ExportEncryptedPkcs8Pem("鍵".ToCharArray())).Id);
    }

    [Fact]
    public void CertificateNamesKeyMatchAndAriIdAreReadAsBouncyCastleReadsThem()
    {
        using var issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var issuerRequest = new CertificateRequest("CN=Test CA", issuerKey, HashAlgorithmName.SHA256);
        issuerRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        issuerRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(issuerRequest.PublicKey, false));
        using X509Certificate2 issuer = issuerRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

        using AcmeKey leafKey = AcmeKey.Generate(AcmeKeyAlgorithm.EC256);
        byte[] csr = CsrBuilder.Build(leafKey, new[]
        {
            new AcmeIdentifier(AcmeIdentifier.DnsType, "example.com"),
            new AcmeIdentifier(AcmeIdentifier.IpType, "2001:db8::1"),
            new AcmeIdentifier(AcmeIdentifier.DnsType, "www.example.com"),
            new AcmeIdentifier(AcmeIdentifier.IpType, "192.0.2.7"),
        });
        CertificateRequest leafRequest = CertificateRequest.LoadSigningRequest(csr, HashAlgorithmName.SHA256,
            CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        leafRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        // A serial with its top bit set keeps its leading zero in DER (RFC 9773's example).
        using X509Certificate2 leaf = leafRequest.Create(issuer, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10), new byte[] { 0x00, 0x87, 0x65, 0x43, 0x21 });

        Assert.Equal(new[] { "example.com", "2001:db8::1", "www.example.com", "192.0.2.7" }, AcmeCertificate.ReadSubjectAlternativeNames(leaf));
        Assert.True(leafKey.MatchesCertificate(leaf));
        using AcmeKey other = AcmeKey.Generate(AcmeKeyAlgorithm.EC256);
        Assert.False(other.MatchesCertificate(leaf));

        var parsed = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(leaf.RawData);
        byte[] aki = Org.BouncyCastle.Asn1.X509.AuthorityKeyIdentifier.GetInstance(
            Org.BouncyCastle.X509.Extension.X509ExtensionUtilities.FromExtensionValue(
                parsed.GetExtensionValue(Org.BouncyCastle.Asn1.X509.X509Extensions.AuthorityKeyIdentifier))).KeyIdentifier.GetOctets();
        Assert.Equal(AcmeRenewalInfo.FormatCertificateId(aki, parsed.SerialNumber.ToByteArray()), AcmeRenewalInfo.GetCertificateId(leaf));
        Assert.EndsWith(".AIdlQyE", AcmeRenewalInfo.GetCertificateId(leaf));
    }

    [Theory]
    [InlineData("correct horse battery staple")]
    [InlineData("pässwörd ÿ € 𝄞")]
    public void ASecretSealedByEitherBuildOpensInTheOther(string passphraseText)
    {
        char[] passphrase = passphraseText.ToCharArray();
        const string Secret = "tsig-secret: c2VjcmV0LWJ5dGVz ✓";

        // Sealed by the platform (this build), opened with BouncyCastle as the netstandard2.0 build does.
        string[] parts = PassphraseSecret.Seal(Secret, passphrase).Split('.');
        byte[] salt = Base64Url.Decode(parts[2]);
        byte[] key = PassphraseSecret.KeyWithBouncyCastle(System.Text.Encoding.UTF8.GetBytes(passphrase), salt, int.Parse(parts[1]));
        byte[] plain = PassphraseSecret.RunBouncyCastle(false, key, Base64Url.Decode(parts[3]), Base64Url.Decode(parts[4]));
        Assert.Equal(Secret, System.Text.Encoding.UTF8.GetString(plain));

        // Sealed with BouncyCastle, opened by the platform.
        byte[] nonce = RandomNumberGenerator.GetBytes(12);
        byte[] sealedBytes = PassphraseSecret.RunBouncyCastle(true, key, nonce, System.Text.Encoding.UTF8.GetBytes(Secret));
        string bouncySealed = string.Join(".", "v1", parts[1], parts[2], Base64Url.Encode(nonce), Base64Url.Encode(sealedBytes));
        Assert.Equal(Secret, PassphraseSecret.Open(bouncySealed, passphrase));

        // A wrong passphrase, a changed tag byte and a cut-off text are refused, not read as another value.
        Assert.Equal(AcmeErrorId.KeyPasswordIncorrect,
            Assert.Throws<AcmeArgumentException>(() => PassphraseSecret.Open(bouncySealed, "wrong".ToCharArray())).Id);
        sealedBytes[^1] ^= 1;
        string tampered = string.Join(".", "v1", parts[1], parts[2], Base64Url.Encode(nonce), Base64Url.Encode(sealedBytes));
        Assert.Equal(AcmeErrorId.KeyPasswordIncorrect,
            Assert.Throws<AcmeArgumentException>(() => PassphraseSecret.Open(tampered, passphrase)).Id);
        string cut = string.Join(".", "v1", parts[1], parts[2], Base64Url.Encode(nonce), Base64Url.Encode(sealedBytes.AsSpan(0, 10).ToArray()));
        Assert.Equal(AcmeErrorId.StateCorrupt, Assert.Throws<AcmeLocalException>(() => PassphraseSecret.Open(cut, passphrase)).Id);
    }
}
