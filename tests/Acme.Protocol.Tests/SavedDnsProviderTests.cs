using System;
using System.IO;
using System.Linq;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>
/// The DNS provider saved with a certificate (dns-provider.json) for its renewals, on real files: plain values
/// kept, references kept as their text, secrets sealed with the key passphrase (AES-256-GCM under PBKDF2) and
/// never in the file in clear; without a passphrase a secret is not saved at all.
/// </summary>
public class SavedDnsProviderTests : IDisposable
{
    private const string Secret = "tsig-SECRET-value-3f9a1c";
    private static readonly AcmeServer s_server = new(new Uri("https://ca.test:14000/dir"));
    private readonly string _root = Path.Combine(Path.GetTempPath(), "acme-dnsprov-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static SavedDnsProvider Sample() => new("RFC2136", new[]
    {
        new SavedDnsProviderValue("Server", "127.0.0.1", isSecret: false),
        new SavedDnsProviderValue("Port", 5353, isSecret: false),
        new SavedDnsProviderValue("UseTcp", true, isSecret: false),
        new SavedDnsProviderValue("Zones", new[] { "example.test", "other.test" }, isSecret: false),
        new SavedDnsProviderValue("TsigSecret", Secret, isSecret: true),
        new SavedDnsProviderValue("ApiToken", "env:MY_TOKEN", isSecret: true, reference: "env:MY_TOKEN"),
    });

    private string AllText() => string.Concat(Directory.GetFiles(_root, "*", SearchOption.AllDirectories).Select(File.ReadAllText));

    [Fact]
    public void WithAPassphraseTheSecretIsSealedAndReadBack()
    {
        var store = new AcmeStateStore(_root, "state pass".ToCharArray());
        Assert.Empty(store.WriteDnsProvider(s_server, "example.test", Sample()));

        Assert.DoesNotContain(Secret, AllText());
        Assert.Contains("env:MY_TOKEN", AllText());
        SavedDnsProvider read = new AcmeStateStore(_root, "state pass".ToCharArray()).ReadDnsProvider(s_server, "example.test")!;
        Assert.Equal("RFC2136", read.Provider);
        Assert.Equal("127.0.0.1", read.Values.Single(v => v.Name == "Server").Value);
        Assert.Equal(5353, read.Values.Single(v => v.Name == "Port").Value);
        Assert.Equal(true, read.Values.Single(v => v.Name == "UseTcp").Value);
        Assert.Equal(new[] { "example.test", "other.test" }, (string[])read.Values.Single(v => v.Name == "Zones").Value!);
        SavedDnsProviderValue secret = read.Values.Single(v => v.Name == "TsigSecret");
        Assert.True(secret.IsSecret);
        Assert.Equal(Secret, secret.Value);
        Assert.DoesNotContain(Secret, secret.ToString());
        Assert.Equal("env:MY_TOKEN", read.Values.Single(v => v.Name == "ApiToken").Reference);
        Assert.Empty(read.Unsaved);
    }

    [Fact]
    public void WithoutAPassphraseTheSecretIsNotSavedAndListedAsUnsaved()
    {
        var store = new AcmeStateStore(_root);
        Assert.Equal(new[] { "TsigSecret" }, store.WriteDnsProvider(s_server, "example.test", Sample()));

        Assert.DoesNotContain(Secret, AllText());
        SavedDnsProvider read = store.ReadDnsProvider(s_server, "example.test")!;
        Assert.DoesNotContain(read.Values, v => v.Name == "TsigSecret");
        Assert.Equal(new[] { "TsigSecret" }, read.Unsaved);
        Assert.Equal("env:MY_TOKEN", read.Values.Single(v => v.Name == "ApiToken").Reference);
    }

    [Fact]
    public void AWrongOrMissingPassphraseIsRefusedNamingTheFile()
    {
        new AcmeStateStore(_root, "right".ToCharArray()).WriteDnsProvider(s_server, "example.test", Sample());

        var wrong = Assert.Throws<AcmeArgumentException>(() => new AcmeStateStore(_root, "wrong".ToCharArray()).ReadDnsProvider(s_server, "example.test"));
        Assert.Equal(AcmeErrorId.KeyPasswordIncorrect, wrong.Id);
        Assert.Contains("dns-provider.json", wrong.Message);
        Assert.DoesNotContain(Secret, wrong.ToString());
        var missing = Assert.Throws<AcmeArgumentException>(() => new AcmeStateStore(_root).ReadDnsProvider(s_server, "example.test"));
        Assert.Equal(AcmeErrorId.KeyPasswordRequired, missing.Id);
    }

    [Fact]
    public void NothingSavedReadsAsNull()
    {
        Assert.Null(new AcmeStateStore(_root).ReadDnsProvider(s_server, "example.test"));
    }

    [Fact]
    public void ASealedSecretIsFreshEachTimeAndATamperedOneIsRefused()
    {
        char[] passphrase = "p".ToCharArray();
        string a = PassphraseSecret.Seal(Secret, passphrase);
        string b = PassphraseSecret.Seal(Secret, passphrase);
        Assert.NotEqual(a, b);
        Assert.Equal(Secret, PassphraseSecret.Open(a, passphrase));

        string[] parts = a.Split('.');
        char[] data = parts[4].ToCharArray();
        data[3] = data[3] == 'A' ? 'B' : 'A';
        parts[4] = new string(data);
        Assert.Equal(AcmeErrorId.KeyPasswordIncorrect, Assert.Throws<AcmeArgumentException>(() => PassphraseSecret.Open(string.Join(".", parts), passphrase)).Id);
        Assert.Equal(AcmeErrorId.StateCorrupt, Assert.Throws<AcmeLocalException>(() => PassphraseSecret.Open("v2.1.a.b.c", passphrase)).Id);
    }

    [Theory]
    [InlineData(AcmeChallenge.DnsAccount01)]
    [InlineData(AcmeChallenge.DnsPersist01)]
    public void TheChallengeTypeIsSavedAndReadBack(string type)
    {
        var store = new AcmeStateStore(_root);
        var saved = new SavedDnsProvider("RFC2136", new[] { new SavedDnsProviderValue("Server", "127.0.0.1", isSecret: false) }, challengeType: type);
        store.WriteDnsProvider(s_server, "example.test", saved);

        Assert.Contains($"\"challengeType\": \"{type}\"", AllText().Replace("\":\"", "\": \""));
        Assert.Equal(type, new AcmeStateStore(_root).ReadDnsProvider(s_server, "example.test")!.ChallengeType);
    }

    [Fact]
    public void AFileWithoutAChallengeTypeIsDns01AndAnUnknownTypeIsStateCorrupt()
    {
        var store = new AcmeStateStore(_root);
        store.WriteDnsProvider(s_server, "example.test", Sample());
        string file = Directory.GetFiles(_root, "dns-provider.json", SearchOption.AllDirectories).Single();
        string text = File.ReadAllText(file);
        Assert.Contains("dns-01", text);
        File.WriteAllText(file, System.Text.RegularExpressions.Regex.Replace(text, "\"challengeType\":\\s*\"dns-01\",?", string.Empty));
        Assert.DoesNotContain("challengeType", File.ReadAllText(file));
        Assert.Equal(AcmeChallenge.Dns01, store.ReadDnsProvider(s_server, "example.test")!.ChallengeType);

        File.WriteAllText(file, text.Replace("dns-01", "http-01"));
        AcmeLocalException e = Assert.Throws<AcmeLocalException>(() => store.ReadDnsProvider(s_server, "example.test"));
        Assert.Equal(AcmeErrorId.StateCorrupt, e.Id);
        Assert.Contains("http-01", e.Message);
    }
}
