using System;
using System.Collections;
using System.Management.Automation;
using Acme.PowerShell.Challenges;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.PowerShell.Dns;
using Acme.Protocol.Challenges.Dns01;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;
using System.Linq;

namespace Acme.PowerShell.Commands;

[Cmdlet(VerbsLifecycle.Start, "AcmeDnsChallenge", SupportsShouldProcess = true, DefaultParameterSetName = SavedSet)]
[OutputType(typeof(AcmeOrder))]
public sealed class StartAcmeDnsChallengeCommand : AcmeCmdlet
{
    private const string ScriptBlockSet = "ScriptBlock";
    private const string ManualSet = "Manual";
    private const string ProviderSet = "Provider";
    private const string SavedSet = "Saved";

    private SolverFactory _solvers = null!;
    private DnsProviderInfo? _provider;
    private string _challengeType = AcmeChallenge.Dns01;

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

    /// <summary>A DNS provider (Get-AcmeDnsProvider lists them); saved with the order's certificate for its renewals.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ProviderSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DnsProviderCompleter))]
    public string Provider { get; set; } = null!;

    /// <summary>
    /// The provider's parameters; a value 'env:VAR' or 'secret:Name' is read at run time (and saved as that
    /// reference). Without -Provider: values over the saved provider's (a secret that was not saved).
    /// </summary>
    [Parameter(ParameterSetName = ProviderSet)]
    [Parameter(ParameterSetName = SavedSet)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(DnsProviderParameterCompleter))]
    public IDictionary ProviderParameter { get; set; } = null!;

    /// <summary>
    /// dns-01 (the default), dns-account-01 or dns-persist-01; saved with the provider. Without -Provider (the
    /// saved provider): by default the type saved with it.
    /// </summary>
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
        // Everything that can be refused is refused here, before the first request; the saved provider
        // (no -AddRecord, -Manual nor -Provider) is read per order, from its certificate's folder.
        _challengeType = ChallengeType;
        try
        {
            if (ParameterSetName == SavedSet)
            {
                _ = SolverFactory.ParseDnsServers(DnsServer);
                _ = SolverFactory.ParseDnsAliases(DnsAlias);
                return;
            }

            Func<CmdletContext, IDnsRecordPublisher> records = ParameterSetName switch
            {
                ManualSet => SolverFactory.ManualRecords(Host, Show),
                ProviderSet => SolverFactory.ProviderRecords(Provider, ProviderParameter, ProviderParameters.SecretReader(this)),
                _ => SolverFactory.ScriptBlockRecords(AddRecord, RemoveRecord),
            };
            _provider = ParameterSetName == ProviderSet && !PoshAcmePublisher.Handles(Provider) ? DnsProviders.Get(Provider) : null;
            _solvers = Solvers(records);
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
        SolverFactory solvers = _solvers;
        SavedDnsProvider? saved = null;
        if (ParameterSetName == SavedSet)
        {
            try
            {
                (solvers, saved) = SavedSolvers(Order);
                WriteVerbose($"Publishing through the DNS provider {saved.Provider} saved with '{Order.Name}' for {_challengeType} (parameters: {string.Join(", ", saved.Values.Select(v => v.Name))}).");
            }
            catch (Exception e) when (e is AcmeLocalException || e is AcmeArgumentException)
            {
                WriteAcmeError(e, Order);
                return;
            }
        }

        if (!ShouldProcess(names, ParameterSetName switch
            {
                ManualSet => $"Answer {_challengeType} challenges with TXT records created by hand",
                ProviderSet => $"Answer {_challengeType} challenges with TXT records published through the DNS provider {Provider}",
                SavedSet => $"Answer {_challengeType} challenges with TXT records published through the DNS provider {saved!.Provider} saved with '{Order.Name}'",
                _ => $"Answer {_challengeType} challenges with TXT records from -AddRecord",
            }))
        {
            return;
        }

        AcmeOrder solved;
        try
        {
            solved = RunAsync(context => solvers.SolveAsync(Order, PolicyFor(TimeoutSec), context, StopToken));
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, Order);
            return;
        }

        SaveProvider(saved);
        WriteObject(solved);
    }

    private SolverFactory Solvers(Func<CmdletContext, IDnsRecordPublisher> records) =>
        SolverFactory.Dns(records, SolverFactory.ParseDnsServers(DnsServer), !SkipPropagationCheck,
            TimeSpan.FromSeconds(PropagationTimeoutSec), SolverFactory.ParseDnsAliases(DnsAlias), _challengeType,
            MyInvocation.BoundParameters.ContainsKey(nameof(PersistUntil)) ? PersistUntil : null);

    /// <summary>The provider saved with the order's certificate, its references read now. Throws DnsProviderNotSaved when there is none.</summary>
    private (SolverFactory, SavedDnsProvider) SavedSolvers(AcmeOrder order)
    {
        if (order.Name is null || order.SavedIn is not AcmeStateStore store)
        {
            throw new AcmeLocalException(AcmeErrorId.DnsProviderNotSaved,
                $"The order for {string.Join(", ", order.Names)} is not saved in a state folder, so no DNS provider is saved for it.");
        }

        SavedDnsProvider saved = store.ReadDnsProvider(order.Account.Server, order.Name)
            ?? throw new AcmeLocalException(AcmeErrorId.DnsProviderNotSaved,
                $"No DNS provider is saved with the certificate '{order.Name}' in {store.Root}: it was not issued through one.");
        _provider = DnsProviders.Get(saved.Provider);
        _challengeType = MyInvocation.BoundParameters.ContainsKey(nameof(ChallengeType)) ? ChallengeType : saved.ChallengeType;
        DnsProviderSettings settings = ProviderParameters.FromSavedComplete(saved, ProviderParameter, ProviderParameters.SecretReader(this), order.Name);

        return (Solvers(SolverFactory.ProviderRecords(_provider, settings)), saved);
    }

    /// <summary>
    /// After a solve through a provider: the provider and the challenge type saved with the order's certificate
    /// (a saved order only), for its renewals; the saved provider is written again only when something changed.
    /// </summary>
    private void SaveProvider(SavedDnsProvider? earlier)
    {
        if (_provider is null || ParameterSetName == SavedSet && ProviderParameter is null && earlier!.ChallengeType == _challengeType)
        {
            return;
        }

        if (Order.Name is null || Order.SavedIn is not AcmeStateStore store)
        {
            WriteVerbose($"The order for {string.Join(", ", Order.Names)} is not saved, so the DNS provider is not saved for renewals.");
            return;
        }

        try
        {
            SolverFactory.SaveProvider(store, Order.Account.Server, Order.Name, ProviderParameters.ToSaved(_provider, ProviderParameter, earlier, _challengeType),
                WriteWarning, WriteVerbose);
        }
        catch (Exception e) when (e is AcmeException || e is System.IO.IOException || e is UnauthorizedAccessException)
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
