using System.Management.Automation;
using System.Security;
using Acme.PowerShell.Binding;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Cmdlets;

/// <summary>
/// The base of cmdlets that act on an account (Set-AcmeAccount, Disable-AcmeAccount,
/// Update-AcmeAccountKey, Export-AcmeAccountKey): the piped account, or without one the state
/// folder's single (or "default") account for -Server, named in a verbose line.
/// </summary>
public abstract class AcmeAccountCmdlet : AcmeServerCmdlet
{
    /// <summary>The account; without it, the state folder's single (or "default") account for -Server.</summary>
    [Parameter(ValueFromPipeline = true)]
    [ValidateNotNull]
    public AcmeAccount? Account { get; set; }

    /// <summary>Without -Account: the server whose saved account is used; by default $env:ACME_SERVER, else Let's Encrypt.</summary>
    [Parameter]
    [Alias("DirectoryUrl")]
    [AcmeServerTransformation]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public override string? Server { get; set; } = DefaultServerName;

    /// <summary>Without -Account: the state folder to take the account from; by default $env:ACME_STATE_PATH, else the per-user data folder.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StatePath { get; set; }

    /// <summary>Without -Account: opens the saved account's key when it is encrypted; by default $env:ACME_KEY_PASSPHRASE.</summary>
    [Parameter]
    public SecureString? KeyPassphrase { get; set; }

    /// <summary>The piped account, or the saved one (AcmeNoAccount, terminating, when there is none).</summary>
    protected AcmeAccount TargetAccount => Account ?? SavedAccount(StatePath, KeyPassphrase);
}
