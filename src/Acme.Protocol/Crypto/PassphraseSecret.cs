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
            byte[] sealedBytes = Run(true, Key(passphrase, salt, Iterations), nonce, plain);
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

        try
        {
            byte[] plain = Run(false, Key(passphrase, salt, iterations), nonce, data);
            string text = Encoding.UTF8.GetString(plain);
            Array.Clear(plain, 0, plain.Length);
            return text;
        }
        catch (InvalidCipherTextException e)
        {
            throw new AcmeArgumentException(AcmeErrorId.KeyPasswordIncorrect, "The passphrase does not open a sealed secret.", e);
        }
    }

    private static KeyParameter Key(char[] passphrase, byte[] salt, int iterations)
    {
        var generator = new Pkcs5S2ParametersGenerator(new Sha256Digest());
        byte[] password = PbeParametersGenerator.Pkcs5PasswordToUtf8Bytes(passphrase);
        generator.Init(password, salt, iterations);
        Array.Clear(password, 0, password.Length);
        return (KeyParameter)generator.GenerateDerivedMacParameters(256);
    }

    private static byte[] Run(bool encrypt, KeyParameter key, byte[] nonce, byte[] input)
    {
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
