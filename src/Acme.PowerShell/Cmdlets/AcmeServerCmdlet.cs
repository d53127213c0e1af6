using System;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Stores;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;
using Acme.Protocol.Transport;

namespace Acme.PowerShell.Cmdlets;

/// <summary>
/// The base of cmdlets that name an ACME server themselves: -TrustedRootCertificate and
/// -InsecureSkipCertificateCheck live here once. Each cmdlet declares -Server itself, because where
/// it sits differs (the first positional parameter of New-AcmeAccount, an optional fallback of
/// Revoke-AcmeCertificate); the declaration overrides <see cref="Server"/>.
/// </summary>
public abstract class AcmeServerCmdlet : AcmeCmdlet
{
    private bool _warned;

    /// <summary>
    /// Starts the platform trust store's load (<see cref="PlatformTrust"/>) as the cmdlet is created, before its
    /// parameters are bound, so that it runs while the cmdlet reads the state folder; only for a cmdlet that asks the
    /// CA in the common case (<see cref="AsksTheCa"/>): a process that exits first waits for the load to end.
    /// </summary>
    protected AcmeServerCmdlet()
    {
        if (AsksTheCa)
        {
            PlatformTrust.WarmUp();
        }
    }

    /// <summary>Whether this cmdlet asks the CA in the common case; the ones that read or remove saved state say no.</summary>
    protected virtual bool AsksTheCa => true;

    /// <summary>ACME_SERVER when set, otherwise Let's Encrypt.</summary>
    protected static string DefaultServerName =>
        Environment.GetEnvironmentVariable("ACME_SERVER") is { Length: > 0 } env ? env : "LetsEncrypt";

    /// <summary>A shortcut (LetsEncrypt, LetsEncryptStaging, ZeroSSL, GoogleTrust, GoogleTrustStaging) or an https directory URL.</summary>
    public abstract string? Server { get; set; }

    /// <summary>A private CA's root: the connection to the directory trusts chains ending in it.</summary>
    [Parameter]
    [CertificateTransformation]
    public X509Certificate2? TrustedRootCertificate { get; set; }

    /// <summary>For throwaway test CAs only: the directory's TLS certificate is not checked.</summary>
    [Parameter]
    public SwitchParameter InsecureSkipCertificateCheck { get; set; }

    /// <summary>
    /// The server -Server names, with the trust parameters; without them, with the trust saved for that
    /// server in the state folder (a private CA's root given once). Throws AcmeArgumentException for a
    /// bad name or URL.
    /// </summary>
    protected AcmeServer ResolveServer(string nameOrUrl)
    {
        var server = new AcmeServer(AcmeServer.ResolveDirectoryUrl(nameOrUrl), TrustedRootCertificate, InsecureSkipCertificateCheck);
        server = SavedTrust(server);
        if (InsecureSkipCertificateCheck && !_warned)
        {
            _warned = true;
            WriteWarning($"-InsecureSkipCertificateCheck: the TLS certificate of {server.DirectoryUrl} is not checked. Use this only against a throwaway test CA.");
        }

        return server;
    }

    /// <summary>
    /// The server for a request about a certificate: the account's (given, or the one that ordered the
    /// certificate), and only without either the server -Server names.
    /// </summary>
    protected AcmeServer ServerFor(AcmeAccount? account, AcmeCertificate? certificate)
    {
        AcmeServer? known = account?.Server ?? certificate?.Order?.Account.Server ?? certificate?.SavedServer;
        if (known is not null)
        {
            return known;
        }

        if (string.IsNullOrWhiteSpace(Server))
        {
            throw new AcmeArgumentException(AcmeErrorId.ServerRequired,
                "The certificate does not say which ACME server issued it: give -Account or -Server.");
        }

        return ResolveServer(Server!);
    }

    /// <summary>
    /// Without a piped account: the state folder's single or "default" account for -Server (by default
    /// $env:ACME_SERVER), said in a verbose line; none (or several without "default") stops with
    /// AcmeNoAccount. Read once per call of the cmdlet.
    /// </summary>
    protected AcmeAccount SavedAccount(string? statePath, SecureString? keyPassphrase)
    {
        if (_savedAccount is not null)
        {
            return _savedAccount;
        }

        try
        {
            AcmeStateStore store = StateQuery.Open(statePath, keyPassphrase, SessionState.Path);
            (AcmeAccount account, string why) = SavedAccounts.Default(store, ResolveServer(Server!));
            WriteVerbose(why);
            return _savedAccount = account;
        }
        catch (AcmeException e)
        {
            ThrowAcmeError(e, Server);
            throw;
        }
    }

    private AcmeAccount? _savedAccount;

    /// <summary>How a confirmation names an account: its saved name and its URL.</summary>
    protected static string Describe(AcmeAccount account) =>
        account.Name is null ? account.Location.AbsoluteUri : $"{account.Location.AbsoluteUri} (the saved account '{account.Name}')";

    /// <summary>The trust the default state folder keeps for the server, when the caller gave none; an unreadable folder changes nothing.</summary>
    private AcmeServer SavedTrust(AcmeServer server)
    {
        if (server.TrustedRoot is not null || server.SkipCertificateCheck)
        {
            return server;
        }

        try
        {
            string? statePath = MyInvocation.BoundParameters.TryGetValue("StatePath", out object? bound) && bound is string path ? ResolvePath(path) : null;
            return AcmeStateStore.Open(statePath).WithSavedTrust(server);
        }
        catch (Exception e) when (e is AcmeException || e is System.IO.IOException || e is UnauthorizedAccessException || e is SessionStateException || e is NotSupportedException)
        {
            WriteVerbose($"The trust saved for {server.Name} could not be read ({e.Message}); the system's trust applies.");
            return server;
        }
    }

    /// <summary>A path as the user typed it, resolved against the current PowerShell location.</summary>
    protected string ResolvePath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
}
