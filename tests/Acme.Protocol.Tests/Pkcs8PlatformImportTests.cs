using System;
using System.Security.Cryptography;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Org.BouncyCastle.Security;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>
/// Unencrypted PKCS#8 keys read by the platform on .NET (AcmeKey.Pkcs8.cs) instead of BouncyCastle: the
/// same key as BouncyCastle's path reads, and every key that path must refuse left to BouncyCastle.
/// </summary>
public class Pkcs8PlatformImportTests
{
    [Fact]
    public void TheTestRuntimeReadsPkcs8ItselfSoTheseTestsTakeThePlatformPath()
    {
        Assert.True(AcmeKey.PlatformReadsPkcs8);
    }

    [Theory]
    [InlineData("EC256")]
    [InlineData("EC384")]
    [InlineData("RSA2048")]
    public void APlatformKeyIsTheSameKeyBouncyCastleReads(string name)
    {
        using AsymmetricAlgorithm source = name switch
        {
            "EC256" => ECDsa.Create(ECCurve.NamedCurves.nistP256),
            "EC384" => ECDsa.Create(ECCurve.NamedCurves.nistP384),
            _ => RSA.Create(2048),
        };
        byte[] der = source.ExportPkcs8PrivateKey();

        using AcmeKey? platform = AcmeKey.TryImportPkcs8WithPlatform(der);
        using AcmeKey bouncy = AcmeKey.FromBouncyCastle(PrivateKeyFactory.CreateKey(der));
        Assert.NotNull(platform);
        Assert.Equal(name, platform!.Name);
        Assert.Equal(bouncy.Thumbprint, platform.Thumbprint);
        Assert.Equal(bouncy.Thumbprint, AcmeKey.ImportPem(Pem.Encode("PRIVATE KEY", der)).Thumbprint);
    }

    [Fact]
    public void AnotherCurveOfTheSameSizeIsNotTakenForP256()
    {
        using var brainpool = ECDsa.Create(ECCurve.NamedCurves.brainpoolP256r1);
        byte[] der = brainpool.ExportPkcs8PrivateKey();

        Assert.Null(AcmeKey.TryImportPkcs8WithPlatform(der));
        var e = Assert.Throws<AcmeArgumentException>(() => AcmeKey.ImportPem(Pem.Encode("PRIVATE KEY", der)));
        Assert.Equal("AcmeUnsupportedKey", e.ErrorId);
    }

    [Fact]
    public void AWeakRsaKeyOrDamagedDerIsLeftToBouncyCastleWhichNamesTheFault()
    {
        using var weak = RSA.Create(1024);
        Assert.Null(AcmeKey.TryImportPkcs8WithPlatform(weak.ExportPkcs8PrivateKey()));
        Assert.Equal("AcmeUnsupportedKey", Assert.Throws<AcmeArgumentException>(() => AcmeKey.ImportPem(Pem.Encode("PRIVATE KEY", weak.ExportPkcs8PrivateKey()))).ErrorId);

        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        byte[] damaged = ec.ExportPkcs8PrivateKey();
        Array.Resize(ref damaged, damaged.Length - 9);
        Assert.Null(AcmeKey.TryImportPkcs8WithPlatform(damaged));
        Assert.Equal("AcmeInvalidKey", Assert.Throws<AcmeArgumentException>(() => AcmeKey.ImportPem(Pem.Encode("PRIVATE KEY", damaged))).ErrorId);
    }
}
