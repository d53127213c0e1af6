using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Security;
using System.Threading.Tasks;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Stores;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Cmdlets;

/// <summary>
/// The base of the Remove-* cmdlets, which delete keys from the state folder: the ByName set (-Name,
/// -Server, -StatePath, -KeyPassphrase), -Force (no prompt) and -PassThru, and the confirmation every
/// deletion goes through. The cmdlets declare ConfirmImpact High, so each item prompts unless -Force
/// or -Confirm:$false; -WhatIf reports and deletes nothing, even with -Force.
/// </summary>
public abstract class AcmeRemovingCmdlet : AcmeCmdlet
{
    protected const string ByNameSet = "ByName";
    protected const string ByObjectSet = "ByObject";

    /// <summary>Only what was saved for this server (a shortcut name or directory URL).</summary>
    [Parameter(ParameterSetName = ByNameSet)]
    [AcmeServerTransformation]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public string? Server { get; set; }

    [Parameter(ParameterSetName = ByNameSet)]
    [ValidateNotNullOrEmpty]
    public string? StatePath { get; set; }

    /// <summary>Opens saved keys that are encrypted; by default $env:ACME_KEY_PASSPHRASE.</summary>
    [Parameter(ParameterSetName = ByNameSet)]
    public SecureString? KeyPassphrase { get; set; }

    /// <summary>Removes without asking for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Writes what was removed; by default nothing is written.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>True when the removal may go ahead: -Force (unless -WhatIf), else ShouldProcess's answer.</summary>
    protected bool Confirmed(string target, string action)
    {
        if (Force && !WhatIfRequested())
        {
            WriteVerbose($"{action}: {target} (-Force: not confirmed).");
            return true;
        }

        return ShouldProcess(target, action);
    }

    /// <summary>
    /// Removes one item once confirmed (<see cref="Confirmed"/>): <paramref name="remove"/> runs the core
    /// step, the item is written with -PassThru, and a failure is this item's error while the others go on.
    /// </summary>
    protected void RemoveConfirmed(object item, string target, string action, Func<CmdletContext, Task> remove)
    {
        if (!Confirmed(target, action))
        {
            return;
        }

        try
        {
            RunAsync(remove);
            if (PassThru)
            {
                WriteObject(item);
            }
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, item);
        }
    }

    private bool WhatIfRequested() =>
        MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? bound)
            ? LanguagePrimitives.IsTrue(bound)
            : LanguagePrimitives.IsTrue(SessionState.PSVariable.GetValue("WhatIfPreference"));

    /// <summary>
    /// The ByName selection: every saved item of <paramref name="names"/> that the -Name patterns match,
    /// read by <paramref name="read"/> and given to <paramref name="remove"/>; a name that matches
    /// nothing, or whose item is not saved, is an error with <paramref name="notFoundId"/>.
    /// </summary>
    private protected void RemoveByName<T>(string[] patterns, Func<AcmeStateStore, AcmeServer?, IReadOnlyList<(AcmeServer Server, string Name)>> names,
        Func<StateQuery, AcmeServer, string, T?> read, string what, AcmeErrorId notFoundId, Action<T> remove) where T : class
    {
        ForEachSaved(StatePath, KeyPassphrase, Server, patterns, names, read, what, notFoundId, remove);
    }
}
