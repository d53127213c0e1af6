using System.Management.Automation;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Removes a saved order from the state folder (its file and the certificate keys saved for it and
/// not used); the certificate's issued versions stay. Nothing is sent to the CA. Each removal asks for
/// confirmation unless -Force.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "AcmeOrder", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(AcmeOrder))]
public sealed class RemoveAcmeOrderCommand : AcmeRemovingCmdlet
{
    /// <summary>The names the orders are saved under (their certificates' names); wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByNameSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(CertificateNameCompleter))]
    public string[] Name { get; set; } = null!;

    /// <summary>A saved order, as Get-AcmeOrder or New-AcmeOrder writes it.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByObjectSet)]
    [PipedObject(typeof(AcmeOrder), "Remove-AcmeOrder", "New-AcmeOrder")]
    [ValidateNotNull]
    public AcmeOrder Order { get; set; } = null!;

    protected override void ProcessRecord()
    {
        if (ParameterSetName == ByNameSet)
        {
            RemoveByName(Name, (store, server) => store.GetCertificateNames(server),
                (query, server, name) => query.Store.ReadOrder(server, name, query.AccountsOf(server)),
                "order", AcmeErrorId.OrderNotFound, Remove);
            return;
        }

        Remove(Order);
    }

    private void Remove(AcmeOrder order) => RemoveConfirmed(order, $"{order.Name ?? string.Join(", ", order.Names)} in {order.StatePath ?? "no state folder"}",
        "Remove the saved order and the unused certificate keys saved for it", context => RemovalSteps.RemoveOrderAsync(order, context, StopToken));
}
