using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Security;
using Acme.Protocol.Challenges.Dns01;
using Acme.Protocol.Errors;
using Acme.Protocol.State;

namespace Acme.PowerShell.Dns;

/// <summary>
/// -ProviderParameter (a hashtable) as the core's <see cref="DnsProviderSettings"/>: PowerShell wrappers
/// taken off, a SecureString or PSCredential turned into its plain text only in memory, arrays into lists.
/// A string value <c>env:VAR</c> is read from the environment variable VAR, and <c>secret:Name</c> from
/// SecretManagement's Get-Secret, each time the settings are made; saved, such a value stays a reference.
/// </summary>
internal static class ProviderParameters
{
    private const string EnvironmentPrefix = "env:";
    private const string SecretPrefix = "secret:";

    /// <summary>Reads a SecretManagement secret by name; see <see cref="SecretReader"/>.</summary>
    public delegate object? ReadSecret(string name);

    public static DnsProviderSettings From(IDictionary? table, ReadSecret? readSecret = null)
    {
        var values = new List<KeyValuePair<string, object?>>();
        foreach (DictionaryEntry entry in table ?? new Hashtable())
        {
            string name = LanguagePrimitives.ConvertTo<string>(entry.Key);
            object? value = Plain(entry.Value);
            values.Add(new KeyValuePair<string, object?>(name, Reference(value) is { } reference ? Resolve(name, reference, readSecret) : value));
        }

        return new DnsProviderSettings(values);
    }

    /// <summary>The settings of a saved provider, references read now, <paramref name="overrides"/> (-ProviderParameter) over them.</summary>
    public static DnsProviderSettings FromSaved(SavedDnsProvider saved, IDictionary? overrides, ReadSecret? readSecret)
    {
        var values = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (SavedDnsProviderValue value in saved.Values)
        {
            values[value.Name] = value.Reference is null ? value.Value : Resolve(value.Name, value.Reference, readSecret);
        }

        DnsProviderSettings given = From(overrides, readSecret);
        foreach (string name in given.Names)
        {
            values[name] = given.Value(name);
        }

        return new DnsProviderSettings(values);
    }

    /// <summary>
    /// <see cref="FromSaved"/> for the provider saved with the certificate <paramref name="certificateName"/>, checked
    /// complete: a secret parameter the state could not save (no key passphrase) and not given again in
    /// <paramref name="overrides"/> is AcmeArgumentException DnsProviderParameterMissing, ending with
    /// <paramref name="remedy"/> (what the caller's user can do).
    /// </summary>
    public static DnsProviderSettings FromSavedComplete(SavedDnsProvider saved, IDictionary? overrides, ReadSecret? readSecret, string certificateName,
        string remedy = "it must be given again")
    {
        DnsProviderSettings settings = FromSaved(saved, overrides, readSecret);
        foreach (string missing in saved.Unsaved.Where(n => !settings.Has(n)))
        {
            throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterMissing,
                $"The secret parameter '{missing}' of the DNS provider {saved.Provider} saved with '{certificateName}' was not saved (the state folder had no key passphrase); {remedy}.");
        }

        return settings;
    }

    /// <summary>
    /// What is saved with the certificate: the values as given, references as their text, secrets marked (the
    /// store seals or drops them), and the DNS challenge type the records answer (null: dns-01).
    /// </summary>
    public static SavedDnsProvider ToSaved(DnsProviderInfo info, IDictionary? table, SavedDnsProvider? earlier = null, string? challengeType = null)
    {
        var values = new Dictionary<string, SavedDnsProviderValue>(StringComparer.OrdinalIgnoreCase);
        if (earlier is not null && string.Equals(earlier.Provider, info.Name, StringComparison.OrdinalIgnoreCase))
        {
            foreach (SavedDnsProviderValue value in earlier.Values)
            {
                values[value.Name] = value;
            }
        }

        foreach (DictionaryEntry entry in table ?? new Hashtable())
        {
            string name = LanguagePrimitives.ConvertTo<string>(entry.Key);
            object? value = Plain(entry.Value);
            bool secret = info.Parameter(name)?.IsSecret ?? false;
            values[name] = new SavedDnsProviderValue(name, value, secret, Reference(value));
        }

        // A secret not saved before, and not given now, stays listed as not saved.
        IEnumerable<string> unsaved = earlier is not null && string.Equals(earlier.Provider, info.Name, StringComparison.OrdinalIgnoreCase)
            ? earlier.Unsaved.Where(n => !values.ContainsKey(n))
            : Array.Empty<string>();
        return new SavedDnsProvider(info.Name, values.Values, unsaved, challengeType);
    }

    /// <summary>
    /// Get-Secret of SecretManagement, called on the pipeline thread of <paramref name="cmdlet"/>. Throws
    /// AcmeLocalException (DnsProviderSecretUnavailable) when the module is not installed or the secret not found.
    /// </summary>
    public static ReadSecret SecretReader(PSCmdlet cmdlet) => name =>
    {
        const string module = "Microsoft.PowerShell.SecretManagement";
        if (cmdlet.InvokeCommand.GetCommand(module + "\\Get-Secret", CommandTypes.Cmdlet | CommandTypes.Function) is null)
        {
            throw new AcmeLocalException(AcmeErrorId.DnsProviderSecretUnavailable,
                $"The secret '{name}' is to be read through SecretManagement, but the module {module} is not installed (Install-Module {module}, and register a vault).");
        }

        try
        {
            object? found = cmdlet.InvokeCommand.InvokeScript($"param($n) {module}\\Get-Secret -Name $n -ErrorAction Stop", true,
                System.Management.Automation.Runspaces.PipelineResultTypes.Output, null, name).Select(o => o?.BaseObject).FirstOrDefault();
            return found ?? throw new AcmeLocalException(AcmeErrorId.DnsProviderSecretUnavailable, $"SecretManagement has no secret '{name}'.");
        }
        catch (RuntimeException e)
        {
            throw new AcmeLocalException(AcmeErrorId.DnsProviderSecretUnavailable, $"SecretManagement could not read the secret '{name}': {e.Message}", e);
        }
    };

    /// <summary><c>env:VAR</c> or <c>secret:Name</c> when <paramref name="value"/> is one, else null.</summary>
    public static string? Reference(object? value) =>
        value is string s && (s.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase) && s.Length > EnvironmentPrefix.Length
            || s.StartsWith(SecretPrefix, StringComparison.OrdinalIgnoreCase) && s.Length > SecretPrefix.Length) ? s : null;

    private static object? Resolve(string parameter, string reference, ReadSecret? readSecret)
    {
        if (reference.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
        {
            string variable = reference.Substring(EnvironmentPrefix.Length);
            return Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
                ? value
                : throw new AcmeLocalException(AcmeErrorId.DnsProviderSecretUnavailable,
                    $"The DNS provider parameter '{parameter}' is read from the environment variable {variable}, which is not set.");
        }

        string name = reference.Substring(SecretPrefix.Length);
        if (readSecret is null)
        {
            throw new AcmeLocalException(AcmeErrorId.DnsProviderSecretUnavailable,
                $"The DNS provider parameter '{parameter}' names the SecretManagement secret '{name}', which cannot be read here.");
        }

        return Plain(readSecret(name));
    }

    private static object? Plain(object? value)
    {
        value = value is PSObject wrapped ? wrapped.BaseObject : value;
        return value switch
        {
            null => null,
            SecureString secure => new NetworkCredential(string.Empty, secure).Password,
            PSCredential credential => credential.GetNetworkCredential().Password,
            string s => s,
            IDictionary => value,
            IEnumerable list => list.Cast<object?>().Select(v => LanguagePrimitives.ConvertTo<string>(v is PSObject p ? p.BaseObject : v)).ToArray(),
            _ => value,
        };
    }
}
