using System.Management.Automation;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Removes a saved account from the state folder: its data and its private key. Nothing is sent to the
/// CA (Disable-AcmeAccount deactivates it there). While saved certificates or orders name the account it
/// is refused (AcmeAccountInUse), since its key is what renews and revokes them; -Force removes it
/// anyway and leaves them. Each removal asks for confirmation unless -Force.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "AcmeAccount", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(AcmeAccount))]
public sealed class RemoveAcmeAccountCommand : AcmeRemovingCmdlet
{
    /// <summary>The saved accounts' names; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByNameSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(AccountNameCompleter))]
    public string[] Name { get; set; } = null!;

    /// <summary>A saved account, as Get-AcmeAccount or New-AcmeAccount writes it.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByObjectSet)]
    [PipedObject(typeof(AcmeAccount), "Remove-AcmeAccount", "New-AcmeAccount")]
    [ValidateNotNull]
    public AcmeAccount Account { get; set; } = null!;

    protected override void ProcessRecord()
    {
        if (ParameterSetName == ByNameSet)
        {
            RemoveByName(Name, (store, server) => store.GetAccountNames(server), (query, server, name) => query.Store.ReadAccount(server, name),
                "account", AcmeErrorId.AccountNotFound, Remove);
            return;
        }

        Remove(Account);
    }

    private void Remove(AcmeAccount account) => RemoveConfirmed(account, $"{account.Name ?? account.Location.AbsoluteUri} ({account.Server.Name}) in {account.StatePath ?? "no state folder"}",
        "Remove the saved account and its private key", context => RemovalSteps.RemoveAccountAsync(account, Force, context, StopToken));
}
