using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Acme.PowerShell.Cmdlets;
using Acme.PowerShell.Dns;
using Acme.Protocol.Challenges.Dns01;
using Acme.Protocol.Client;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

[Cmdlet(VerbsLifecycle.Start, "AcmeDnsChallenge", SupportsShouldProcess = true, DefaultParameterSetName = ScriptBlockSet)]
[OutputType(typeof(AcmeOrder))]
public sealed class StartAcmeDnsChallengeCommand : AcmeCmdlet
{
    private const string ScriptBlockSet = "ScriptBlock";
    private const string ManualSet = "Manual";

    private IReadOnlyList<DnsServerAddress>? _servers;
    private Dictionary<string, string>? _aliases;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public AcmeOrder Order { get; set; } = null!;

    [Parameter(Mandatory = true, ParameterSetName = ScriptBlockSet)]
    [ValidateNotNull]
    public ScriptBlock AddRecord { get; set; } = null!;

    [Parameter(Mandatory = true, ParameterSetName = ScriptBlockSet)]
    [ValidateNotNull]
    public ScriptBlock RemoveRecord { get; set; } = null!;

    [Parameter(Mandatory = true, ParameterSetName = ManualSet)]
    public SwitchParameter Manual { get; set; }

    [Parameter]
    [ValidateNotNull]
    public IDictionary DnsAlias { get; set; } = null!;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[] DnsServer { get; set; } = null!;

    [Parameter]
    [ValidateRange(1, 86400)]
    public int PropagationTimeoutSec { get; set; } = 300;

    [Parameter]
    public SwitchParameter SkipPropagationCheck { get; set; }

    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSec { get; set; } = 300;

    protected override void BeginProcessing()
    {
        // Everything that can be refused is refused here, before the first request.
        if (Manual && !ManualDnsPublisher.CanPrompt(Host))
        {
            ThrowAcmeError(new AcmeLocalException(AcmeErrorId.ManualNotInteractive,
                "-Manual waits for someone to press Enter, but this session is not interactive (no console input, -NonInteractive, or a runspace without a host). Use -AddRecord and -RemoveRecord to publish the records from a script."), null);
        }

        try
        {
            _servers = DnsServer?.Select(DnsServerAddress.Parse).ToList();
            _aliases = DnsAlias is null ? null : Dns01Solver.ParseAliases(DnsAlias.Cast<DictionaryEntry>().ToDictionary(
                e => LanguagePrimitives.ConvertTo<string>(e.Key), e => LanguagePrimitives.ConvertTo<string>(e.Value), StringComparer.OrdinalIgnoreCase));
        }
        catch (AcmeArgumentException e)
        {
            ThrowAcmeError(e, null);
        }
    }

    protected override void ProcessRecord()
    {
        string names = string.Join(", ", Order.Names);
        if (!ShouldProcess(names, Manual ? "Answer dns-01 challenges with TXT records created by hand" : "Answer dns-01 challenges with TXT records from -AddRecord"))
        {
            return;
        }

        try
        {
            AcmeOrder order = RunAsync(async context =>
            {
                IDnsRecordPublisher publisher = Manual
                    ? new ManualDnsPublisher(context, message => Show(context, message), Host.UI)
                    : new ScriptBlockDnsPublisher(context, AddRecord, RemoveRecord);
                DnsPropagationChecker? checker = SkipPropagationCheck ? null : new DnsPropagationChecker(_servers, context);
                var solver = new Dns01Solver(publisher, checker, TimeSpan.FromSeconds(PropagationTimeoutSec), _aliases, context, context);
                return await StateFlow.SolveAsync(new AcmeClient(Order.Account.Server, context), Order, solver, PolicyFor(TimeoutSec), context, StopToken)
                    .ConfigureAwait(false);
            });
            WriteObject(order);
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, Order);
        }
    }

    /// <summary>Like Write-Host: to the information stream tagged PSHOST; straight to the host once the pipeline is stopping.</summary>
    private void Show(CmdletContext context, string message)
    {
        if (context.IsStopping)
        {
            Host.UI.WriteLine(message);
            return;
        }

        WriteInformation(new HostInformationMessage { Message = message }, new[] { "PSHOST" });
    }
}
