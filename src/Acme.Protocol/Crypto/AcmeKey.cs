using System;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using Acme.Protocol.Errors;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;

namespace Acme.Protocol.Crypto;

/// <summary>The key types this module generates, for account keys and certificate keys.</summary>
public enum AcmeKeyAlgorithm
{
    /// <summary>ECDSA on NIST P-256; signs JWS with ES256. The default: small, fast, accepted everywhere.</summary>
    EC256,

    /// <summary>ECDSA on NIST P-384; signs JWS with ES384.</summary>
    EC384,

    /// <summary>RSA 2048-bit; signs JWS with RS256.</summary>
    RSA2048,

    /// <summary>RSA 3072-bit; signs JWS with RS256.</summary>
    RSA3072,

    /// <summary>RSA 4096-bit; signs JWS with RS256.</summary>
    RSA4096,
}

/// <summary>
/// A private key: an account key that signs JWS, or a certificate key. The private half is never
/// part of <see cref="ToString"/> or any property; it leaves only through <see cref="ExportPkcs8Pem"/>.
/// </summary>
public sealed partial class AcmeKey : IDisposable
{
    private const int MinRsaBits = 2048;
    private const int MaxRsaBits = 8192;

    private readonly AsymmetricAlgorithm _key;
    private readonly object _signLock = new();
    private string? _thumbprint;

    private AcmeKey(AsymmetricAlgorithm key)
    {
        _key = key;
        KeySize = key.KeySize;
        if (key is ECDsa ec)
        {
            KeyType = "EC";
            (JwsAlgorithm, Curve, HashAlgorithm) = KeySize switch
            {
                256 => ("ES256", "P-256", HashAlgorithmName.SHA256),
                384 => ("ES384", "P-384", HashAlgorithmName.SHA384),
                _ => throw new AcmeArgumentException(AcmeErrorId.UnsupportedKey, $"EC keys on a {KeySize}-bit curve are not supported; use P-256 or P-384."),
            };
            ECParameters p = ec.ExportParameters(false);
            CanonicalJwk = EcCanonicalJwk(Curve, p.Q.X!, p.Q.Y!);
        }
        else if (key is RSA rsa)
        {
            KeyType = "RSA";
            if (KeySize < MinRsaBits || KeySize > MaxRsaBits)
            {
                throw new AcmeArgumentException(AcmeErrorId.UnsupportedKey,
                    $"An RSA key of {KeySize} bits is not accepted; use 2048 to {MaxRsaBits} bits.");
            }

            JwsAlgorithm = "RS256";
            HashAlgorithm = HashAlgorithmName.SHA256;
            RSAParameters p = rsa.ExportParameters(false);
            CanonicalJwk = RsaCanonicalJwk(p.Exponent!, p.Modulus!);
        }
        else
        {
            throw new AcmeArgumentException(AcmeErrorId.UnsupportedKey, "Only EC (P-256, P-384) and RSA keys are supported.");
        }
    }

    /// <summary>"EC" or "RSA".</summary>
    public string KeyType { get; }

    public int KeySize { get; }

    /// <summary>A name such as EC256 or RSA2048.</summary>
    public string Name => KeyType + KeySize;

    /// <summary>The JWS "alg" this key signs with (RFC 7518 section 3.1).</summary>
    public string JwsAlgorithm { get; }

    internal string? Curve { get; }

    internal HashAlgorithmName HashAlgorithm { get; }

    /// <summary>The public JWK with only the required members, in lexicographic order (RFC 7638 section 3.2).</summary>
    internal string CanonicalJwk { get; }

    /// <summary>The RFC 7638 JWK thumbprint: base64url(SHA-256(canonical JWK)). Public information.</summary>
    public string Thumbprint => _thumbprint ??= ComputeThumbprint(CanonicalJwk);

    /// <summary>RFC 7638 section 3: the SHA-256 of the UTF-8 canonical JWK, base64url-encoded.</summary>
    internal static string ComputeThumbprint(string canonicalJwk)
    {
        using SHA256 sha = SHA256.Create();
        return Base64Url.Encode(sha.ComputeHash(Encoding.UTF8.GetBytes(canonicalJwk)));
    }

    /// <summary>RFC 7638 section 3.2: an RSA JWK's required members "e", "kty", "n", in that order, no white space.</summary>
    internal static string RsaCanonicalJwk(byte[] exponent, byte[] modulus) =>
        "{\"e\":\"" + Base64Url.Encode(TrimLeadingZeros(exponent)) + "\",\"kty\":\"RSA\",\"n\":\"" +
        Base64Url.Encode(TrimLeadingZeros(modulus)) + "\"}";

    /// <summary>RFC 7638 section 3.2: an EC JWK's required members "crv", "kty", "x", "y"; coordinates at full curve size (RFC 7518 section 6.2.1.2).</summary>
    internal static string EcCanonicalJwk(string curve, byte[] x, byte[] y) =>
        "{\"crv\":\"" + curve + "\",\"kty\":\"EC\",\"x\":\"" + Base64Url.Encode(x) + "\",\"y\":\"" + Base64Url.Encode(y) + "\"}";

    public static AcmeKey Generate(AcmeKeyAlgorithm algorithm)
    {
        switch (algorithm)
        {
            case AcmeKeyAlgorithm.EC256:
                return new AcmeKey(ECDsa.Create(ECCurve.NamedCurves.nistP256));
            case AcmeKeyAlgorithm.EC384:
                return new AcmeKey(ECDsa.Create(ECCurve.NamedCurves.nistP384));
            case AcmeKeyAlgorithm.RSA2048:
            case AcmeKeyAlgorithm.RSA3072:
            case AcmeKeyAlgorithm.RSA4096:
                RSA rsa = RSA.Create();
                rsa.KeySize = algorithm == AcmeKeyAlgorithm.RSA2048 ? 2048 : algorithm == AcmeKeyAlgorithm.RSA3072 ? 3072 : 4096;
                // Generation happens lazily on first use; export now so the cost is paid here.
                rsa.ExportParameters(false);
                return new AcmeKey(rsa);
            default:
                throw new ArgumentOutOfRangeException(nameof(algorithm));
        }
    }

    /// <summary>The private key as unencrypted PKCS#8 PEM. The caller must store it owner-only.</summary>
    public string ExportPkcs8Pem()
    {
#if NET
        return Pem.Encode("PRIVATE KEY", ExportPkcs8WithPlatform());
#else
        PrivateKeyInfo info = PrivateKeyInfoFactory.CreatePrivateKeyInfo(ToBouncyCastlePrivate());
        return Pem.Encode("PRIVATE KEY", info.GetDerEncoded());
#endif
    }

    /// <summary>The private key as PKCS#8 encrypted with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC).</summary>
    public string ExportEncryptedPkcs8Pem(char[] password)
    {
        if (password is null || password.Length == 0)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidPassword, "An empty passphrase cannot protect a key.");
        }

#if NET
        return Pem.Encode("ENCRYPTED PRIVATE KEY", ExportEncryptedPkcs8WithPlatform(password));
#else
        byte[] salt = new byte[16];
        using (var rng = RandomNumberGenerator.Create())
        {
            rng.GetBytes(salt);
        }

        EncryptedPrivateKeyInfo encrypted = EncryptedPrivateKeyInfoFactory.CreateEncryptedPrivateKeyInfo(
            Org.BouncyCastle.Asn1.Nist.NistObjectIdentifiers.IdAes256Cbc, PkcsObjectIdentifiers.IdHmacWithSha256,
            password, salt, 600_000, new SecureRandom(), ToBouncyCastlePrivate());
        return Pem.Encode("ENCRYPTED PRIVATE KEY", encrypted.GetDerEncoded());
#endif
    }

    /// <summary>Signs with the key's JWS algorithm: ECDSA signatures come as R||S (RFC 7518 section 3.4).</summary>
    internal byte[] Sign(byte[] data)
    {
        lock (_signLock)
        {
            return _key switch
            {
                ECDsa ec => ec.SignData(data, HashAlgorithm),
                RSA rsa => rsa.SignData(data, HashAlgorithm, RSASignaturePadding.Pkcs1),
                _ => throw new InvalidOperationException(),
            };
        }
    }

    internal AsymmetricKeyParameter ToBouncyCastlePrivate()
    {
        if (_key is ECDsa ec)
        {
            ECParameters p = ec.ExportParameters(true);
            DerObjectIdentifier oid = KeySize == 256 ? SecObjectIdentifiers.SecP256r1 : SecObjectIdentifiers.SecP384r1;
            return new ECPrivateKeyParameters("EC", new BigInteger(1, p.D), oid);
        }

        RSAParameters r = ((RSA)_key).ExportParameters(true);
        return new RsaPrivateCrtKeyParameters(
            new BigInteger(1, r.Modulus), new BigInteger(1, r.Exponent), new BigInteger(1, r.D),
            new BigInteger(1, r.P), new BigInteger(1, r.Q), new BigInteger(1, r.DP),
            new BigInteger(1, r.DQ), new BigInteger(1, r.InverseQ));
    }

    internal AsymmetricKeyParameter ToBouncyCastlePublic()
    {
        if (_key is ECDsa ec)
        {
            ECParameters p = ec.ExportParameters(false);
            DerObjectIdentifier oid = KeySize == 256 ? SecObjectIdentifiers.SecP256r1 : SecObjectIdentifiers.SecP384r1;
            X9ECParameters curve = ECNamedCurveTable.GetByOid(oid);
            var q = curve.Curve.CreatePoint(new BigInteger(1, p.Q.X), new BigInteger(1, p.Q.Y));
            return new ECPublicKeyParameters("EC", q, oid);
        }

        RSAParameters r = ((RSA)_key).ExportParameters(false);
        return new RsaKeyParameters(false, new BigInteger(1, r.Modulus), new BigInteger(1, r.Exponent));
    }

    /// <summary>The SubjectPublicKeyInfo DER, to compare a key with the one in a CSR or certificate.</summary>
    internal byte[] GetSubjectPublicKeyInfo() =>
#if NET
        _key.ExportSubjectPublicKeyInfo();
#else
        Org.BouncyCastle.X509.SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(ToBouncyCastlePublic()).GetDerEncoded();
#endif

    /// <summary>True when the certificate was issued for this key's public half.</summary>
    public bool MatchesCertificate(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
    {
        if (certificate is null)
        {
            throw new ArgumentNullException(nameof(certificate));
        }

        return certificate.GetPublicKey().SequenceEqual(PublicKeyBits(GetSubjectPublicKeyInfo()));
    }

    /// <summary>The subjectPublicKey bits of a SubjectPublicKeyInfo: what X509Certificate2.GetPublicKey returns.</summary>
    internal static byte[] PublicKeyBits(byte[] subjectPublicKeyInfo) =>
#if NET
        PublicKeyBitsWithPlatform(subjectPublicKeyInfo);
#else
        Org.BouncyCastle.Asn1.X509.SubjectPublicKeyInfo.GetInstance(subjectPublicKeyInfo).PublicKey.GetBytes();
#endif

    private static byte[] TrimLeadingZeros(byte[] value)
    {
        int i = 0;
        while (i < value.Length - 1 && value[i] == 0)
        {
            i++;
        }

        return i == 0 ? value : value.Skip(i).ToArray();
    }

    public void Dispose() => _key.Dispose();

    /// <summary>The key type and its public thumbprint; never any private material.</summary>
    public override string ToString() => $"{Name} ({Thumbprint})";
}
