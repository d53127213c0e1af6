using System;
using System.Collections.Generic;
using System.Management.Automation;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Client;
using Acme.Protocol.Errors;
using Acme.Protocol.Issuance;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

[Cmdlet(VerbsLifecycle.Wait, "AcmeOrder", DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(AcmeOrder))]
public sealed class WaitAcmeOrderCommand : AcmeCmdlet
{
    private const string DefaultSet = "Default";

    private readonly List<AcmeOrder> _orders = new();
    private readonly HashSet<Uri> _seen = new();

    /// <summary>By value, or by the Order property of what Submit-AcmeChallenge and Get-AcmeAuthorization write.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [PipedObject(typeof(AcmeOrder), "Wait-AcmeOrder", "New-AcmeOrder", Properties = new[] { "Order" }, PropertyTypes = new[] { typeof(AcmeOrder) })]
    [ValidateNotNull]
    public AcmeOrder Order { get; set; } = null!;

    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSec { get; set; } = 300;

    protected override void ProcessRecord()
    {
        // Several challenges of one order arrive one by one; the wait starts once every one of them
        // has been submitted upstream, and each order is waited for and written once.
        if (_seen.Add(Order.Location))
        {
            _orders.Add(Order);
        }
    }

    protected override void EndProcessing()
    {
        foreach (AcmeOrder order in _orders)
        {
            try
            {
                AcmeOrder done = RunAsync(async context =>
                {
                    AcmeOrder waited = await OrderFlow.WaitForOrderAsync(new AcmeClient(order.Account.Server, context), order,
                        s => s is AcmeOrderStatus.Ready or AcmeOrderStatus.Valid, PolicyFor(TimeoutSec), context, StopToken).ConfigureAwait(false);
                    await OrderSteps.SaveOrderAsync(waited, context, StopToken).ConfigureAwait(false);
                    return waited;
                });
                WriteObject(done);
            }
            catch (AcmeException e)
            {
                WriteAcmeError(e, order);
            }
        }
    }
}
