using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Binding;

/// <summary>
/// Tab completion for parameter values, one class per kind of value. A parameter opts in with
/// <c>[ArgumentCompleter(typeof(ServerCompleter))]</c>; tests/Pester/Experience.Tests.ps1 checks every
/// exported parameter with a known name (-Server, -KeyAlgorithm) completes, so a new cmdlet's parameter
/// cannot forget it.
///
/// Enum parameters such as -KeyAlgorithm need no completer: PowerShell completes enum names itself.
/// Values that arrive with later cmdlets get a class here: -Profile (the profile names of the server's
/// directory), -Reason (RFC 5280 revocation reasons) and account and certificate names from the state folder.
/// </summary>
public static class Completion
{
    /// <summary>The candidates that start with what was typed (case-insensitive), quoted when they need it.</summary>
    public static IEnumerable<CompletionResult> Filter(IEnumerable<KeyValuePair<string, string>> candidates, string? wordToComplete)
    {
        string typed = (wordToComplete ?? string.Empty).Trim('\'', '"');
        foreach (KeyValuePair<string, string> candidate in candidates.OrderBy(c => c.Key, StringComparer.OrdinalIgnoreCase))
        {
            if (candidate.Key.StartsWith(typed, StringComparison.OrdinalIgnoreCase))
            {
                string text = candidate.Key.IndexOfAny(new[] { ' ', '\'', '"', '$', '`', ',', ';', '(', ')', '{', '}', '@', '#' }) >= 0
                    ? "'" + candidate.Key.Replace("'", "''") + "'"
                    : candidate.Key;
                yield return new CompletionResult(text, candidate.Key, CompletionResultType.ParameterValue, candidate.Value);
            }
        }
    }
}

/// <summary>-Server: the shortcut names of well-known CAs, each with its directory URL as the tooltip.</summary>
public sealed class ServerCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completion.Filter(AcmeServer.Shortcuts.Select(s => new KeyValuePair<string, string>(s.Key, s.Value.AbsoluteUri)), wordToComplete);
}

/// <summary>-Name and -AccountName of accounts: the account names in the state folder (-StatePath when typed, else the default one), with their server as the tooltip.</summary>
public sealed class AccountNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        StateNames.Complete(fakeBoundParameters, wordToComplete, store => store.GetAccountNames());
}

/// <summary>-Name of certificates and orders: the certificate names in the state folder, with their server as the tooltip.</summary>
public sealed class CertificateNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        StateNames.Complete(fakeBoundParameters, wordToComplete, store => store.GetCertificateNames());
}

internal static class StateNames
{
    public static IEnumerable<CompletionResult> Complete(IDictionary fakeBoundParameters, string? wordToComplete,
        Func<AcmeStateStore, IReadOnlyList<(AcmeServer Server, string Name)>> names)
    {
        try
        {
            string? path = fakeBoundParameters?["StatePath"] as string;
            IReadOnlyList<(AcmeServer Server, string Name)> found = names(AcmeStateStore.Open(path));
            return Completion.Filter(found.GroupBy(f => f.Name, StringComparer.OrdinalIgnoreCase)
                .Select(g => new KeyValuePair<string, string>(g.Key, string.Join(", ", g.Select(f => f.Server.Name)))), wordToComplete).ToList();
        }
        catch (Exception e) when (e is AcmeException || e is System.IO.IOException || e is UnauthorizedAccessException)
        {
            // Completion never fails loudly: an unreadable folder simply offers nothing.
            return Array.Empty<CompletionResult>();
        }
    }
}

/// <summary>-Provider, -DnsProvider and Get-AcmeDnsProvider -Name: the DNS provider names, each with its description as the tooltip.</summary>
public sealed class DnsProviderCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completion.Filter(Dns.DnsProviders.All.Select(p => new KeyValuePair<string, string>(p.Name, p.Description)), wordToComplete);
}

/// <summary>
/// -ProviderParameter and -DnsProviderParameter: a hashtable of the parameters of the provider chosen with
/// -Provider or -DnsProvider, to fill in: first one with the required parameters, then one with all of them
/// (the tooltip lists each name with its type). PowerShell asks an argument completer only where the
/// argument starts (<c>-ProviderParameter &lt;Tab&gt;</c> or <c>@&lt;Tab&gt;</c>), never inside a hashtable literal,
/// so the keys come as the whole hashtable.
/// </summary>
public sealed class DnsProviderParameterCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string? provider = (fakeBoundParameters?["Provider"] ?? fakeBoundParameters?["DnsProvider"]) as string;
        Acme.Protocol.Challenges.Dns01.DnsProviderInfo? info = provider is null ? null : Dns.DnsProviders.Find(provider);
        string typed = (wordToComplete ?? string.Empty).Trim();
        if (info is null || info.Parameters.Count == 0 || !(typed.Length == 0 || typed == "@" || typed == "@{"))
        {
            return Array.Empty<CompletionResult>();
        }

        var results = new List<CompletionResult>();
        var required = info.Parameters.Where(p => p.IsRequired).ToList();
        if (required.Count > 0)
        {
            results.Add(Template(required, $"{info.Name}: the required parameters"));
        }

        if (required.Count < info.Parameters.Count)
        {
            results.Add(Template(info.Parameters, $"{info.Name}: all parameters"));
        }

        return results;
    }

    private static CompletionResult Template(IReadOnlyList<Acme.Protocol.Challenges.Dns01.DnsProviderParameter> parameters, string title)
    {
        string text = "@{ " + string.Join("; ", parameters.Select(p => p.Name + " = " + p.Type switch
        {
            Acme.Protocol.Challenges.Dns01.DnsProviderParameterType.Integer => "0",
            Acme.Protocol.Challenges.Dns01.DnsProviderParameterType.Boolean => "$false",
            Acme.Protocol.Challenges.Dns01.DnsProviderParameterType.StringList => "@()",
            _ => "''",
        })) + " }";
        string tooltip = title + Environment.NewLine + string.Join(Environment.NewLine, parameters.Select(p =>
            $"{p.Name} ({p.Type}{(p.IsRequired ? ", required" : string.Empty)}{(p.IsSecret ? ", secret: a SecureString, 'env:VAR' or 'secret:Name'" : string.Empty)}): {p.Description}"));
        return new CompletionResult(text, title, CompletionResultType.ParameterValue, tooltip);
    }
}
