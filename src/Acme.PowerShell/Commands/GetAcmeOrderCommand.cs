using System;
using System.IO;
using System.Management.Automation;
using System.Security;
using Acme.PowerShell.Infrastructure;
using Acme.Protocol;
using Acme.Protocol.Storage;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Reads saved orders from the state folder by name (ByName: as last saved, no request; the next
/// cmdlet refreshes what it needs), or resumes an order by its URL (ByUrl, RFC 8555 section 7.4)
/// with its authorizations.
/// </summary>
[Cmdlet(VerbsCommon.Get, "AcmeOrder", DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(AcmeOrder))]
public sealed class GetAcmeOrderCommand : AcmeCmdlet
{
    private const string ByNameSet = "ByName";
    private const string ByUrlSet = "ByUrl";

    /// <summary>The saved orders' names (those of the certificates they are for); wildcards allowed.</summary>
    [Parameter(Position = 0, ParameterSetName = ByNameSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(CertificateNameCompleter))]
    public string[] Name { get; set; } = { "*" };

    /// <summary>Only orders placed on this server (a shortcut name or directory URL).</summary>
    [Parameter(ParameterSetName = ByNameSet)]
    [AcmeServerTransformation]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public string? Server { get; set; }

    [Parameter(ParameterSetName = ByNameSet)]
    [ValidateNotNullOrEmpty]
    public string? StatePath { get; set; }

    /// <summary>Opens saved account keys that are encrypted; by default $env:ACME_KEY_PASSPHRASE.</summary>
    [Parameter(ParameterSetName = ByNameSet)]
    public SecureString? KeyPassphrase { get; set; }

    /// <summary>The account that placed the order; an AcmeOrder piped in brings its own.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByUrlSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    public AcmeAccount Account { get; set; } = null!;

    /// <summary>The order URL (the Location of an AcmeOrder).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByUrlSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Location")]
    [ValidateNotNull]
    public Uri Url { get; set; } = null!;

    protected override void ProcessRecord()
    {
        if (ParameterSetName == ByNameSet)
        {
            ReadByName();
            return;
        }

        try
        {
            AcmeOrder order = RunAsync(context => new AcmeClient(Account.Server, context).GetOrderAsync(Account, Url, StopToken));
            WriteObject(order);
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, Url);
        }
    }

    private void ReadByName()
    {
        StateQuery query;
        AcmeServer? server;
        try
        {
            query = new StateQuery(StateQuery.Open(StatePath, KeyPassphrase, SessionState.Path.GetUnresolvedProviderPathFromPSPath));
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
                if (query.Store.ReadOrder(itemServer, name, query.AccountsOf(itemServer)) is { } order)
                {
                    WriteObject(order);
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

        void NotFound(string name) => WriteAcmeError(new AcmeArgumentException("AcmeOrderNotFound",
            $"No order named '{name}' is saved in {query.Store.Root}{(server is null ? string.Empty : " for " + server.Name)}."), name);
    }
}
