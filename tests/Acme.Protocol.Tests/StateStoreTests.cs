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

/// <summary>The state folder's layout, names, key files and locks, on real files in a temporary folder.</summary>
public class StateStoreTests
{
    private static readonly AcmeServer s_server = new(new Uri("https://ca.test:14000/dir"));

    [Theory]
    [InlineData("https://acme-v02.api.letsencrypt.org/directory", "LetsEncrypt")]
    [InlineData("https://acme-staging-v02.api.letsencrypt.org/directory", "LetsEncryptStaging")]
    [InlineData("https://127.0.0.1:14000/dir", "127.0.0.1-14000-dir")]
    [InlineData("https://CA.Internal.Example/acme/directory", "ca.internal.example-acme-directory")]
    public void EachServerHasAFolderOfItsOwn(string url, string folder)
    {
        Assert.Equal(folder, AcmeStateStore.ServerFolderName(new Uri(url)));
    }

    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("*.example.com", "_.example.com")]
    [InlineData("2001:db8::1", "2001-db8--1")]
    [InlineData("192.0.2.1", "192.0.2.1")]
    [InlineData("::1", "_--1")]
    [InlineData("nul.example.com", "_nul.example.com")]
    [InlineData("current", "_current")]
    public void ACertificateIsNamedAfterItsFirstIdentifier(string identifier, string name)
    {
        string type = System.Net.IPAddress.TryParse(identifier, out _) ? AcmeIdentifier.IpType : AcmeIdentifier.DnsType;
        string actual = AcmeStateStore.NameFor(new[] { new AcmeIdentifier(type, identifier), new AcmeIdentifier("dns", "other.test") });
        Assert.Equal(name, actual);
        Assert.True(AcmeStateStore.IsValidName(actual));
    }

    [Theory]
    [InlineData("web", true)]
    [InlineData("admin@example.com", true)]
    [InlineData("default-2", true)]
    [InlineData("../escape", false)]
    [InlineData("a/b", false)]
    [InlineData("a\\b", false)]
    [InlineData(".hidden", false)]
    [InlineData("-dash", false)]
    [InlineData("CON", false)]
    [InlineData("nul.txt", false)]
    [InlineData("current", false)]
    [InlineData("with space", false)]
    [InlineData("", false)]
    public void NamesAreSafeFolderNamesEverywhere(string name, bool valid)
    {
        Assert.Equal(valid, AcmeStateStore.IsValidName(name));
    }

    [Fact]
    public void AnAccountIsSavedAndReadBackWithItsKeyOwnerOnly()
    {
        using var temp = new TempState();
        AcmeStateStore store = temp.Open();
        AcmeAccount saved = TempState.SaveAccount(store, s_server, "web");

        AcmeAccount? read = store.ReadAccount(s_server, "web");
        Assert.NotNull(read);
        Assert.Equal(saved.Location, read!.Location);
        Assert.Equal(saved.KeyThumbprint, read.KeyThumbprint);
        Assert.Equal("web", read.Name);
        Assert.Equal(temp.Root, read.StatePath);
        Assert.Null(store.ReadAccount(s_server, "other"));
        Assert.Equal(new[] { "web" }, store.GetAccountNames().Select(a => a.Name));

        string keyFile = Path.Combine(temp.Root, "ca.test-14000-dir", "accounts", "web", "account-key.pem");
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(keyFile));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(temp.Root));
        }
    }

    [Fact]
    public void KeysAreEncryptedWithAPassphraseAndNeedItToBeRead()
    {
        using var temp = new TempState();
        AcmeStateStore store = temp.Open("correct horse".ToCharArray());
        AcmeAccount saved = TempState.SaveAccount(store, s_server, "locked");
        string keyFile = Path.Combine(temp.Root, "ca.test-14000-dir", "accounts", "locked", "account-key.pem");
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", File.ReadAllText(keyFile));

        Assert.Equal(saved.KeyThumbprint, temp.Open("correct horse".ToCharArray()).ReadAccount(s_server, "locked")!.KeyThumbprint);
        Assert.Equal("AcmeKeyPasswordRequired", Assert.Throws<AcmeArgumentException>(() => temp.Open().ReadAccount(s_server, "locked")).ErrorId);
        Assert.Equal("AcmeKeyPasswordIncorrect",
            Assert.Throws<AcmeArgumentException>(() => temp.Open("wrong".ToCharArray()).ReadAccount(s_server, "locked")).ErrorId);
    }

    [Fact]
    public void AKeyFileThatIsNotTheAccountsIsReportedNotUsed()
    {
        using var temp = new TempState();
        AcmeStateStore store = temp.Open();
        TempState.SaveAccount(store, s_server, "swapped");
        store.WriteAccountKey(s_server, "swapped", AcmeKey.Generate(AcmeKeyAlgorithm.EC256));
        var e = Assert.Throws<AcmeLocalException>(() => store.ReadAccount(s_server, "swapped"));
        Assert.Equal("AcmeStateCorrupt", e.ErrorId);
    }

    [Fact]
    public void AccountsWithoutANameGetDefaultThenNumberedNames()
    {
        using var temp = new TempState();
        AcmeStateStore store = temp.Open();
        Assert.Equal("default", store.ReserveAccountName(s_server));
        Assert.Equal("default-2", store.ReserveAccountName(s_server));
        Assert.Equal("default-3", store.ReserveAccountName(s_server));
    }

    [Fact]
    public void ACertificateVersionIsSavedWholeAndBecomesCurrentWithItsKey()
    {
        using var temp = new TempState();
        AcmeStateStore store = temp.Open();
        AcmeAccount account = TempState.SaveAccount(store, s_server, "default");
        AcmeOrder order = TempState.Order(account, "valid", "www.example.com", "example.com");
        string folder = store.CertificateFolder(s_server, "www.example.com");
        Directory.CreateDirectory(Path.Combine(folder, ".ABC.dead.tmp"));

        AcmeKey key = AcmeKey.Generate(AcmeKeyAlgorithm.EC256);
        AcmeCertificate first = TempState.SaveCertificate(store, order, TempState.Issue(key, DateTimeOffset.UtcNow, TimeSpan.FromDays(90), "www.example.com", "example.com"));
        Assert.Equal("www.example.com", first.Name);
        Assert.Equal(key.Thumbprint, first.Key!.Thumbprint);
        Assert.Equal(account.Location, first.Order!.Account.Location);
        Assert.Equal(new[] { "example.com", "www.example.com" }, first.Order.Names.OrderBy(n => n));
        Assert.False(Directory.Exists(Path.Combine(folder, ".ABC.dead.tmp")), "a half-written version left by a dead process is cleared");

        AcmeCertificate second = TempState.SaveCertificate(store, order, TempState.Issue(AcmeKey.Generate(AcmeKeyAlgorithm.EC384), DateTimeOffset.UtcNow,
            TimeSpan.FromDays(90), "www.example.com", "example.com"));
        Assert.NotEqual(first.Thumbprint, second.Thumbprint);
        Assert.Equal(second.Thumbprint, File.ReadAllText(Path.Combine(folder, "current")).Trim());
        Assert.Equal("EC384", second.Key!.Name);
        // The earlier version stays, whole, beside the current one.
        Assert.True(File.Exists(Path.Combine(folder, first.Thumbprint, "key.pem")));
        Assert.Empty(Directory.GetFileSystemEntries(folder, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task EachExportIsRecordedWithItsVersionAndTheLastOneIsReadBack()
    {
        using var temp = new TempState();
        AcmeStateStore store = temp.Open();
        AcmeAccount account = TempState.SaveAccount(store, s_server, "default");
        AcmeOrder order = TempState.Order(account, "valid", "export.example.com");
        AcmeCertificate first = TempState.SaveCertificate(store, order,
            TempState.Issue(AcmeKey.Generate(AcmeKeyAlgorithm.EC256), DateTimeOffset.UtcNow, TimeSpan.FromDays(90), "export.example.com"));
        Assert.Null(first.CertFile);
        Assert.True(first.DaysLeft is 89 or 90, $"DaysLeft {first.DaysLeft}");

        // A PEM export, then a PFX one: the PFX does not clear the PEM files, and more than the cap of records keeps the newest.
        for (int i = 0; i < AcmeStateStore.MaxRecordedExports + 5; i++)
        {
            await CertificateSteps.RecordExportAsync(first, new CertificateExport(DateTimeOffset.UtcNow, $"/srv/{i}/cert.pem", $"/srv/{i}/chain.pem",
                $"/srv/{i}/fullchain.pem", $"/srv/{i}/key.pem", null), NullAcmeLog.Instance);
        }

        await CertificateSteps.RecordExportAsync(first, new CertificateExport(DateTimeOffset.UtcNow, null, null, null, null, "/srv/site.pfx"), NullAcmeLog.Instance);
        AcmeCertificate read = store.ReadCertificate(s_server, "export.example.com", n => store.ReadAccount(s_server, n))!;
        int last = AcmeStateStore.MaxRecordedExports + 4;
        Assert.Equal($"/srv/{last}/cert.pem", read.CertFile);
        Assert.Equal($"/srv/{last}/key.pem", read.KeyFile);
        Assert.Equal($"/srv/{last}/chain.pem", read.ChainFile);
        Assert.Equal($"/srv/{last}/fullchain.pem", read.FullChainFile);
        Assert.Equal("/srv/site.pfx", read.PfxFile);
        Assert.NotNull(read.ExportedAt);
        string json = File.ReadAllText(Path.Combine(store.CertificateFolder(s_server, "export.example.com"), first.Thumbprint, "certificate.json"));
        Assert.Equal(AcmeStateStore.MaxRecordedExports, System.Text.RegularExpressions.Regex.Matches(json, "\"at\"").Count);

        // A new version starts with no export of its own.
        AcmeCertificate second = TempState.SaveCertificate(store, order,
            TempState.Issue(AcmeKey.Generate(AcmeKeyAlgorithm.EC256), DateTimeOffset.UtcNow, TimeSpan.FromDays(90), "export.example.com"));
        Assert.Null(second.CertFile);
        Assert.Null(second.PfxFile);
    }

    [Fact]
    public void TheCertificateKeyIsSavedForItsOrderAndNoOther()
    {
        using var temp = new TempState();
        AcmeStateStore store = temp.Open();
        AcmeAccount account = TempState.SaveAccount(store, s_server, "default");
        AcmeOrder order = TempState.Order(account, "ready", "key.example.com");
        store.WriteOrder(order);
        AcmeKey key = AcmeKey.Generate(AcmeKeyAlgorithm.EC256);
        store.WriteOrderKey(order, key);

        AcmeOrder read = store.ReadOrder(s_server, order.Name!, n => store.ReadAccount(s_server, n))!;
        Assert.Equal(order.Location, read.Location);
        Assert.Equal(order.Finalize, read.Finalize);
        Assert.Equal(key.Thumbprint, store.ReadOrderKey(read)!.Thumbprint);

        // A new order under the same name does not inherit the key, but the key file stays (the CA may have seen it).
        AcmeOrder next = TempState.Order(account, "ready", "key.example.com");
        store.WriteOrder(next);
        Assert.Null(store.ReadOrderKey(next));
        Assert.Single(Directory.GetFiles(store.CertificateFolder(s_server, order.Name!), "order-key-*.pem"));
    }

    [Fact]
    public async Task AnItemsLockMakesAnotherFlowWaitThenFailClearly()
    {
        using var temp = new TempState();
        AcmeStateStore store = temp.Open();
        store.LockTimeout = TimeSpan.FromMilliseconds(300);
        using (await store.LockCertificateAsync(s_server, "busy", NullAcmeLog.Instance, CancellationToken.None))
        {
            // Another flow (another cmdlet, runspace or process) is kept out...
            var e = await InAnotherFlow(() => Assert.ThrowsAsync<AcmeLocalException>(() => store.LockCertificateAsync(s_server, "busy", NullAcmeLog.Instance, CancellationToken.None)));
            Assert.Equal("AcmeStateLocked", e.ErrorId);

            // ...while this flow takes it again (New-AcmeCertificate holds it around the pipeline's steps).
            using (await store.LockCertificateAsync(s_server, "busy", NullAcmeLog.Instance, CancellationToken.None))
            {
            }

            // Other items are free.
            using (await InAnotherFlow(() => store.LockCertificateAsync(s_server, "other", NullAcmeLog.Instance, CancellationToken.None)))
            {
            }
        }

        using (await InAnotherFlow(() => store.LockCertificateAsync(s_server, "busy", NullAcmeLog.Instance, CancellationToken.None)))
        {
        }
    }

    /// <summary>Work started without this flow's execution context, as another pipeline's would be.</summary>
    private static Task<T> InAnotherFlow<T>(Func<Task<T>> work)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(work);
        }
    }

    [Fact]
    public async Task AWaitForALockEndsWhenItIsReleased()
    {
        using var temp = new TempState();
        AcmeStateStore store = temp.Open();
        StateLock held = await InAnotherFlow(() => store.LockAccountAsync(s_server, "shared", NullAcmeLog.Instance, CancellationToken.None));
        Task<StateLock> waiting = InAnotherFlow(() => store.LockAccountAsync(s_server, "shared", NullAcmeLog.Instance, CancellationToken.None));
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted);
        held.Dispose();
        using StateLock second = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void SavedTrustIsUsedOnlyWhenTheCallerGivesNone()
    {
        using var temp = new TempState();
        AcmeStateStore store = temp.Open();
        using var rootKey = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=Private Root", rootKey,
            System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var root = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        store.WriteServer(new AcmeServer(s_server.DirectoryUrl, root));

        Assert.Equal(root.Thumbprint, store.WithSavedTrust(new AcmeServer(s_server.DirectoryUrl)).TrustedRoot?.Thumbprint);
        Assert.True(store.WithSavedTrust(new AcmeServer(s_server.DirectoryUrl, null, skipCertificateCheck: true)).SkipCertificateCheck);
        Assert.Null(store.WithSavedTrust(new AcmeServer(new Uri("https://elsewhere.test/dir"))).TrustedRoot);
        Assert.Equal(root.Thumbprint, Assert.Single(store.GetServers()).TrustedRoot?.Thumbprint);
    }
}
