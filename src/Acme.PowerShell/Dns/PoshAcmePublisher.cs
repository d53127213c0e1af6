using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Challenges.Dns01;
using Acme.Protocol.Errors;

namespace Acme.PowerShell.Dns;

/// <summary>
/// -Provider PoshAcme:&lt;Plugin&gt;: dns-01 records published by a DNS plugin of the Posh-ACME 4.x module the
/// user has installed, called the way Posh-ACME calls its plugins: the plugin file dot-sourced in
/// Posh-ACME's module scope (so its private helpers resolve), then <c>Add-DnsTxt -RecordName -TxtValue</c>
/// per record, <c>Save-DnsTxt</c> once when the plugin has one, and <c>Remove-DnsTxt</c> likewise, each
/// given the -ProviderParameter entries it declares. The hashtable is passed as given (a SecureString stays
/// one, as the plugins expect). Everything runs on the pipeline thread. The project ships no Posh-ACME code.
/// </summary>
internal sealed class PoshAcmePublisher : IDnsRecordPublisher
{
    public const string Prefix = "PoshAcme:";

    /// <summary>Where the module is taken from instead of PSModulePath: a .psd1 or the module's folder.</summary>
    public const string PathVariable = "ACME_POSHACME_PATH";

    // Imports Posh-ACME (the path given, or by name from PSModulePath); returns the module, or nothing.
    private const string LoadScript = @"
param($Path)
$ErrorActionPreference = 'Stop'
if ($Path) { Import-Module -Name $Path -PassThru -Force:$false | Where-Object Name -EQ 'Posh-ACME' | Select-Object -First 1; return }
$loaded = Get-Module -Name Posh-ACME | Sort-Object Version -Descending | Select-Object -First 1
if ($loaded) { return $loaded }
if (Get-Module -ListAvailable -Name Posh-ACME) { Import-Module -Name Posh-ACME -PassThru | Select-Object -First 1 }
";

    // Runs in Posh-ACME's module scope: the plugin dot-sourced, the function called with the arguments it declares.
    private const string CallScript = @"
param($PluginPath, $Function, $RecordName, $TxtValue, $PluginArgs)
$ErrorActionPreference = 'Stop'
. $PluginPath
$command = Get-Command -Name $Function -CommandType Function -ErrorAction Ignore
if (-not $command -or $command.ScriptBlock.File -ne $PluginPath) {
    if ($Function -eq 'Save-DnsTxt') { return }
    throw ""The Posh-ACME plugin $PluginPath has no function $Function.""
}
$splat = @{}
foreach ($key in @($PluginArgs.Keys)) { if ($command.Parameters.ContainsKey([string]$key)) { $splat[[string]$key] = $PluginArgs[$key] } }
if ($Function -eq 'Save-DnsTxt') { & $command @splat | Out-Null } else { & $command -RecordName $RecordName -TxtValue $TxtValue @splat | Out-Null }
";

    private readonly AcmeCmdlet.CmdletContext _context;
    private readonly ScriptBlock _call;
    private readonly string _plugin;
    private readonly string _pluginPath;
    private readonly Hashtable _arguments;
    private readonly List<DnsTxtRecord> _started = new();

    private PoshAcmePublisher(AcmeCmdlet.CmdletContext context, ScriptBlock call, string plugin, string pluginPath, Hashtable arguments)
    {
        _context = context;
        _call = call;
        _plugin = plugin;
        _pluginPath = pluginPath;
        _arguments = arguments;
    }

    /// <summary>
    /// What Get-AcmeDnsProvider shows for the bridge. It is named with its plugin ("PoshAcme:Cloudflare")
    /// and takes the plugin's own arguments, so it is never made through the catalogue's settings check,
    /// and is not saved with the certificate for renewal (a renewal names it again).
    /// </summary>
    public static DnsProviderInfo Info { get; } = new(
        "PoshAcme",
        "Any DNS plugin of the user's installed Posh-ACME 4.x: name it as PoshAcme:<Plugin>; the provider parameters are the plugin's arguments.",
        "Posh-ACME 4.32's RFC2136 plugin (nsupdate) on a real BIND 9, Pebble validating against it",
        new[] { new DnsProviderParameter("<plugin arguments>", DnsProviderParameterType.String, false, "the arguments the plugin's Add-DnsTxt takes (Posh-ACME's plugin guide)") },
        (_, _) => throw new AcmeArgumentException(AcmeErrorId.DnsProviderUnknown, "Name a Posh-ACME plugin as PoshAcme:<Plugin>, such as PoshAcme:Cloudflare."));

    public static bool Handles(string provider) => provider.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Loads Posh-ACME and finds the plugin now, on the pipeline thread, so a missing module or plugin is
    /// refused before the first request. Throws AcmeArgumentException (PoshAcmeNotInstalled, DnsProviderUnknown).
    /// </summary>
    public static Func<AcmeCmdlet.CmdletContext, IDnsRecordPublisher> Records(string provider, IDictionary? parameters)
    {
        string plugin = provider.Substring(Prefix.Length).Trim();
        PSModuleInfo module = Load();
        string folder = Path.Combine(module.ModuleBase, "Plugins");
        string[] available = Directory.Exists(folder)
            ? Directory.GetFiles(folder, "*.ps1").Select(Path.GetFileNameWithoutExtension).Where(n => n is not null).Select(n => n!).OrderBy(n => n, StringComparer.OrdinalIgnoreCase).ToArray()
            : Array.Empty<string>();
        string? name = available.FirstOrDefault(n => string.Equals(n, plugin, StringComparison.OrdinalIgnoreCase));
        if (name is null)
        {
            throw new AcmeArgumentException(AcmeErrorId.DnsProviderUnknown,
                $"Posh-ACME {module.Version} ({module.ModuleBase}) has no plugin '{plugin}'. Its plugins: {string.Join(", ", available)}.");
        }

        var arguments = new Hashtable(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in parameters ?? new Hashtable())
        {
            arguments[LanguagePrimitives.ConvertTo<string>(entry.Key)] = entry.Value;
        }

        ScriptBlock call = module.NewBoundScriptBlock(ScriptBlock.Create(CallScript));
        string path = Path.Combine(folder, name + ".ps1");
        return context => new PoshAcmePublisher(context, call, name, path, arguments);
    }

    public async Task AddAsync(IReadOnlyList<DnsTxtRecord> records, CancellationToken cancellationToken)
    {
        foreach (DnsTxtRecord record in records)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Counted before the call: a plugin stopped half-way may have created the record.
            _started.Add(record);
            _context.Verbose($"Posh-ACME {_plugin}: Add-DnsTxt {record} for {record.Identifier.Value}.");
            await InvokeAsync("Add-DnsTxt", record, false, AcmeErrorId.DnsRecordAddFailed).ConfigureAwait(false);
        }

        await InvokeAsync("Save-DnsTxt", null, false, AcmeErrorId.DnsRecordAddFailed).ConfigureAwait(false);
    }

    public async Task RemoveAsync(IReadOnlyList<DnsTxtRecord> records, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        List<DnsTxtRecord> mine = records.Where(_started.Contains).ToList();
        foreach (DnsTxtRecord record in mine)
        {
            _context.Verbose($"Posh-ACME {_plugin}: Remove-DnsTxt {record} for {record.Identifier.Value}.");
            try
            {
                await InvokeAsync("Remove-DnsTxt", record, true, AcmeErrorId.DnsRecordRemoveFailed).ConfigureAwait(false);
                _started.Remove(record);
            }
            catch (AcmeLocalException e)
            {
                // Keep removing the others; the user has to know which records are left behind.
                failures.Add(record.Name);
                _context.Warning($"{e.Message} Delete the record by hand.");
            }
        }

        if (mine.Count > 0)
        {
            try
            {
                await InvokeAsync("Save-DnsTxt", null, true, AcmeErrorId.DnsRecordRemoveFailed).ConfigureAwait(false);
            }
            catch (AcmeLocalException e)
            {
                failures.Add("Save-DnsTxt");
                _context.Warning(e.Message);
            }
        }

        if (failures.Count > 0)
        {
            throw new AcmeLocalException(AcmeErrorId.DnsRecordRemoveFailed, $"The Posh-ACME plugin {_plugin} failed to remove {string.Join(", ", failures)}.");
        }
    }

    private static PSModuleInfo Load()
    {
        string? path = Environment.GetEnvironmentVariable(PathVariable);
        path = string.IsNullOrWhiteSpace(path) ? null : path;
        Collection<PSObject> found;
        try
        {
            found = ScriptBlock.Create(LoadScript).Invoke(path);
        }
        catch (RuntimeException e)
        {
            throw NotInstalled(path, $" Importing it failed: {e.Message}", e);
        }

        if (found.Select(o => o?.BaseObject).OfType<PSModuleInfo>().FirstOrDefault() is not { } module)
        {
            throw NotInstalled(path, string.Empty, null);
        }

        if (module.Version.Major < 4)
        {
            throw new AcmeArgumentException(AcmeErrorId.PoshAcmeNotInstalled,
                $"Posh-ACME {module.Version} ({module.ModuleBase}) is older than 4.0, whose plugin interface this bridge calls. Update it: Install-Module Posh-ACME -MinimumVersion 4.0.");
        }

        return module;
    }

    private static AcmeArgumentException NotInstalled(string? path, string detail, Exception? inner) => new(AcmeErrorId.PoshAcmeNotInstalled,
        (path is null
            ? "The Posh-ACME module is not installed (no Posh-ACME in PSModulePath)."
            : $"No Posh-ACME module at {path} ({PathVariable}).")
        + detail + " Install it with: Install-Module Posh-ACME -Scope CurrentUser (version 4.x).", inner);

    private async Task InvokeAsync(string function, DnsTxtRecord? record, bool mustFinish, AcmeErrorId failed)
    {
        try
        {
            await _context.InvokeOnPipelineThreadAsync(() => ScriptBlockRunner.Invoke(_call, _context.IsStopping, mustFinish,
                _pluginPath, function, record?.Name.TrimEnd('.'), record?.Value, _arguments)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RuntimeException && e is not PipelineStoppedException)
        {
            string what = record is null ? function : $"{function} for {record.Name} ({record.Identifier.Value})";
            throw new AcmeLocalException(failed, $"The Posh-ACME plugin {_plugin} failed in {what}: {e.Message}", e);
        }
    }
}
