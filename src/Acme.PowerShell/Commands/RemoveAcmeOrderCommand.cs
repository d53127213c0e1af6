using System.Management.Automation;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Removes a saved order from the state folder (its file and the certificate keys saved for it and
/// not used); the certificate's issued versions stay. Nothing is sent to the CA.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "AcmeOrder", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(AcmeOrder))]
public sealed class RemoveAcmeOrderCommand : AcmeCmdlet
{
    private const string DefaultSet = "Default";

    /// <summary>A saved order, as Get-AcmeOrder or New-AcmeOrder writes it.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public AcmeOrder Order { get; set; } = null!;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess($"{Order.Name ?? string.Join(", ", Order.Names)} in {Order.StatePath ?? "no state folder"}", "Remove the saved order"))
        {
            return;
        }

        try
        {
            RunAsync(context => RemovalSteps.RemoveOrderAsync(Order, context, StopToken));
            if (PassThru)
            {
                WriteObject(Order);
            }
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, Order);
        }
    }
}
