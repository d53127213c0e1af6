using System.Management.Automation;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Client;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Deactivates an authorization (RFC 8555 section 7.5.2): the account gives up its proof of control
/// of the identifier, so a later order must validate it again.
/// </summary>
[Cmdlet(VerbsLifecycle.Disable, "AcmeAuthorization", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(AcmeAuthorization))]
public sealed class DisableAcmeAuthorizationCommand : AcmeCmdlet
{
    private const string DefaultSet = "Default";

    /// <summary>An authorization as an order lists it (its Account signs the request).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [PipedObject(typeof(AcmeAuthorization), "Disable-AcmeAuthorization", "Get-AcmeAuthorization")]
    [ValidateNotNull]
    public AcmeAuthorization Authorization { get; set; } = null!;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (Authorization.Account is null)
        {
            WriteAcmeError(new AcmeArgumentException(AcmeErrorId.NoAccount,
                $"The authorization for {Authorization.Identifier.Value} carries no account; take it from an order (New-AcmeOrder or Get-AcmeOrder)."), Authorization);
            return;
        }

        if (!ShouldProcess(Authorization.Identifier.Value, $"Deactivate the authorization {Authorization.Location}"))
        {
            return;
        }

        try
        {
            AcmeAuthorization updated = RunAsync(context =>
                new AcmeClient(Authorization.Account.Server, context).DeactivateAuthorizationAsync(Authorization, StopToken));
            if (PassThru)
            {
                WriteObject(updated);
            }
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, Authorization);
        }
    }
}
