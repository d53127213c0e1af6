using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Threading.Tasks;
using Acme.PowerShell.Cmdlets;
using Acme.PowerShell.Files;
using Acme.PowerShell.Stores;
using Acme.Protocol.Errors;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Changes the key passphrase of a state folder or database: re-encrypts every account key, certificate
/// key (every version, and an order's key) and sealed DNS provider secret with -NewKeyPassphrase, or
/// with -RemoveKeyPassphrase leaves them unencrypted (a folder, or a database initialized with
/// -AllowPlaintextKeys). Every lock of the state is held meanwhile; each item is rewritten whole, so a run
/// that is stopped leaves each readable with the old or the new passphrase, and a second run with the
/// same passphrases finishes it. Asks for confirmation unless -Force.
/// </summary>
[Cmdlet(VerbsData.Update, "AcmeKeyPassphrase", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = ChangeSet)]
[OutputType(typeof(AcmeKeyPassphraseChange))]
public sealed class UpdateAcmeKeyPassphraseCommand : AcmeCmdlet
{
    private const string ChangeSet = "Change";
    private const string RemoveSet = "Remove";

    /// <summary>The state folder or postgres:// database; without it, $env:ACME_STATE_PATH, else the per-user folder.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? StatePath { get; set; }

    /// <summary>The current passphrase; without it, $env:ACME_KEY_PASSPHRASE, else the keys are taken to be unencrypted.</summary>
    [Parameter]
    public SecureString? KeyPassphrase { get; set; }

    /// <summary>The passphrase the secrets are encrypted with from now on.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ChangeSet)]
    [ValidateNotNull]
    public SecureString NewKeyPassphrase { get; set; } = null!;

    /// <summary>Leaves the keys unencrypted (owner-only files); sealed DNS provider secrets are dropped.</summary>
    [Parameter(Mandatory = true, ParameterSetName = RemoveSet)]
    public SwitchParameter RemoveKeyPassphrase { get; set; }

    /// <summary>Changes without asking for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        AcmeStateStore store;
        try
        {
            store = StateQuery.Open(StatePath, null, SessionState.Path);
        }
        catch (AcmeException e)
        {
            ThrowAcmeError(e, StatePath);
            return;
        }

        char[]? current = KeyPassphrase is { Length: > 0 } ? Secrets.ToChars(KeyPassphrase)
            : Environment.GetEnvironmentVariable(AcmeStateStore.PassphraseVariable) is { Length: > 0 } env ? env.ToCharArray() : null;
        char[]? next = ParameterSetName == ChangeSet && NewKeyPassphrase.Length > 0 ? Secrets.ToChars(NewKeyPassphrase) : null;
        try
        {
            if (ParameterSetName == ChangeSet && next is null)
            {
                ThrowAcmeError(new AcmeArgumentException(AcmeErrorId.InvalidPassword, "An empty passphrase cannot protect the keys."), StatePath);
                return;
            }

            string action = next is null ? "Decrypt and store unencrypted" : "Re-encrypt with the new key passphrase";
            AcmeKeyPassphraseChange? change = RunAsync(context => KeyRotationSteps.ChangeAsync(store, current, next,
                items => context.InvokeOnPipelineThreadAsync(() => Confirm(store, items, action)), context, context, StopToken));
            if (change is null)
            {
                return;
            }

            foreach (string failed in change.FailedItems)
            {
                WriteAcmeError(new AcmeLocalException(AcmeErrorId.StateWriteFailed,
                    $"{failed} in {store.Root} could not be written; it still opens with the current passphrase. Run the change again with the same passphrases."), failed);
            }

            foreach (string dropped in change.DroppedSecrets)
            {
                WriteWarning($"The sealed DNS provider secret {dropped} cannot be kept without a passphrase: it was left out, and must be given again at the next renewal.");
            }

            WriteObject(change);
        }
        catch (AcmeException e)
        {
            ThrowAcmeError(e, store.Root);
        }
        finally
        {
            Clear(current);
            Clear(next);
        }
    }

    private bool Confirm(AcmeStateStore store, IReadOnlyList<string> items, string action)
    {
        if (items.Count == 0)
        {
            WriteVerbose($"Every secret in {store.Root} already opens with the new passphrase.");
            return !WhatIf();
        }

        string listing = string.Join(Environment.NewLine, items.Select(i => "  " + i));
        string description = $"{action}: {items.Count} secrets in {store.Root}:{Environment.NewLine}{listing}";
        if (Force && !WhatIf())
        {
            WriteVerbose(description + Environment.NewLine + "(-Force: not confirmed)");
            return true;
        }

        return ShouldProcess(description, $"{action} {items.Count} secrets in {store.Root}? Every other host needs the new passphrase before its next run.",
            "Change the key passphrase");
    }

    private bool WhatIf() =>
        MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? bound)
            ? LanguagePrimitives.IsTrue(bound)
            : LanguagePrimitives.IsTrue(SessionState.PSVariable.GetValue("WhatIfPreference"));

    private static void Clear(char[]? chars)
    {
        if (chars is not null)
        {
            Array.Clear(chars, 0, chars.Length);
        }
    }
}
