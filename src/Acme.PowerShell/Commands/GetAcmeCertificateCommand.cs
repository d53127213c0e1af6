using System;
using System.IO;
using System.Management.Automation;
using System.Security;
using Acme.PowerShell.Infrastructure;
using Acme.Protocol;
using Acme.Protocol.Storage;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Reads saved certificates from the state folder: the version in use of each, with its key, chain,
/// and the order and account it came from, so it pipes on into Test-AcmeRenewal, New-AcmeOrder
/// (renewal), Export-AcmeCertificate and Revoke-AcmeCertificate. No request is sent.
/// </summary>
[Cmdlet(VerbsCommon.Get, "AcmeCertificate", DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(AcmeCertificate))]
public sealed class GetAcmeCertificateCommand : AcmeCmdlet
{
    private const string ByNameSet = "ByName";

    /// <summary>The certificates' names; wildcards allowed.</summary>
    [Parameter(Position = 0, ParameterSetName = ByNameSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(CertificateNameCompleter))]
    public string[] Name { get; set; } = { "*" };

    /// <summary>Only certificates from this server (a shortcut name or directory URL).</summary>
    [Parameter(ParameterSetName = ByNameSet)]
    [AcmeServerTransformation]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public string? Server { get; set; }

    [Parameter(ParameterSetName = ByNameSet)]
    [ValidateNotNullOrEmpty]
    public string? StatePath { get; set; }

    /// <summary>Opens saved keys that are encrypted; by default $env:ACME_KEY_PASSPHRASE.</summary>
    [Parameter(ParameterSetName = ByNameSet)]
    public SecureString? KeyPassphrase { get; set; }

    protected override void ProcessRecord()
    {
        StateQuery query;
        AcmeServer? server;
        try
        {
            query = new StateQuery(StateQuery.Open(StatePath, KeyPassphrase, SessionState.Path.GetUnresolvedProviderPathFromPSPath), WriteWarning);
            server = Server is null ? null : new AcmeServer(AcmeServer.ResolveDirectoryUrl(Server));
        }
        catch (AcmeException e)
        {
            ThrowAcmeError(e, StatePath ?? Server);
            return;
        }

        foreach ((AcmeServer itemServer, string name) in StateQuery.Select(query.Store.GetCertificateNames(server), Name, NotFound))
        {
            try
            {
                if (query.Store.ReadCertificate(itemServer, name, query.AccountsOfCertificates(itemServer)) is { } certificate)
                {
                    WriteObject(certificate);
                }
                else if (Array.Exists(Name, p => string.Equals(p, name, StringComparison.OrdinalIgnoreCase)))
                {
                    NotFound(name);
                }
            }
            catch (Exception e) when (e is AcmeException || e is IOException || e is UnauthorizedAccessException)
            {
                WriteAcmeError(e, name);
            }
        }

        void NotFound(string name) => WriteAcmeError(new AcmeArgumentException("AcmeCertificateNotFound",
            $"No certificate named '{name}' is saved in {query.Store.Root}{(server is null ? string.Empty : " for " + server.Name)}."), name);
    }
}
