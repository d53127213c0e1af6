using System.Management.Automation;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Client;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Commands;

[Cmdlet(VerbsCommon.Get, "AcmeAuthorization", DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(AcmeAuthorization))]
public sealed class GetAcmeAuthorizationCommand : AcmeCmdlet
{
    private const string DefaultSet = "Default";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [PipedObject(typeof(AcmeOrder), "Get-AcmeAuthorization", "New-AcmeOrder")]
    [ValidateNotNull]
    public AcmeOrder Order { get; set; } = null!;

    protected override void ProcessRecord()
    {
        try
        {
            AcmeOrder order = RunAsync(context => new AcmeClient(Order.Account.Server, context).RefreshAuthorizationsAsync(Order, StopToken));
            WriteObject(order.Authorizations, enumerateCollection: true);
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, Order);
        }
    }
}
