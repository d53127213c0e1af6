using System;
using System.Linq;
using System.Security.Cryptography;
using Acme.Protocol.Errors;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math.EC.Multiplier;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;

namespace Acme.Protocol.Crypto;

/// <summary>
/// Reading a private key made elsewhere: PEM (PKCS#8, encrypted PKCS#8, SEC 1, PKCS#1) and PKCS#12
/// (PFX), through BouncyCastle, into the platform key an <see cref="AcmeKey"/> holds.
/// </summary>
public sealed partial class AcmeKey
{
    /// <summary>
    /// Reads a private key from PEM: PKCS#8 ("PRIVATE KEY"), encrypted PKCS#8 ("ENCRYPTED PRIVATE KEY",
    /// needs <paramref name="password"/>), SEC 1 ("EC PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY").
    /// </summary>
    public static AcmeKey ImportPem(string pem, char[]? password = null)
    {
        if (string.IsNullOrWhiteSpace(pem))
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidKey, "The key file is empty.");
        }

        PemBlock? block;
        try
        {
            block = Pem.Decode(pem).FirstOrDefault(b => b.Label.EndsWith("PRIVATE KEY", StringComparison.Ordinal));
        }
        catch (FormatException e)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidKey, "The key is not valid PEM: " + e.Message, e);
        }

        if (block is null)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidKey, "No private key was found in the PEM text (expected a 'PRIVATE KEY' block).");
        }

        if (block.Label == "PRIVATE KEY" && TryImportPkcs8WithPlatform(block.Data) is { } platformKey)
        {
            return platformKey;
        }

#if NET
        if (block.Label == "ENCRYPTED PRIVATE KEY" && TryImportEncryptedPkcs8WithPlatform(block.Data, password) is { } decryptedKey)
        {
            return decryptedKey;
        }
#endif

        return ImportWithBouncyCastle(block, password);
    }

    // Apart from ImportPem, so that a key the platform reads does not load BouncyCastle to compile ImportPem.
    private static AcmeKey ImportWithBouncyCastle(PemBlock block, char[]? password)
    {
        try
        {
            AsymmetricKeyParameter key = block.Label switch
            {
                "PRIVATE KEY" => PrivateKeyFactory.CreateKey(block.Data),
                "ENCRYPTED PRIVATE KEY" => DecryptPkcs8(block.Data, password),
                "EC PRIVATE KEY" => ReadSec1(block),
                "RSA PRIVATE KEY" => ReadPkcs1(block),
                _ => throw new AcmeArgumentException(AcmeErrorId.InvalidKey, $"The PEM block '{block.Label}' is not a supported private key."),
            };
            return FromBouncyCastle(key);
        }
        catch (AcmeException)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidKey, "The private key could not be read: it is truncated, damaged or not a supported type.", e);
        }
    }

    /// <summary>
    /// Reads the private key from a PKCS#12 (PFX) file, such as one Export-AcmeCertificate, OpenSSL or
    /// Windows wrote. <paramref name="password"/> may be null for a file protected by an empty password.
    /// A file with several keys gives the first.
    /// </summary>
    public static AcmeKey ImportPkcs12(byte[] pfx, char[]? password = null)
    {
        try
        {
            Pfx.GetInstance(Asn1Object.FromByteArray(pfx));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidKey, "The file is neither a PEM private key nor a PKCS#12 (PFX) file.", e);
        }

        Pkcs12Store store = new Pkcs12StoreBuilder().Build();
        try
        {
            using var stream = new System.IO.MemoryStream(pfx, writable: false);
            store.Load(stream, password ?? Array.Empty<char>());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A MAC that does not verify and a key that does not decrypt look the same: the password is wrong,
            // or missing, or the file is damaged. The inner exception is BouncyCastle's, which names no secret.
            throw password is null || password.Length == 0
                ? new AcmeArgumentException(AcmeErrorId.KeyPasswordRequired, "The PFX file is protected by a password; give it.", e)
                : new AcmeArgumentException(AcmeErrorId.KeyPasswordIncorrect, "The PFX file could not be opened: the password is wrong or the file is damaged.", e);
        }

        string? alias = store.Aliases.FirstOrDefault(store.IsKeyEntry);
        AsymmetricKeyParameter? key = alias is null ? null : store.GetKey(alias)?.Key;
        if (key is null || !key.IsPrivate)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidKey, "The PFX file holds no private key (only certificates).");
        }

        return FromBouncyCastle(key);
    }

    internal static AcmeKey FromBouncyCastle(AsymmetricKeyParameter key)
    {
        switch (key)
        {
            case ECPrivateKeyParameters ec:
            {
                ECDomainParameters domain = ec.Parameters;
                ECCurve curve;
                int size;
                if (domain.Equals(ECNamedCurveTable.GetByOid(SecObjectIdentifiers.SecP256r1) is X9ECParameters x256
                        ? new ECDomainParameters(x256) : null))
                {
                    curve = ECCurve.NamedCurves.nistP256;
                    size = 32;
                }
                else if (domain.Equals(ECNamedCurveTable.GetByOid(SecObjectIdentifiers.SecP384r1) is X9ECParameters x384
                        ? new ECDomainParameters(x384) : null))
                {
                    curve = ECCurve.NamedCurves.nistP384;
                    size = 48;
                }
                else
                {
                    throw new AcmeArgumentException(AcmeErrorId.UnsupportedKey, "Only EC keys on P-256 and P-384 are supported.");
                }

                var q = new FixedPointCombMultiplier().Multiply(domain.G, ec.D).Normalize();
                var parameters = new ECParameters
                {
                    Curve = curve,
                    D = FixedLength(ec.D.ToByteArrayUnsigned(), size),
                    Q = new ECPoint
                    {
                        X = FixedLength(q.AffineXCoord.ToBigInteger().ToByteArrayUnsigned(), size),
                        Y = FixedLength(q.AffineYCoord.ToBigInteger().ToByteArrayUnsigned(), size),
                    },
                };
                ECDsa ecdsa = ECDsa.Create(curve);
                ecdsa.ImportParameters(parameters);
                return new AcmeKey(ecdsa);
            }

            case RsaPrivateCrtKeyParameters rsaKey:
            {
                byte[] modulus = rsaKey.Modulus.ToByteArrayUnsigned();
                int half = (modulus.Length + 1) / 2;
                var parameters = new RSAParameters
                {
                    Modulus = modulus,
                    Exponent = rsaKey.PublicExponent.ToByteArrayUnsigned(),
                    D = FixedLength(rsaKey.Exponent.ToByteArrayUnsigned(), modulus.Length),
                    P = FixedLength(rsaKey.P.ToByteArrayUnsigned(), half),
                    Q = FixedLength(rsaKey.Q.ToByteArrayUnsigned(), half),
                    DP = FixedLength(rsaKey.DP.ToByteArrayUnsigned(), half),
                    DQ = FixedLength(rsaKey.DQ.ToByteArrayUnsigned(), half),
                    InverseQ = FixedLength(rsaKey.QInv.ToByteArrayUnsigned(), half),
                };
                int bits = rsaKey.Modulus.BitLength;
                if (bits < MinRsaBits || bits > MaxRsaBits)
                {
                    throw new AcmeArgumentException(AcmeErrorId.UnsupportedKey,
                        $"An RSA key of {bits} bits is not accepted; use 2048 to {MaxRsaBits} bits.");
                }

                RSA rsa = RSA.Create();
                rsa.ImportParameters(parameters);
                return new AcmeKey(rsa);
            }

            default:
                throw new AcmeArgumentException(AcmeErrorId.UnsupportedKey, "Only EC (P-256, P-384) and RSA private keys are supported.");
        }
    }

    private static AsymmetricKeyParameter DecryptPkcs8(byte[] der, char[]? password)
    {
        if (password is null || password.Length == 0)
        {
            throw new AcmeArgumentException(AcmeErrorId.KeyPasswordRequired, "The key is encrypted; give its passphrase.");
        }

        try
        {
            return PrivateKeyFactory.DecryptKey(password, der);
        }
        catch (Exception e) when (e is InvalidCipherTextException || e is ArgumentException || e is System.IO.IOException || e is InvalidOperationException)
        {
            throw new AcmeArgumentException(AcmeErrorId.KeyPasswordIncorrect, "The key could not be decrypted: the passphrase is wrong or the file is damaged.", e);
        }
    }

    private static AsymmetricKeyParameter ReadSec1(PemBlock block)
    {
        RefuseLegacyEncryption(block);
        var sec1 = Org.BouncyCastle.Asn1.Sec.ECPrivateKeyStructure.GetInstance(Asn1Object.FromByteArray(block.Data));
        DerObjectIdentifier? oid = sec1.Parameters as DerObjectIdentifier
            ?? throw new AcmeArgumentException(AcmeErrorId.UnsupportedKey, "The EC key does not name its curve.");
        return new ECPrivateKeyParameters("EC", sec1.GetKey(), oid);
    }

    private static AsymmetricKeyParameter ReadPkcs1(PemBlock block)
    {
        RefuseLegacyEncryption(block);
        var rsa = RsaPrivateKeyStructure.GetInstance(Asn1Object.FromByteArray(block.Data));
        return new RsaPrivateCrtKeyParameters(rsa.Modulus, rsa.PublicExponent, rsa.PrivateExponent,
            rsa.Prime1, rsa.Prime2, rsa.Exponent1, rsa.Exponent2, rsa.Coefficient);
    }

    private static void RefuseLegacyEncryption(PemBlock block)
    {
        if (block.HasHeaders)
        {
            throw new AcmeArgumentException(AcmeErrorId.UnsupportedKey,
                "The key uses legacy OpenSSL PEM encryption; convert it with 'openssl pkcs8 -topk8' first.");
        }
    }

    private static byte[] FixedLength(byte[] value, int length)
    {
        if (value.Length == length)
        {
            return value;
        }

        if (value.Length > length)
        {
            return value.Skip(value.Length - length).ToArray();
        }

        byte[] padded = new byte[length];
        Buffer.BlockCopy(value, 0, padded, length - value.Length, value.Length);
        return padded;
    }
}
