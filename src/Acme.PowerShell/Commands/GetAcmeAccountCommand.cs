using System.IO;
using System.Management.Automation;
using System.Security;
using Acme.PowerShell.Infrastructure;
using Acme.Protocol;
using Acme.Protocol.Crypto;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Finds the account an existing key controls (RFC 8555 section 7.3.1, onlyReturnExisting), so an
/// account moves between machines with its key file. Never creates an account.
/// </summary>
[Cmdlet(VerbsCommon.Get, "AcmeAccount", DefaultParameterSetName = ByKeySet)]
[OutputType(typeof(AcmeAccount))]
public sealed class GetAcmeAccountCommand : AcmeServerCmdlet
{
    private const string ByKeySet = "ByKey";

    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("DirectoryUrl")]
    [AcmeServerTransformation]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public override string? Server { get; set; } = DefaultServerName;

    /// <summary>The account key as PEM (PKCS#8, encrypted PKCS#8, SEC 1 or PKCS#1), as Export-AcmeAccountKey writes it.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByKeySet, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string KeyPath { get; set; } = null!;

    [Parameter(ParameterSetName = ByKeySet)]
    public SecureString? KeyPassword { get; set; }

    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case ByKeySet:
                FindByKey();
                break;
        }
    }

    private void FindByKey()
    {
        AcmeServer server;
        AcmeKey key;
        try
        {
            server = ResolveServer(Server!);
            key = AcmeFiles.ReadKey(ResolvePath(KeyPath), KeyPassword);
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, KeyPath);
            return;
        }
        catch (IOException e)
        {
            WriteAcmeError(e, KeyPath);
            return;
        }

        try
        {
            AcmeAccount account = RunAsync(context => new AcmeClient(server, context).FindAccountAsync(key, StopToken));
            WriteObject(account);
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, KeyPath);
        }
    }
}
