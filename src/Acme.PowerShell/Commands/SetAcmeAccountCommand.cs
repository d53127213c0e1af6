using System;
using System.Linq;
using System.Management.Automation;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Client;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

/// <summary>Replaces an account's contacts (RFC 8555 section 7.3.2); the account object is updated in place.</summary>
[Cmdlet(VerbsCommon.Set, "AcmeAccount", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(AcmeAccount))]
public sealed class SetAcmeAccountCommand : AcmeAccountCmdlet
{
    private const string DefaultSet = "Default";

    /// <summary>The new contacts (e-mail addresses or mailto: URLs); an empty list removes them all.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [AllowEmptyCollection]
    public string[] Contact { get; set; } = null!;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        AcmeAccount account = TargetAccount;
        string[] contact;
        try
        {
            contact = Contact.Select(NewAcmeAccountCommand.NormalizeContact).ToArray();
        }
        catch (AcmeArgumentException e)
        {
            ThrowAcmeError(e, string.Join(", ", Contact));
            return;
        }

        if (!ShouldProcess(Describe(account), contact.Length == 0 ? "Remove every contact" : $"Set the contacts to {string.Join(", ", contact)}"))
        {
            return;
        }

        try
        {
            RunAsync(async context =>
            {
                await new AcmeClient(account.Server, context).UpdateAccountContactAsync(account, contact, StopToken).ConfigureAwait(false);
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
