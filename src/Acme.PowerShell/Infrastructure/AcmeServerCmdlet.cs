using System;
using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using Acme.Protocol;

namespace Acme.PowerShell.Infrastructure;

/// <summary>
/// The base of cmdlets that name an ACME server themselves: -TrustedRootCertificate and
/// -InsecureSkipCertificateCheck live here once. Each cmdlet declares -Server itself, because where
/// it sits differs (the first positional parameter of New-AcmeAccount, an optional fallback of
/// Revoke-AcmeCertificate); the declaration overrides <see cref="Server"/>.
/// </summary>
public abstract class AcmeServerCmdlet : AcmeCmdlet
{
    private bool _warned;

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

    /// <summary>The server -Server names, with the trust parameters. Throws AcmeArgumentException for a bad name or URL.</summary>
    protected AcmeServer ResolveServer(string nameOrUrl)
    {
        var server = new AcmeServer(AcmeServer.ResolveDirectoryUrl(nameOrUrl), TrustedRootCertificate, InsecureSkipCertificateCheck);
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
            throw new AcmeArgumentException("AcmeServerRequired",
                "The certificate does not say which ACME server issued it: give -Account or -Server.");
        }

        return ResolveServer(Server!);
    }

    /// <summary>A path as the user typed it, resolved against the current PowerShell location.</summary>
    protected string ResolvePath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
}
