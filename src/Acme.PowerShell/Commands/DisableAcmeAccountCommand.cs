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
public sealed class DisableAcmeAccountCommand : AcmeAccountCmdlet
{
    private const string DefaultSet = "Default";

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        AcmeAccount account = TargetAccount;
        if (!ShouldProcess(Describe(account), "Deactivate the account permanently (it cannot be reactivated)"))
        {
            return;
        }

        try
        {
            RunAsync(async context =>
            {
                await new AcmeClient(account.Server, context).DeactivateAccountAsync(account, StopToken).ConfigureAwait(false);
                await AccountSteps.SaveAccountAsync(account, context, StopToken).ConfigureAwait(false);
            });
            if (PassThru)
            {
                WriteObject(account);
            }
        }
        catch (Exception e) when (e is AcmeException || e is System.IO.IOException || e is UnauthorizedAccessException)
        {
            WriteAcmeError(e, account);
        }
    }
}
