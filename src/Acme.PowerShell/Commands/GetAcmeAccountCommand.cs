using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Security;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.PowerShell.Files;
using Acme.PowerShell.Stores;
using Acme.Protocol.Client;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Reads saved accounts from the state folder by name (ByName, no request), or finds the account an
/// existing key controls (ByKey: RFC 8555 section 7.3.1, onlyReturnExisting), so an account moves
/// between machines with its key file. Never creates an account.
/// </summary>
[Cmdlet(VerbsCommon.Get, "AcmeAccount", DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(AcmeAccount))]
public sealed class GetAcmeAccountCommand : AcmeServerCmdlet
{
    /// <summary>No: it reads saved accounts (with -Key it asks the CA, whose first request then reads the store itself).</summary>
    protected override bool AsksTheCa => false;

    private const string ByNameSet = "ByName";
    private const string ByKeySet = "ByKey";

    /// <summary>ByKey: the server to ask. ByName: only accounts on this server.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ByKeySet)]
    [Parameter(ParameterSetName = ByNameSet)]
    [Alias("DirectoryUrl")]
    [AcmeServerTransformation]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public override string? Server { get; set; } = DefaultServerName;

    /// <summary>The saved accounts' names; wildcards allowed.</summary>
    [Parameter(Position = 0, ParameterSetName = ByNameSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(AccountNameCompleter))]
    public string[] Name { get; set; } = { "*" };

    [Parameter(ParameterSetName = ByNameSet)]
    [ValidateNotNullOrEmpty]
    public string? StatePath { get; set; }

    /// <summary>Opens saved keys that are encrypted; by default $env:ACME_KEY_PASSPHRASE.</summary>
    [Parameter(ParameterSetName = ByNameSet)]
    public SecureString? KeyPassphrase { get; set; }

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
            case ByNameSet:
                ReadByName();
                break;
            case ByKeySet:
                FindByKey();
                break;
        }
    }

    private void ReadByName()
    {
        StateQuery query;
        AcmeServer? server;
        IReadOnlyList<(AcmeServer Server, string Name)> names;
        try
        {
            query = new StateQuery(StateQuery.Open(StatePath, KeyPassphrase, SessionState.Path));
            server = MyInvocation.BoundParameters.ContainsKey(nameof(Server)) ? ResolveServer(Server!) : null;
            names = query.Store.GetAccountNames(server);
        }
        catch (AcmeException e)
        {
            ThrowAcmeError(e, StatePath ?? Server);
            return;
        }

        query.ReadEach(names, Name, query.Store.ReadAccount, account =>
        {
            if (query.Store.InterruptedKeyRollover(account) is { } next)
            {
                WriteWarning($"A key rollover of the account '{account.Name}' was interrupted: {next} holds the new key. If the CA switched keys, " +
                    "requests signed with the saved key fail; then put that file in place of account-key.pem.");
            }

            WriteObject(account);
        }, WriteAcmeError, name => WriteAcmeError(new AcmeArgumentException(AcmeErrorId.AccountNotFound,
            $"No account named '{name}' is saved in {query.Store.Root}{(server is null ? string.Empty : " for " + server.Name)}."), name));
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
