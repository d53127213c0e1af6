using System;
using System.Management.Automation;
using System.Net;
using System.Threading.Tasks;
using Acme.PowerShell.Cmdlets;
using Acme.PowerShell.Stores;
using Acme.Protocol.ChallengeStores;
using Acme.Protocol.Challenges.Http01;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;

namespace Acme.PowerShell.Commands;

/// <summary>
/// A long-running http-01 responder that answers every token found in a shared store, for several
/// hosts behind a load balancer; Start-AcmeHttpChallenge -Store publishes into the same store.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "AcmeChallengeResponder", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(AcmeResponderSummary))]
public sealed class StartAcmeChallengeResponderCommand : AcmeCmdlet
{
    private const string DefaultSet = "Default";

    /// <summary>The store to serve: a redis:// or rediss:// connection string, or a folder.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Store { get; set; } = null!;

    [Parameter]
    [ValidateRange(1, 65535)]
    public int Port { get; set; } = 80;

    [Parameter]
    public IPAddress? ListenAddress { get; set; }

    /// <summary>Stops after this many seconds and writes a summary; without it the responder runs until stopped (Ctrl+C).</summary>
    [Parameter]
    [ValidateRange(1, 31536000)]
    public int TimeoutSec { get; set; }

    protected override void ProcessRecord()
    {
        IChallengeStore store;
        try
        {
            store = StoreBinding.Open(Store, SessionState.Path.GetUnresolvedProviderPathFromPSPath);
        }
        catch (AcmeException e)
        {
            ThrowAcmeError(e, StoreBinding.Redact(Store));
            return;
        }

        if (!ShouldProcess($"port {Port}", $"Answer http-01 challenges from {store.Description}"))
        {
            return;
        }

        TimeSpan? runFor = MyInvocation.BoundParameters.ContainsKey(nameof(TimeoutSec)) ? TimeSpan.FromSeconds(TimeoutSec) : null;
        try
        {
            AcmeResponderSummary summary = RunAsync(context => ServeAsync(store, runFor, context));
            WriteObject(summary);
        }
        catch (AcmeException e)
        {
            ThrowAcmeError(e, Port);
        }
    }

    private async Task<AcmeResponderSummary> ServeAsync(IChallengeStore store, TimeSpan? runFor, CmdletContext context)
    {
        try
        {
            await store.CheckAsync(StopToken).ConfigureAwait(false);
        }
        catch (AcmeException e)
        {
            // A responder may well start before its store: it answers once the store does.
            context.Warning($"{e.Message} The responder starts anyway; its health endpoint answers 503 until the store is reachable.");
        }

        Http01Server responder = Http01Server.StartWithHealth(Port, store, ListenAddress, context);
        DateTimeOffset started = DateTimeOffset.Now;
        context.Verbose($"Answering http-01 challenges on port {responder.Port} from {store.Description}; " +
            $"load balancers can check GET {Http01Server.HealthPath}.");
        try
        {
            DateTimeOffset? until = started + runFor;
            string activity = $"Answering http-01 challenges on port {responder.Port}";
            while (until is not DateTimeOffset end || DateTimeOffset.Now < end)
            {
                context.Report(new AcmeProgress(activity, $"{responder.AnswersServed} answered, {responder.TokensNotFound} unknown token(s)", -1,
                    until is DateTimeOffset stop ? (int)Math.Max(0, (stop - DateTimeOffset.Now).TotalSeconds) : -1));
                TimeSpan tick = TimeSpan.FromSeconds(1);
                if (until is DateTimeOffset last && last - DateTimeOffset.Now < tick)
                {
                    tick = last - DateTimeOffset.Now;
                }

                if (tick > TimeSpan.Zero)
                {
                    await Task.Delay(tick, StopToken).ConfigureAwait(false);
                }
            }

            context.Report(new AcmeProgress(activity, "Stopped", completed: true));
        }
        finally
        {
            // Ctrl+C lands here too: the port is closed and requests under way finish first.
            await responder.StopAsync(TimeSpan.Zero).ConfigureAwait(false);
            context.Verbose($"Stopped the responder on port {responder.Port}: {responder.AnswersServed} answered, {responder.TokensNotFound} unknown token(s).");
        }

        return new AcmeResponderSummary(store.Description, responder.Port, started, DateTimeOffset.Now, responder.AnswersServed,
            responder.TokensNotFound, responder.ConnectionsDropped);
    }
}
