using System;
using System.Reflection;
using System.Linq.Expressions;
using System.Security.Cryptography;
using Acme.Protocol.Errors;

namespace Acme.Protocol.Crypto;

/// <summary>
/// An unencrypted PKCS#8 key (what the state folder holds without a passphrase) read by the platform,
/// where the runtime has <c>AsymmetricAlgorithm.ImportPkcs8PrivateKey</c> (.NET Core 3.0 and later, so
/// PowerShell 7): in a fresh process this spares BouncyCastle's parser and its managed EC point
/// multiplication, about 70-120 ms of JIT on the first key (bench/NOTES.md). netstandard2.0 has no
/// ReadOnlySpan, so the call is compiled at run time from an expression tree. Windows PowerShell 5.1 (.NET Framework)
/// has no such method and reads every key through BouncyCastle (AcmeKey.Import.cs), as does any key this
/// path does not take: another curve, an RSA size outside the limits, a damaged file.
/// </summary>
public sealed partial class AcmeKey
{
    private delegate void Pkcs8Importer(AsymmetricAlgorithm key, byte[] der);

    private static readonly Lazy<Pkcs8Importer?> s_pkcs8Importer = new(CreatePkcs8Importer);

    // The algorithm OIDs in a PKCS#8 AlgorithmIdentifier: id-ecPublicKey (1.2.840.10045.2.1) and rsaEncryption (1.2.840.113549.1.1.1).
    private static readonly byte[] s_ecPublicKeyOid = { 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01 };
    private static readonly byte[] s_rsaEncryptionOid = { 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01 };

    /// <summary>Whether the platform reads PKCS#8 itself here (false on .NET Framework).</summary>
    internal static bool PlatformReadsPkcs8 => s_pkcs8Importer.Value is not null;

    /// <summary>The key the platform read from unencrypted PKCS#8 DER, or null to take the BouncyCastle path.</summary>
    internal static AcmeKey? TryImportPkcs8WithPlatform(byte[] der)
    {
        if (s_pkcs8Importer.Value is not { } import)
        {
            return null;
        }

        AsymmetricAlgorithm? key = StartsWithin(der, s_ecPublicKeyOid) ? ECDsa.Create()
            : StartsWithin(der, s_rsaEncryptionOid) ? RSA.Create()
            : null;
        if (key is null)
        {
            return null;
        }

        try
        {
            import(key, der);
            if (key is ECDsa ec && !IsNistP256OrP384(ec))
            {
                key.Dispose();
                return null;
            }

            if (key is RSA && (key.KeySize < MinRsaBits || key.KeySize > MaxRsaBits))
            {
                key.Dispose();
                return null;
            }

            return new AcmeKey(key);
        }
        catch (Exception e) when (e is CryptographicException || e is ArgumentException || e is TargetInvocationException || e is AcmeException)
        {
            // A damaged or unusual key: BouncyCastle's path reads it or names what is wrong.
            key.Dispose();
            return null;
        }
    }

    private static bool IsNistP256OrP384(ECDsa ec)
    {
        ECCurve curve = ec.ExportParameters(false).Curve;
        string? oid = curve.Oid?.Value;
        string? name = curve.Oid?.FriendlyName;
        return oid is "1.2.840.10045.3.1.7" or "1.3.132.0.34"
            || name is "nistP256" or "nistP384" or "ECDSA_P256" or "ECDSA_P384" or "secp384r1" or "prime256v1";
    }

    /// <summary>Whether <paramref name="oid"/> occurs in the first bytes of the DER (the AlgorithmIdentifier comes right after the version).</summary>
    private static bool StartsWithin(byte[] der, byte[] oid)
    {
        int end = Math.Min(der.Length - oid.Length, 32);
        for (int i = 0; i <= end; i++)
        {
            int j = 0;
            while (j < oid.Length && der[i + j] == oid[j])
            {
                j++;
            }

            if (j == oid.Length)
            {
                return true;
            }
        }

        return false;
    }

    private static Pkcs8Importer? CreatePkcs8Importer()
    {
#if NET
        // The net10.0 build calls the method directly; the expression tree is for netstandard2.0 running on .NET.
        return static (key, der) => key.ImportPkcs8PrivateKey(der, out _);
#else
        try
        {
            Type? span = Type.GetType("System.ReadOnlySpan`1", throwOnError: false)?.MakeGenericType(typeof(byte));
            ConstructorInfo? fromArray = span?.GetConstructor(new[] { typeof(byte[]) });
            MethodInfo? importMethod = span is null ? null
                : typeof(AsymmetricAlgorithm).GetMethod("ImportPkcs8PrivateKey", new[] { span, typeof(int).MakeByRefType() });
            if (fromArray is null || importMethod is null)
            {
                return null;
            }

            // (key, der) => key.ImportPkcs8PrivateKey(new ReadOnlySpan<byte>(der), out int _)
            ParameterExpression key = Expression.Parameter(typeof(AsymmetricAlgorithm), "key");
            ParameterExpression der = Expression.Parameter(typeof(byte[]), "der");
            ParameterExpression read = Expression.Variable(typeof(int), "read");
            Expression call = Expression.Call(key, importMethod, Expression.New(fromArray, der), read);
            return Expression.Lambda<Pkcs8Importer>(Expression.Block(new[] { read }, call), key, der).Compile();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null;
        }
#endif
    }
}
