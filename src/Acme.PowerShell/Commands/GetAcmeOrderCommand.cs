using System;
using System.Management.Automation;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Client;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Reads saved orders from the state folder by name (ByName: as last saved, no request; the next
/// cmdlet refreshes what it needs), or resumes an order by its URL (ByUrl, RFC 8555 section 7.4)
/// with its authorizations.
/// </summary>
[Cmdlet(VerbsCommon.Get, "AcmeOrder", DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(AcmeOrder))]
public sealed class GetAcmeOrderCommand : AcmeSavedCertificateCmdlet
{
    private const string ByUrlSet = "ByUrl";

    /// <summary>The account that placed the order; an AcmeOrder piped in brings its own.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByUrlSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    public AcmeAccount Account { get; set; } = null!;

    /// <summary>The order URL (the Location of an AcmeOrder).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByUrlSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Location")]
    [ValidateNotNull]
    public Uri Url { get; set; } = null!;

    /// <summary>ByName: re-reads each saved order and its authorizations from the CA and saves what it says (an order that failed reads Invalid).</summary>
    [Parameter(ParameterSetName = ByNameSet)]
    public SwitchParameter Refresh { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == ByNameSet)
        {
            // Accounts that cannot be read are errors here: an order without its account cannot go on.
            WriteSaved((query, server, name) => Refreshed(query.Store.ReadOrder(server, name, query.AccountsOf(server))), "order", AcmeErrorId.OrderNotFound);
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

    private AcmeOrder? Refreshed(AcmeOrder? saved) =>
        saved is not null && Refresh
            ? RunAsync(context => OrderSteps.RefreshOrderAsync(new AcmeClient(saved.Account.Server, context), saved, StopToken))
            : saved;
}
