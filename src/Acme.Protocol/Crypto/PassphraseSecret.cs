using System;
using System.Security.Cryptography;
using System.Text;
using Acme.Protocol.Errors;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Acme.Protocol.Crypto;

/// <summary>
/// A short secret (a DNS provider's token or TSIG key) sealed with the state folder's key passphrase:
/// PBKDF2-HMAC-SHA256 (a fresh 16-byte salt, <see cref="Iterations"/> rounds) to an AES-256 key, then
/// AES-256-GCM with a fresh 12-byte nonce. The text is <c>v1.&lt;iterations&gt;.&lt;salt&gt;.&lt;nonce&gt;.&lt;ciphertext+tag&gt;</c>
/// in base64url; the tag authenticates it, so a wrong passphrase or a changed byte is refused, never
/// read as another value.
/// </summary>
public static class PassphraseSecret
{
    public const int Iterations = 210_000;

    public static string Seal(string secret, char[] passphrase)
    {
        byte[] salt = RandomBytes(16);
        byte[] nonce = RandomBytes(12);
        byte[] plain = Encoding.UTF8.GetBytes(secret);
        try
        {
            byte[] sealedBytes = Seal(Key(passphrase, salt, Iterations), nonce, plain);
            return string.Join(".", "v1", Iterations.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Base64Url.Encode(salt), Base64Url.Encode(nonce), Base64Url.Encode(sealedBytes));
        }
        finally
        {
            Array.Clear(plain, 0, plain.Length);
        }
    }

    /// <summary>Throws AcmeArgumentException (KeyPasswordIncorrect) when the passphrase does not open it, AcmeLocalException (StateCorrupt) when it is not sealed text.</summary>
    public static string Open(string sealedText, char[] passphrase)
    {
        string[] parts = sealedText.Split('.');
        if (parts.Length != 5 || parts[0] != "v1" || !int.TryParse(parts[1], System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out int iterations) || iterations < 1000 || iterations > 10_000_000)
        {
            throw new AcmeLocalException(AcmeErrorId.StateCorrupt, "A sealed secret is not in the v1 form.");
        }

        byte[] salt, nonce, data;
        try
        {
            salt = Base64Url.Decode(parts[2]);
            nonce = Base64Url.Decode(parts[3]);
            data = Base64Url.Decode(parts[4]);
        }
        catch (FormatException e)
        {
            throw new AcmeLocalException(AcmeErrorId.StateCorrupt, "A sealed secret is not base64url.", e);
        }

        if (nonce.Length != NonceBytes || data.Length < TagBytes)
        {
            throw new AcmeLocalException(AcmeErrorId.StateCorrupt, "A sealed secret is too short or its nonce is not 12 bytes.");
        }

        byte[] key = Key(passphrase, salt, iterations);
        byte[] plain = Open(key, nonce, data);
        try
        {
            return Encoding.UTF8.GetString(plain);
        }
        finally
        {
            Array.Clear(plain, 0, plain.Length);
        }
    }

    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    // PBKDF2-HMAC-SHA256 over the passphrase's UTF-8 bytes (what BouncyCastle's Pkcs5PasswordToUtf8Bytes gives,
    // so a secret sealed by either build opens in the other) to a 32-byte AES key.
    private static byte[] Key(char[] passphrase, byte[] salt, int iterations)
    {
        byte[] password = Encoding.UTF8.GetBytes(passphrase);
        try
        {
#if NET
            return Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, 32);
#else
            return KeyWithBouncyCastle(password, salt, iterations);
#endif
        }
        finally
        {
            Array.Clear(password, 0, password.Length);
        }
    }

    /// <summary>The netstandard2.0 build's key derivation (internal for the tests that check both builds agree).</summary>
    internal static byte[] KeyWithBouncyCastle(byte[] password, byte[] salt, int iterations)
    {
        var generator = new Pkcs5S2ParametersGenerator(new Sha256Digest());
        generator.Init(password, salt, iterations);
        return ((KeyParameter)generator.GenerateDerivedMacParameters(256)).GetKey();
    }

    // The sealed bytes are the ciphertext followed by the 16-byte GCM tag (BouncyCastle's GcmBlockCipher layout).
    private static byte[] Seal(byte[] key, byte[] nonce, byte[] plain)
    {
        try
        {
#if NET
            if (AesGcm.IsSupported)
            {
                byte[] output = new byte[plain.Length + TagBytes];
                using var aes = new AesGcm(key, TagBytes);
                aes.Encrypt(nonce, plain, output.AsSpan(0, plain.Length), output.AsSpan(plain.Length, TagBytes));
                return output;
            }
#endif
            return RunBouncyCastle(true, key, nonce, plain);
        }
        finally
        {
            Array.Clear(key, 0, key.Length);
        }
    }

    private static byte[] Open(byte[] key, byte[] nonce, byte[] data)
    {
        try
        {
#if NET
            if (AesGcm.IsSupported)
            {
                int length = data.Length - TagBytes;
                byte[] plain = new byte[length];
                using var aes = new AesGcm(key, TagBytes);
                try
                {
                    aes.Decrypt(nonce, data.AsSpan(0, length), data.AsSpan(length, TagBytes), plain);
                }
                catch (CryptographicException e)
                {
                    throw Incorrect(e);
                }

                return plain;
            }
#endif
            return OpenWithBouncyCastle(key, nonce, data);
        }
        finally
        {
            Array.Clear(key, 0, key.Length);
        }
    }

    // Its own method: a catch clause names its type, and compiling a method with this one would load BouncyCastle.
    private static byte[] OpenWithBouncyCastle(byte[] key, byte[] nonce, byte[] data)
    {
        try
        {
            return RunBouncyCastle(false, key, nonce, data);
        }
        catch (InvalidCipherTextException e)
        {
            throw Incorrect(e);
        }
    }

    private static AcmeArgumentException Incorrect(Exception e) =>
        new(AcmeErrorId.KeyPasswordIncorrect, "The passphrase does not open a sealed secret.", e);

    /// <summary>The netstandard2.0 build's AES-256-GCM (internal for the tests that check both builds agree).</summary>
    internal static byte[] RunBouncyCastle(bool encrypt, byte[] keyBytes, byte[] nonce, byte[] input)
    {
        var key = new KeyParameter(keyBytes);
        var cipher = new GcmBlockCipher(AesUtilities.CreateEngine());
        cipher.Init(encrypt, new AeadParameters(key, 128, nonce));
        byte[] output = new byte[cipher.GetOutputSize(input.Length)];
        int length = cipher.ProcessBytes(input, 0, input.Length, output, 0);
        length += cipher.DoFinal(output, length);
        if (length == output.Length)
        {
            return output;
        }

        byte[] trimmed = new byte[length];
        Array.Copy(output, trimmed, length);
        return trimmed;
    }

    private static byte[] RandomBytes(int count)
    {
        byte[] bytes = new byte[count];
        using RandomNumberGenerator random = RandomNumberGenerator.Create();
        random.GetBytes(bytes);
        return bytes;
    }
}
