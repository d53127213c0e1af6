using System;
using System.Management.Automation;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Client;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;

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
            RunAsync(async context =>
            {
                await new AcmeClient(Account.Server, context).DeactivateAccountAsync(Account, StopToken).ConfigureAwait(false);
                await AccountSteps.SaveAccountAsync(Account, context, StopToken).ConfigureAwait(false);
            });
            if (PassThru)
            {
                WriteObject(Account);
            }
        }
        catch (Exception e) when (e is AcmeException || e is System.IO.IOException || e is UnauthorizedAccessException)
        {
            WriteAcmeError(e, Account);
        }
    }
}
