using System;
using System.Collections;
using System.Management.Automation;
using Acme.PowerShell.Challenges;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Challenges.Dns01;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Commands;

[Cmdlet(VerbsLifecycle.Start, "AcmeDnsChallenge", SupportsShouldProcess = true, DefaultParameterSetName = ScriptBlockSet)]
[OutputType(typeof(AcmeOrder))]
public sealed class StartAcmeDnsChallengeCommand : AcmeCmdlet
{
    private const string ScriptBlockSet = "ScriptBlock";
    private const string ManualSet = "Manual";
    private const string ProviderSet = "Provider";

    private SolverFactory _solvers = null!;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [PipedObject(typeof(AcmeOrder), "Start-AcmeDnsChallenge", "New-AcmeOrder")]
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

    [Parameter(Mandatory = true, ParameterSetName = ProviderSet)]
    [ValidateNotNullOrEmpty]
    public string Provider { get; set; } = null!;

    [Parameter(ParameterSetName = ProviderSet)]
    [ValidateNotNull]
    public IDictionary ProviderParameter { get; set; } = null!;

    [Parameter]
    [ValidateSet(AcmeChallenge.Dns01, AcmeChallenge.DnsAccount01, AcmeChallenge.DnsPersist01)]
    public string ChallengeType { get; set; } = AcmeChallenge.Dns01;

    [Parameter]
    public DateTimeOffset PersistUntil { get; set; }

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
        try
        {
            Func<CmdletContext, IDnsRecordPublisher> records = ParameterSetName switch
            {
                ManualSet => SolverFactory.ManualRecords(Host, Show),
                ProviderSet => SolverFactory.ProviderRecords(Provider, ProviderParameter),
                _ => SolverFactory.ScriptBlockRecords(AddRecord, RemoveRecord),
            };
            _solvers = SolverFactory.Dns(records, SolverFactory.ParseDnsServers(DnsServer), !SkipPropagationCheck,
                TimeSpan.FromSeconds(PropagationTimeoutSec), SolverFactory.ParseDnsAliases(DnsAlias), ChallengeType,
                MyInvocation.BoundParameters.ContainsKey(nameof(PersistUntil)) ? PersistUntil : null);
        }
        catch (Exception e) when (e is AcmeLocalException || e is AcmeArgumentException)
        {
            // ManualNotInteractive, an unknown provider or bad -ProviderParameter, a bad -DnsServer or -DnsAlias.
            ThrowAcmeError(e, null);
        }
    }

    protected override void ProcessRecord()
    {
        string names = string.Join(", ", Order.Names);
        if (!ShouldProcess(names, ParameterSetName switch
            {
                ManualSet => $"Answer {ChallengeType} challenges with TXT records created by hand",
                ProviderSet => $"Answer {ChallengeType} challenges with TXT records published through the DNS provider {Provider}",
                _ => $"Answer {ChallengeType} challenges with TXT records from -AddRecord",
            }))
        {
            return;
        }

        try
        {
            WriteObject(RunAsync(context => _solvers.SolveAsync(Order, PolicyFor(TimeoutSec), context, StopToken)));
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
