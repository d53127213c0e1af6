using System.Management.Automation;
using Acme.Protocol.Transport;

namespace Acme.PowerShell.Cmdlets;

/// <summary>
/// What importing the module starts: the platform trust store's load on a thread-pool thread
/// (<see cref="PlatformTrust.WarmUp"/>, Linux only), so that a runbook's fresh process does not wait for it
/// in its first request to the CA. The import itself does not wait for it.
/// </summary>
public sealed class ModuleImport : IModuleAssemblyInitializer
{
    /// <summary>Called by PowerShell when the module's assembly is imported.</summary>
    public void OnImport() => PlatformTrust.WarmUp();
}
