using System;
using System.Management.Automation;
using System.Net;
using Acme.PowerShell.Challenges;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.PowerShell.Stores;
using Acme.Protocol.ChallengeStores;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Commands;

[Cmdlet(VerbsLifecycle.Start, "AcmeHttpChallenge", SupportsShouldProcess = true, DefaultParameterSetName = ListenerSet)]
[OutputType(typeof(AcmeOrder))]
public sealed class StartAcmeHttpChallengeCommand : AcmeCmdlet
{
    private const string ListenerSet = "Listener";
    private const string WebRootSet = "WebRoot";
    private const string StoreSet = "Store";

    private IChallengeStore? _store;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [PipedObject(typeof(AcmeOrder), "Start-AcmeHttpChallenge", "New-AcmeOrder")]
    [ValidateNotNull]
    public AcmeOrder Order { get; set; } = null!;

    [Parameter(ParameterSetName = ListenerSet)]
    [ValidateRange(1, 65535)]
    public int Port { get; set; } = 80;

    [Parameter(ParameterSetName = ListenerSet)]
    public IPAddress? ListenAddress { get; set; }

    [Parameter(ParameterSetName = ListenerSet)]
    public SwitchParameter SkipSelfCheck { get; set; }

    /// <summary>
    /// How long to wait while another process holds the port (another renewal on this machine), retrying
    /// until it is free; by default -TimeoutSec; 0 fails at once with AcmeListenerPortInUse.
    /// </summary>
    [Parameter(ParameterSetName = ListenerSet)]
    [ValidateRange(0, 86400)]
    public int PortWaitSec { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = WebRootSet)]
    [ValidateNotNullOrEmpty]
    public string WebRoot { get; set; } = null!;

    /// <summary>A shared challenge store the responders serve: redis:// or rediss:// connection string, or a folder.</summary>
    [Parameter(Mandatory = true, ParameterSetName = StoreSet)]
    [ValidateNotNullOrEmpty]
    public string Store { get; set; } = null!;

    /// <summary>An http:// URL of a responder or of the load balancer: each answer is fetched from there before the CA is told.</summary>
    [Parameter(ParameterSetName = StoreSet)]
    [ValidateNotNull]
    public Uri? CheckUrl { get; set; }

    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSec { get; set; } = 300;

    protected override void BeginProcessing()
    {
        if (ParameterSetName != StoreSet)
        {
            return;
        }

        try
        {
            _store = StoreBinding.Open(Store, SessionState.Path.GetUnresolvedProviderPathFromPSPath);
        }
        catch (AcmeException e)
        {
            ThrowAcmeError(e, StoreBinding.Redact(Store));
        }
    }

    protected override void ProcessRecord()
    {
        string names = string.Join(", ", Order.Names);
        if (!ShouldProcess(names, ParameterSetName switch
            {
                WebRootSet => $"Answer http-01 challenges with files in {WebRoot}",
                StoreSet => $"Publish http-01 answers to {_store!.Description}",
                _ => $"Answer http-01 challenges from a listener on port {Port}",
            }))
        {
            return;
        }

        SolverFactory solvers = ParameterSetName switch
        {
            WebRootSet => SolverFactory.HttpWebRoot(SessionState.Path.GetUnresolvedProviderPathFromPSPath(WebRoot)),
            StoreSet => SolverFactory.HttpStore(_store!, CheckUrl),
            _ => SolverFactory.HttpListener(Port, ListenAddress, !SkipSelfCheck, PortWaitFor(PortWaitSec, TimeoutSec)),
        };
        try
        {
            WriteObject(RunAsync(context => solvers.SolveAsync(Order, PolicyFor(TimeoutSec), context, StopToken)));
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, Order);
        }
    }
}
