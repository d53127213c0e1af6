using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Management.Automation;

namespace Acme.PowerShell.Dns;

/// <summary>
/// Runs a user's script block on the pipeline thread with errors made terminating, so a failed DNS API
/// call inside it fails the step instead of passing silently.
/// </summary>
internal static class ScriptBlockRunner
{
    /// <summary>
    /// Invokes <paramref name="block"/> with <paramref name="arguments"/>. Once the pipeline is stopping
    /// (Ctrl+C), PowerShell refuses to run script on it (PipelineStoppedException), so the block runs in
    /// a nested pipeline of the same runspace instead: that pipeline is not the stopping one, and the
    /// block keeps its session state, so the variables and functions it uses still resolve.
    /// </summary>
    /// <param name="mustFinish">
    /// Cleanup: when Ctrl+C interrupts the block on the pipeline, run it again in a nested pipeline.
    /// Otherwise the interruption stands (an -AddRecord is not run twice).
    /// </param>
    public static Collection<PSObject> Invoke(ScriptBlock block, bool pipelineStopping, bool mustFinish, params object?[] arguments)
    {
        if (!pipelineStopping)
        {
            try
            {
                var variables = new List<PSVariable> { new("ErrorActionPreference", ActionPreference.Stop) };
                return block.InvokeWithContext((Dictionary<string, ScriptBlock>?)null, variables, arguments);
            }
            catch (PipelineStoppedException) when (mustFinish)
            {
            }
        }

        using var nested = System.Management.Automation.PowerShell.Create(RunspaceMode.CurrentRunspace);
        nested.AddScript("param($__acmeBlock, $__acmeArguments) $ErrorActionPreference = 'Stop'; & $__acmeBlock @__acmeArguments", useLocalScope: true)
            .AddArgument(block)
            .AddArgument(arguments);
        Collection<PSObject> output = nested.Invoke();
        if (nested.Streams.Error.Count > 0)
        {
            ErrorRecord first = nested.Streams.Error[0];
            throw new RuntimeException(first.Exception?.Message ?? first.ToString(), first.Exception, first);
        }

        return output;
    }
}
