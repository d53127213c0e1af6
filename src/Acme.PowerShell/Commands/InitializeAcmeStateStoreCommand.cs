using System;
using System.Management.Automation;
using Acme.Protocol.Model;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Errors;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Creates, or migrates to this module's version, the schema "acme" of a PostgreSQL state database
/// (postgres://user:password@host:port/database); run it again at any time: it changes nothing when
/// the schema is current, and refuses a schema a newer module made.
/// </summary>
[Cmdlet(VerbsData.Initialize, "AcmeStateStore", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(AcmeStateSchema))]
public sealed class InitializeAcmeStateStoreCommand : AcmeCmdlet
{
    private const string DefaultSet = "Default";

    /// <summary>The database; without it, $env:ACME_STATE_PATH.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? StatePath { get; set; }

    /// <summary>Lets keys be stored unencrypted in this database when no key passphrase is given (recorded in the database).</summary>
    [Parameter]
    public SwitchParameter AllowPlaintextKeys { get; set; }

    protected override void ProcessRecord()
    {
        string? address = StatePath ?? Environment.GetEnvironmentVariable(AcmeStateStore.PathVariable);
        if (string.IsNullOrEmpty(address) || !PostgresUrl.IsAddress(address))
        {
            WriteAcmeError(new AcmeArgumentException(AcmeErrorId.InvalidStatePath,
                $"'{PostgresUrl.Mask(address)}' is not a postgres:// address; a state folder needs no initialization."), PostgresUrl.Mask(address));
            return;
        }

        string shown = PostgresUrl.Mask(address);
        if (!ShouldProcess(shown, "Create or migrate the Acme schema"))
        {
            return;
        }

        try
        {
            AcmeStateSchema schema = RunAsync(context =>
            {
                context.Verbose($"Initializing the Acme schema in {shown}.");
                return System.Threading.Tasks.Task.FromResult(AcmeStateSchema.Initialize(address!, AllowPlaintextKeys));
            });
            WriteVerbose(schema.Changed
                ? $"The schema in {shown} is now at version {schema.Version} (it was at {schema.PreviousVersion})."
                : $"The schema in {shown} is already at version {schema.Version}.");
            WriteObject(schema);
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, shown);
        }
    }
}
