using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Security;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Stores;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Cmdlets;

/// <summary>
/// The base of the cmdlets that read what is saved under certificate names (Get-AcmeCertificate, and
/// Get-AcmeOrder's ByName set): -Name with wildcards, -Server, -StatePath and -KeyPassphrase, and the read
/// of each item with its own error.
/// </summary>
public abstract class AcmeSavedCertificateCmdlet : AcmeCmdlet
{
    protected const string ByNameSet = "ByName";

    /// <summary>The names; wildcards allowed.</summary>
    [Parameter(Position = 0, ParameterSetName = ByNameSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(CertificateNameCompleter))]
    public string[] Name { get; set; } = { "*" };

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

    /// <summary>Writes what <paramref name="read"/> finds under each selected name; <paramref name="what"/> names it in errors.</summary>
    private protected void WriteSaved<T>(Func<StateQuery, AcmeServer, string, T?> read, string what, AcmeErrorId notFoundId) where T : class
    {
        ForEachSaved(StatePath, KeyPassphrase, Server, Name, (store, server) => store.GetCertificateNames(server), read, what, notFoundId,
            item => WriteObject(item));
    }
}
