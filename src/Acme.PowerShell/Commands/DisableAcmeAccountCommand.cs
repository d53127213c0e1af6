using System.Management.Automation;
using Acme.PowerShell.Infrastructure;
using Acme.Protocol;

namespace Acme.PowerShell.Commands;

/// <summary>Deactivates an account for good (RFC 8555 section 7.3.6): the CA refuses every later request it signs.</summary>
[Cmdlet(VerbsLifecycle.Disable, "AcmeAccount", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(AcmeAccount))]
public sealed class DisableAcmeAccountCommand : AcmeCmdlet
{
    private const string DefaultSet = "Default";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public AcmeAccount Account { get; set; } = null!;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess(Account.Location.AbsoluteUri, "Deactivate the account permanently (it cannot be reactivated)"))
        {
            return;
        }

        try
        {
            RunAsync(context => new AcmeClient(Account.Server, context).DeactivateAccountAsync(Account, StopToken));
            if (PassThru)
            {
                WriteObject(Account);
            }
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, Account);
        }
    }
}
