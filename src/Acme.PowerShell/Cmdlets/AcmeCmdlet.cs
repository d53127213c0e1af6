using System;
using System.Collections.Generic;
using System.Security;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Acme.PowerShell.Errors;
using Acme.PowerShell.Stores;
using Acme.Protocol.Errors;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Issuance;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Cmdlets;

/// <summary>
/// The base of every cmdlet: a cancellation source that Ctrl+C (StopProcessing) cancels, and a pump
/// that runs the core's async work on the thread pool while the pipeline thread writes its verbose,
/// debug and progress records as they come (after jborean93's AsyncPSCmdlet). PowerShellStandard 5.1
/// has no PipelineStopToken, so the cmdlet keeps its own.
/// </summary>
public abstract partial class AcmeCmdlet : PSCmdlet, IDisposable
{
    /// <summary>How long Ctrl+C waits for the work's cleanup (solvers get 30 seconds to withdraw their answers).</summary>
    private static readonly TimeSpan StopCleanupWait = TimeSpan.FromSeconds(40);

    private readonly CancellationTokenSource _stopping = new();

    protected CancellationToken StopToken => _stopping.Token;

    protected override void StopProcessing() => _stopping.Cancel();

    /// <summary>
    /// Runs <paramref name="work"/> and returns its result, writing the records it posts on this
    /// (the pipeline) thread meanwhile. Ctrl+C cancels the work, waits briefly for its cleanup
    /// (listeners closed, records withdrawn) and stops the pipeline.
    /// </summary>
    protected T RunAsync<T>(Func<CmdletContext, Task<T>> work)
    {
        using var context = new CmdletContext(this, IsDebugEnabled());
        Task<T> task = Task.Run(() => work(context), StopToken);
        task.ContinueWith(_ => context.Complete(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            context.Pump(StopToken);
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            // Cleanup may need this thread (a -RemoveRecord script block), so keep serving it until the work ends.
            context.PumpWhileStopping(task, StopCleanupWait);
            throw new PipelineStoppedException();
        }

        try
        {
            return task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    protected void RunAsync(Func<CmdletContext, Task> work) =>
        RunAsync<bool>(async context =>
        {
            await work(context).ConfigureAwait(false);
            return true;
        });

    /// <summary>Writes a non-terminating error for one failed item; the pipeline goes on with the next.</summary>
    protected void WriteAcmeError(Exception exception, object? target)
    {
        WriteError(AcmeErrorRecords.Create(exception, target));
        if (target is AcmeOrder order)
        {
            RecordRenewalFailure(order, exception);
            // The pipeline for this order has ended: free its certificate name for the next attempt.
            StoreBinding.ReleaseLock(order, WriteVerbose);
        }
    }

    /// <summary>
    /// A failed step of an order saved under a certificate name (a renewal through the pipeline) is
    /// remembered with that certificate, so the next Test-AcmeRenewal backs off (RenewalBackoff).
    /// </summary>
    private void RecordRenewalFailure(AcmeOrder order, Exception exception)
    {
        if (order.Name is null || !RenewalFailureSteps.Counts(exception))
        {
            return;
        }

        var log = new CollectingLog();
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            Task.Run(() => RenewalFailureSteps.RecordForOrderAsync(order, exception, DateTimeOffset.UtcNow, log, limit.Token)).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            log.Verbose($"The failed renewal of '{order.Name}' is not saved: its certificate's lock was not free in time.");
        }

        foreach (string line in log.Lines)
        {
            WriteVerbose(line);
        }
    }

    private sealed class CollectingLog : IAcmeLog
    {
        public System.Collections.Generic.List<string> Lines { get; } = new();

        public bool IsDebugEnabled => false;

        public void Verbose(string message) => Lines.Add(message);

        public void Debug(string message) { }
    }

    /// <summary>Stops the cmdlet with a terminating error (a setup failure no later item can avoid).</summary>
    protected void ThrowAcmeError(Exception exception, object? target) => ThrowTerminatingError(AcmeErrorRecords.Create(exception, target));

    /// <summary>
    /// Every saved item whose name one of <paramref name="patterns"/> matches, read by <paramref name="read"/>
    /// and given to <paramref name="each"/>: the selection of the Get-* and Remove-* cmdlets' -Name. A
    /// state folder that cannot be opened ends the cmdlet; a name that matches nothing, or whose item is
    /// not saved, is an error with <paramref name="notFoundId"/>, and the others go on.
    /// </summary>
    private protected void ForEachSaved<T>(string? statePath, SecureString? keyPassphrase, string? serverName, string[] patterns,
        Func<AcmeStateStore, AcmeServer?, IReadOnlyList<(AcmeServer Server, string Name)>> names, Func<StateQuery, AcmeServer, string, T?> read,
        string what, AcmeErrorId notFoundId, Action<T> each) where T : class
    {
        StateQuery query;
        AcmeServer? server;
        IReadOnlyList<(AcmeServer Server, string Name)> found;
        try
        {
            query = new StateQuery(StateQuery.Open(statePath, keyPassphrase, SessionState.Path), WriteWarning);
            server = StateQuery.ServerFilter(serverName);
            found = names(query.Store, server);
        }
        catch (AcmeException e)
        {
            ThrowAcmeError(e, statePath ?? serverName);
            return;
        }

        query.ReadEach(found, patterns, (itemServer, name) => read(query, itemServer, name), each, WriteAcmeError,
            name => WriteAcmeError(new AcmeArgumentException(notFoundId,
                $"No {what} named '{name}' is saved in {query.Store.Root}{(server is null ? string.Empty : " for " + server.Name)}."), name));
    }

    /// <summary>A retry policy with the cmdlet's -TimeoutSec.</summary>
    protected static RetryPolicy PolicyFor(int timeoutSec) => RetryPolicy.Default.WithTimeout(TimeSpan.FromSeconds(timeoutSec));

    /// <summary>-PortWaitSec when given, else the cmdlet's -TimeoutSec: the other renewal holding the port is done within its own.</summary>
    protected TimeSpan PortWaitFor(int portWaitSec, int timeoutSec) =>
        TimeSpan.FromSeconds(MyInvocation.BoundParameters.ContainsKey("PortWaitSec") ? portWaitSec : timeoutSec);

    private bool IsDebugEnabled()
    {
        if (MyInvocation.BoundParameters.TryGetValue("Debug", out object? debug))
        {
            return debug is SwitchParameter s ? s.IsPresent : LanguagePrimitives.IsTrue(debug);
        }

        object? preference = GetVariableValue("DebugPreference");
        return preference is ActionPreference p && p != ActionPreference.SilentlyContinue && p != ActionPreference.Ignore;
    }

    public void Dispose()
    {
        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }
}
