using System.Management.Automation;
using System.Net;
using Acme.PowerShell.Challenges;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Commands;

[Cmdlet(VerbsLifecycle.Start, "AcmeTlsAlpnChallenge", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(AcmeOrder))]
public sealed class StartAcmeTlsAlpnChallengeCommand : AcmeCmdlet
{
    private const string DefaultSet = "Default";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [PipedObject(typeof(AcmeOrder), "Start-AcmeTlsAlpnChallenge", "New-AcmeOrder")]
    [ValidateNotNull]
    public AcmeOrder Order { get; set; } = null!;

    [Parameter]
    [ValidateRange(1, 65535)]
    public int Port { get; set; } = 443;

    [Parameter]
    public IPAddress? ListenAddress { get; set; }

    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSec { get; set; } = 300;

    /// <summary>
    /// How long to wait while another process holds the port (another renewal on this machine), retrying
    /// until it is free; by default -TimeoutSec; 0 fails at once with AcmeListenerPortInUse.
    /// </summary>
    [Parameter]
    [ValidateRange(0, 86400)]
    public int PortWaitSec { get; set; }

    protected override void ProcessRecord()
    {
        string names = string.Join(", ", Order.Names);
        if (!ShouldProcess(names, $"Answer tls-alpn-01 challenges from a TLS listener on port {Port}"))
        {
            return;
        }

        SolverFactory solvers = SolverFactory.TlsAlpnListener(Port, ListenAddress, PortWaitFor(PortWaitSec, TimeoutSec));
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
