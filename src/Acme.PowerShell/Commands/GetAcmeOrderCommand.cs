using System;
using System.Management.Automation;
using Acme.PowerShell.Infrastructure;
using Acme.Protocol;

namespace Acme.PowerShell.Commands;

/// <summary>Resumes an order by its URL (RFC 8555 section 7.4), with its authorizations, to carry on with it.</summary>
[Cmdlet(VerbsCommon.Get, "AcmeOrder", DefaultParameterSetName = ByUrlSet)]
[OutputType(typeof(AcmeOrder))]
public sealed class GetAcmeOrderCommand : AcmeCmdlet
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

    protected override void ProcessRecord()
    {
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
}
