using System;
using System.IO;
using System.Management.Automation;
using System.Security;
using Acme.PowerShell.Cmdlets;
using Acme.PowerShell.Files;
using Acme.Protocol.Client;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Rolls an account over to a new key (RFC 8555 section 7.3.5). Outputs a new account object with
/// the new key; the object piped in keeps the old key, which the CA refuses from then on. A generated
/// key is written to -NewKeyExportPath before the CA is asked, so a crash cannot lose the account.
/// </summary>
[Cmdlet(VerbsData.Update, "AcmeAccountKey", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = GenerateSet)]
[OutputType(typeof(AcmeAccount))]
public sealed class UpdateAcmeAccountKeyCommand : AcmeAccountCmdlet
{
    private const string GenerateSet = "Generate";
    private const string KeyPathSet = "KeyPath";

    [Parameter(ParameterSetName = GenerateSet)]
    public AcmeKeyAlgorithm NewKeyAlgorithm { get; set; } = AcmeKeyAlgorithm.EC256;

    /// <summary>Where the generated key is saved (owner-only PKCS#8 PEM) before the key change is sent.</summary>
    [Parameter(ParameterSetName = GenerateSet)]
    [ValidateNotNullOrEmpty]
    public string? NewKeyExportPath { get; set; }

    /// <summary>An existing key file to roll over to.</summary>
    [Parameter(Mandatory = true, ParameterSetName = KeyPathSet)]
    [ValidateNotNullOrEmpty]
    public string NewKeyPath { get; set; } = null!;

    /// <summary>The passphrase of the new key file: decrypts -NewKeyPath, or encrypts what -NewKeyExportPath writes.</summary>
    [Parameter]
    public SecureString? NewKeyPassword { get; set; }

    protected override void ProcessRecord()
    {
        AcmeAccount account = TargetAccount;
        AcmeKey? newKey = null;
        string? exportPath = NewKeyExportPath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(NewKeyExportPath);
        try
        {
            if (ParameterSetName == KeyPathSet)
            {
                newKey = AcmeFiles.ReadKey(SessionState.Path.GetUnresolvedProviderPathFromPSPath(NewKeyPath), NewKeyPassword);
            }
            else if (exportPath is not null && File.Exists(exportPath))
            {
                throw new AcmeArgumentException(AcmeErrorId.FileExists, $"'{exportPath}' already exists; the new key is not written over another file.");
            }
        }
        catch (Exception e) when (e is AcmeException || e is IOException)
        {
            WriteAcmeError(e, NewKeyPath ?? exportPath);
            return;
        }

        if (!ShouldProcess(Describe(account), "Replace the account key (the current key stops working)"))
        {
            return;
        }

        try
        {
            newKey ??= AcmeKey.Generate(NewKeyAlgorithm);
            if (exportPath is not null)
            {
                AcmeFiles.WriteKey(exportPath, newKey, NewKeyPassword, force: false);
                WriteVerbose($"Saved the new account key to {exportPath} before asking the CA to switch.");
            }

            AcmeKey key = newKey;
            AcmeAccount updated = RunAsync(context => AccountSteps.ChangeAccountKeyAsync(new AcmeClient(account.Server, context), account, key, StopToken));
            if (exportPath is null && ParameterSetName == GenerateSet && account.Name is null)
            {
                WriteWarning("The new account key exists only in this session: save it with Export-AcmeAccountKey, or the account is lost when the session ends.");
            }

            WriteObject(updated);
        }
        catch (Exception e) when (e is AcmeException || e is IOException || e is UnauthorizedAccessException)
        {
            WriteAcmeError(e, account);
        }
    }
}
