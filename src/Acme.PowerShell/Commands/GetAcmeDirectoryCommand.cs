using System.Management.Automation;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Client;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Commands;

/// <summary>Reads a CA's directory (RFC 8555 section 7.1.1) afresh, with its meta: terms, website, CAA identities, EAB, profiles, ARI.</summary>
[Cmdlet(VerbsCommon.Get, "AcmeDirectory", DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(AcmeDirectory))]
public sealed class GetAcmeDirectoryCommand : AcmeServerCmdlet
{
    private const string DefaultSet = "Default";

    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("DirectoryUrl")]
    [AcmeServerTransformation]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public override string? Server { get; set; } = DefaultServerName;

    protected override void ProcessRecord()
    {
        AcmeServer server;
        try
        {
            server = ResolveServer(Server!);
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, Server);
            return;
        }

        try
        {
            AcmeDirectory directory = RunAsync(context =>
            {
                var client = new AcmeClient(server, context);
                // The cached copy may be old; the user asked to see the directory as it is now.
                client.Connection.RefreshDirectory();
                return client.GetDirectoryAsync(StopToken);
            });
            WriteObject(directory);
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, server.DirectoryUrl);
        }
    }
}
