using System;
using System.IO;
using Acme.Protocol.Crypto;
using Acme.Protocol.Json;
using Acme.Protocol.Model;
using Acme.Protocol.State;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace Acme.Protocol.Tests;

/// <summary>A temporary state folder, and certificates shaped like a CA's (with an Authority Key Identifier) to save in it.</summary>
internal sealed class TempState : IDisposable
{
    public TempState()
    {
        Root = Path.Combine(Path.GetTempPath(), "acme-state-test-" + Guid.NewGuid().ToString("N").Substring(0, 8));
    }

    public string Root { get; }

    public AcmeStateStore Open(char[]? passphrase = null) => new(Root, passphrase);

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    /// <summary>A saved account on <paramref name="server"/>, as AccountSteps.NewAccountAsync leaves it.</summary>
    public static AcmeAccount SaveAccount(AcmeStateStore store, AcmeServer server, string name)
    {
        var account = new AcmeAccount(server, AcmeKey.Generate(AcmeKeyAlgorithm.EC256), new Uri("https://ca.test/acct/" + name)) { Name = name, SavedIn = store };
        store.WriteAccountKey(server, name, account.Key);
        store.WriteAccount(account);
        return account;
    }

    /// <summary>An order of the account for the names, in the given status, named after the first one.</summary>
    public static AcmeOrder Order(AcmeAccount account, string status, params string[] names)
    {
        var order = new AcmeOrder(account, new Uri("https://ca.test/order/" + Guid.NewGuid().ToString("N")));
        var identifiers = new System.Collections.Generic.List<object?>();
        foreach (string n in names)
        {
            identifiers.Add(new JsonObject { ["type"] = "dns", ["value"] = n });
        }

        order.Update(new JsonObject
        {
            ["status"] = status,
            ["identifiers"] = identifiers,
            ["authorizations"] = new System.Collections.Generic.List<object?> { "https://ca.test/authz/1" },
            ["finalize"] = "https://ca.test/finalize/1",
        });
        order.Name = AcmeStateStore.NameFor(order.Identifiers);
        return order;
    }

    /// <summary>A certificate for the key and names, valid from <paramref name="notBefore"/> for <paramref name="lifetime"/>, issued by a throwaway CA.</summary>
    public static AcmeCertificate Issue(AcmeKey key, DateTimeOffset notBefore, TimeSpan lifetime, params string[] names)
    {
        var generator = new ECKeyPairGenerator();
        generator.Init(new ECKeyGenerationParameters(Org.BouncyCastle.Asn1.Sec.SecObjectIdentifiers.SecP256r1, new SecureRandom()));
        var issuer = generator.GenerateKeyPair();
        var builder = new X509V3CertificateGenerator();
        builder.SetSerialNumber(BigInteger.ValueOf(Random.Shared.NextInt64(1, long.MaxValue)));
        builder.SetIssuerDN(new X509Name("CN=State Test Issuer"));
        builder.SetSubjectDN(new X509Name("CN=" + names[0]));
        builder.SetNotBefore(notBefore.UtcDateTime);
        builder.SetNotAfter((notBefore + lifetime).UtcDateTime);
        builder.SetPublicKey(key.ToBouncyCastlePublic());
        builder.AddExtension(X509Extensions.AuthorityKeyIdentifier, false, new AuthorityKeyIdentifier(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }));
        var sans = new GeneralName[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            sans[i] = new GeneralName(GeneralName.DnsName, names[i]);
        }

        builder.AddExtension(X509Extensions.SubjectAlternativeName, false, new GeneralNames(sans));
        X509Certificate certificate = builder.Generate(new Asn1SignatureFactory("SHA256WITHECDSA", issuer.Private));
        AcmeCertificate result = AcmeCertificate.FromPem(Pem.Encode("CERTIFICATE", certificate.GetEncoded()));
        result.Key = key;
        return result;
    }

    /// <summary>The certificate saved as the current version of the order's name, and read back as Get-AcmeCertificate reads it.</summary>
    public static AcmeCertificate SaveCertificate(AcmeStateStore store, AcmeOrder order, AcmeCertificate certificate)
    {
        certificate.Order = order;
        store.WriteCertificate(certificate);
        return store.ReadCertificate(order.Account.Server, order.Name!, n => store.ReadAccount(order.Account.Server, n))!;
    }
}
