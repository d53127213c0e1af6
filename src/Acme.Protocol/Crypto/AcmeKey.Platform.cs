#if NET
using System;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Acme.Protocol.Errors;

namespace Acme.Protocol.Crypto;

/// <summary>
/// On .NET (PowerShell 7) a key is written, read and used in a CSR by the platform, not BouncyCastle, so a
/// fresh process that issues a certificate with a new key never loads BouncyCastle (bench/NOTES.md).
/// The formats are the ones BouncyCastle writes on netstandard2.0 (Windows PowerShell 5.1), and each
/// build reads the other's files (JwsAndKeyTests): PKCS#8 for a key in clear; for a key under the state
/// passphrase PBES2 with PBKDF2-HMAC-SHA256 (600 000 iterations, 16-byte salt) and AES-256-CBC, the
/// passphrase's characters as one byte each (BouncyCastle's <c>Pkcs5PasswordToBytes</c>, which the
/// netstandard2.0 build and every key file it wrote use; not UTF-8, so a passphrase with a character
/// beyond U+00FF is refused as BouncyCastle refuses it).
/// </summary>
public sealed partial class AcmeKey
{
    private const int Pbkdf2Iterations = 600_000;

    private byte[] ExportPkcs8WithPlatform()
    {
        lock (_signLock)
        {
            return _key.ExportPkcs8PrivateKey();
        }
    }

    private byte[] ExportEncryptedPkcs8WithPlatform(char[] password)
    {
        var pbe = new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, Pbkdf2Iterations);
        byte[] secret = PasswordBytes(password)
            ?? throw new AcmeArgumentException(AcmeErrorId.InvalidPassword, "A key passphrase can hold only characters up to U+00FF (Latin-1): PBES2 key files are read so on every platform.");
        try
        {
            lock (_signLock)
            {
                return _key.ExportEncryptedPkcs8PrivateKey(secret, pbe);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>BouncyCastle's <c>Pkcs5PasswordToBytes</c>: each character as one byte; null when one does not fit.</summary>
    private static byte[]? PasswordBytes(char[] password)
    {
        byte[] bytes = new byte[password.Length];
        for (int i = 0; i < password.Length; i++)
        {
            if (password[i] > 0xFF)
            {
                CryptographicOperations.ZeroMemory(bytes);
                return null;
            }

            bytes[i] = (byte)password[i];
        }

        return bytes;
    }

    /// <summary>
    /// An encrypted PKCS#8 key read by the platform, or null to take BouncyCastle's path: a scheme other
    /// than PBES2 with PBKDF2 and AES-CBC, a wrong passphrase or a damaged file (BouncyCastle then names
    /// which, with the error ids it always gave). Decrypted here, once, rather than by
    /// <c>ImportEncryptedPkcs8PrivateKey</c>, which needs the key's algorithm before it decrypts: trying EC
    /// then RSA would run the 600 000-iteration PBKDF2 twice for an RSA key.
    /// </summary>
    internal static AcmeKey? TryImportEncryptedPkcs8WithPlatform(byte[] der, char[]? password)
    {
        if (password is null || password.Length == 0)
        {
            return null;
        }

        byte[]? plain = null;
        byte[]? secret = null;
        try
        {
            var outer = new AsnReader(der, AsnEncodingRules.BER).ReadSequence();
            AsnReader algorithm = outer.ReadSequence();
            byte[] encrypted = outer.ReadOctetString();
            if (algorithm.ReadObjectIdentifier() != "1.2.840.113549.1.5.13")
            {
                return null;
            }

            AsnReader pbes2 = algorithm.ReadSequence();
            AsnReader kdf = pbes2.ReadSequence();
            AsnReader scheme = pbes2.ReadSequence();
            if (kdf.ReadObjectIdentifier() != "1.2.840.113549.1.5.12")
            {
                return null;
            }

            AsnReader pbkdf2 = kdf.ReadSequence();
            byte[] salt = pbkdf2.ReadOctetString();
            if (!pbkdf2.TryReadInt32(out int iterations) || iterations < 1)
            {
                return null;
            }

            if (pbkdf2.HasData && pbkdf2.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
            {
                pbkdf2.ReadInteger();
            }

            string prf = pbkdf2.HasData ? pbkdf2.ReadSequence().ReadObjectIdentifier() : "1.2.840.113549.2.7";
            HashAlgorithmName? hash = prf switch
            {
                "1.2.840.113549.2.7" => HashAlgorithmName.SHA1,
                "1.2.840.113549.2.9" => HashAlgorithmName.SHA256,
                "1.2.840.113549.2.10" => HashAlgorithmName.SHA384,
                "1.2.840.113549.2.11" => HashAlgorithmName.SHA512,
                _ => null,
            };
            int keyBytes = scheme.ReadObjectIdentifier() switch
            {
                "2.16.840.1.101.3.4.1.2" => 16,
                "2.16.840.1.101.3.4.1.22" => 24,
                "2.16.840.1.101.3.4.1.42" => 32,
                _ => 0,
            };
            if (hash is null || keyBytes == 0)
            {
                return null;
            }

            byte[] iv = scheme.ReadOctetString();
            secret = PasswordBytes(password);
            if (secret is null)
            {
                return null;
            }

            byte[] aesKey = Rfc2898DeriveBytes.Pbkdf2(secret, salt, iterations, hash.Value, keyBytes);
            using Aes aes = Aes.Create();
            aes.Key = aesKey;
            CryptographicOperations.ZeroMemory(aesKey);
            plain = aes.DecryptCbc(encrypted, iv);
            return TryImportPkcs8WithPlatform(plain);
        }
        catch (Exception e) when (e is CryptographicException || e is AsnContentException || e is ArgumentException)
        {
            return null;
        }
        finally
        {
            if (plain is not null)
            {
                CryptographicOperations.ZeroMemory(plain);
            }

            if (secret is not null)
            {
                CryptographicOperations.ZeroMemory(secret);
            }
        }
    }

    /// <summary>A CSR signed by this key (the request's fields come from the caller).</summary>
    internal byte[] CreateSigningRequest(X500DistinguishedName subject, X509Extension subjectAltName)
    {
        lock (_signLock)
        {
            CertificateRequest request = _key switch
            {
                ECDsa ec => new CertificateRequest(subject, ec, HashAlgorithm),
                RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                _ => throw new InvalidOperationException(),
            };
            request.CertificateExtensions.Add(subjectAltName);
            return request.CreateSigningRequest();
        }
    }

    /// <summary>The subjectPublicKey BIT STRING's bytes of a SubjectPublicKeyInfo (RFC 5280 section 4.1).</summary>
    private static byte[] PublicKeyBitsWithPlatform(byte[] subjectPublicKeyInfo)
    {
        var reader = new AsnReader(subjectPublicKeyInfo, AsnEncodingRules.DER);
        AsnReader spki = reader.ReadSequence();
        spki.ReadSequence();
        return spki.ReadBitString(out _);
    }
}
#endif
