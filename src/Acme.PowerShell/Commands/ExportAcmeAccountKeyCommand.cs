using System.IO;
using System.Management.Automation;
using System.Security;
using Acme.PowerShell.Cmdlets;
using Acme.PowerShell.Files;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Writes an account's key as PKCS#8 PEM (encrypted with -Password), owner-only and atomically, so
/// the account can move to another machine (Get-AcmeAccount -KeyPath reads it back).
/// </summary>
[Cmdlet(VerbsData.Export, "AcmeAccountKey", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(FileInfo))]
public sealed class ExportAcmeAccountKeyCommand : AcmeAccountCmdlet
{
    /// <summary>No: it reads the saved key.</summary>
    protected override bool AsksTheCa => false;

    private const string DefaultSet = "Default";

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = null!;

    /// <summary>Encrypts the key (PBES2: PBKDF2-HMAC-SHA256, AES-256-CBC). Without it the file holds the key in the clear, readable by its owner only.</summary>
    [Parameter]
    public SecureString? Password { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        AcmeAccount account = TargetAccount;
        string path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        if (Password is not null && Password.Length == 0)
        {
            ThrowAcmeError(new AcmeArgumentException(AcmeErrorId.InvalidPassword, "An empty -Password cannot protect a key; leave it out or give a passphrase."), Path);
        }

        if (!ShouldProcess(path, $"Write the key of the account {Describe(account)}{(Password is null ? " (not encrypted)" : " (encrypted)")}"))
        {
            return;
        }

        try
        {
            WriteObject(AcmeFiles.WriteKey(path, account.Key, Password, Force));
        }
        catch (System.Exception e) when (e is AcmeException || e is IOException || e is System.UnauthorizedAccessException)
        {
            WriteAcmeError(e, path);
        }
    }
}
