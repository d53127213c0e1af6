using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Crypto;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>
/// KeyRotationSteps on a real state folder: what is re-encrypted, what is skipped on a rerun, a wrong old
/// passphrase refused before any write, the error a read with the old passphrase gives afterwards, and
/// sealed DNS provider secrets re-sealed (or dropped when the passphrase is removed).
/// </summary>
public class KeyRotationTests : IDisposable
{
    private static readonly AcmeServer s_server = new(new Uri("https://ca.test:14000/dir"));
    private readonly string _root = Path.Combine(Path.GetTempPath(), "acme-rotate-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private AcmeStateStore Seed(string? passphrase)
    {
        var store = new AcmeStateStore(_root, passphrase?.ToCharArray());
        store.WriteAccountKey(s_server, "one", AcmeKey.Generate(AcmeKeyAlgorithm.EC256));
        store.WriteAccountKey(s_server, "two", AcmeKey.Generate(AcmeKeyAlgorithm.EC256));
        store.WriteDnsProvider(s_server, "www.example.test", new SavedDnsProvider("RFC2136", new[]
        {
            new SavedDnsProviderValue("Server", "127.0.0.1", isSecret: false),
            new SavedDnsProviderValue("TsigSecret", "the-tsig-secret", isSecret: true),
        }));
        return store;
    }

    private static Task<AcmeKeyPassphraseChange?> Change(AcmeStateStore store, string? from, string? to, bool confirm = true) =>
        KeyRotationSteps.ChangeAsync(store, from?.ToCharArray(), to?.ToCharArray(), _ => Task.FromResult(confirm), NullAcmeLog.Instance, null, CancellationToken.None);

    [Fact]
    public async Task Rotates_every_key_and_sealed_secret_then_skips_them_on_a_rerun()
    {
        AcmeStateStore store = Seed("old");
        AcmeKeyPassphraseChange change = (await Change(store, "old", "new"))!;
        Assert.Equal(3, change.Rotated);
        Assert.Equal(0, change.Failed);
        Assert.Contains(change.RotatedItems, i => i.EndsWith("/accounts/one/account-key.pem", StringComparison.Ordinal));
        Assert.Contains(change.RotatedItems, i => i.EndsWith("/certificates/www.example.test/dns-provider.json", StringComparison.Ordinal));

        var reader = new AcmeStateStore(_root, "new".ToCharArray());
        Assert.NotNull(reader.ReadAccountKey(s_server, "one"));
        Assert.Equal("the-tsig-secret", reader.ReadDnsProvider(s_server, "www.example.test")!.Values.Single(v => v.Name == "TsigSecret").Value);
        var old = new AcmeStateStore(_root, "old".ToCharArray());
        AcmeArgumentException e = Assert.Throws<AcmeArgumentException>(() => old.ReadAccountKey(s_server, "two"));
        Assert.Equal(AcmeErrorId.KeyPassphraseChanged, e.Id);
        Assert.Contains("was changed at", e.Message);

        AcmeKeyPassphraseChange again = (await Change(store, "old", "new"))!;
        Assert.Equal(0, again.Rotated);
        Assert.Equal(3, again.AlreadyRotated);
    }

    [Fact]
    public async Task A_wrong_old_passphrase_writes_nothing()
    {
        AcmeStateStore store = Seed("old");
        string file = Path.Combine(_root, "ca.test-14000-dir", "accounts", "one", "account-key.pem");
        string before = File.ReadAllText(file);
        AcmeArgumentException e = await Assert.ThrowsAsync<AcmeArgumentException>(() => Change(store, "wrong", "new"));
        Assert.Equal(AcmeErrorId.KeyPasswordIncorrect, e.Id);
        Assert.DoesNotContain("wrong", e.Message);
        Assert.Equal(before, File.ReadAllText(file));
        Assert.False(File.Exists(Path.Combine(_root, "key-passphrase.json")));
    }

    [Fact]
    public async Task Declined_writes_nothing_and_removing_the_passphrase_drops_sealed_secrets()
    {
        AcmeStateStore store = Seed("old");
        Assert.Null(await Change(store, "old", "new", confirm: false));
        Assert.NotNull(new AcmeStateStore(_root, "old".ToCharArray()).ReadAccountKey(s_server, "one"));

        AcmeKeyPassphraseChange removed = (await Change(store, "old", null))!;
        Assert.False(removed.Encrypted);
        Assert.Single(removed.DroppedSecrets);
        var plain = new AcmeStateStore(_root);
        Assert.NotNull(plain.ReadAccountKey(s_server, "two"));
        SavedDnsProvider provider = plain.ReadDnsProvider(s_server, "www.example.test")!;
        Assert.Contains("TsigSecret", provider.Unsaved);
        Assert.DoesNotContain("the-tsig-secret", File.ReadAllText(Path.Combine(_root, "ca.test-14000-dir", "certificates", "www.example.test", "dns-provider.json")));
    }

    [Fact]
    public async Task Encrypts_a_state_that_had_no_passphrase()
    {
        AcmeStateStore store = Seed(null);
        AcmeKeyPassphraseChange change = (await Change(store, null, "new"))!;
        Assert.Equal(2, change.Rotated);
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", File.ReadAllText(Path.Combine(_root, "ca.test-14000-dir", "accounts", "one", "account-key.pem")));
    }
}
