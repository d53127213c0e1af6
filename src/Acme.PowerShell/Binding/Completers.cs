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
/// -ProviderParameter and -DnsProviderParameter: the parameter names of the provider chosen with -Provider or
/// -DnsProvider, each with its type and description as the tooltip. PowerShell asks for them where the
/// hashtable's key goes (<c>@{ &lt;Tab&gt;</c>) and offers <c>Name = </c>; names already in the hashtable are left out.
/// </summary>
public sealed class DnsProviderParameterCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string? provider = (fakeBoundParameters?["Provider"] ?? fakeBoundParameters?["DnsProvider"]) as string;
        Acme.Protocol.Challenges.Dns01.DnsProviderInfo? info = provider is null ? null : Dns.DnsProviders.Find(provider);
        if (info is null)
        {
            return Array.Empty<CompletionResult>();
        }

        // Keys already written in the hashtable literal under the cursor are not offered again.
        HashSet<string> given = new(commandAst.FindAll(a => a is HashtableAst, searchNestedScriptBlocks: false).Cast<HashtableAst>()
            .SelectMany(h => h.KeyValuePairs).Select(p => p.Item1).OfType<StringConstantExpressionAst>().Select(k => k.Value), StringComparer.OrdinalIgnoreCase);
        string typed = (wordToComplete ?? string.Empty).Trim('\'', '"', '@', '{', ' ', ';');
        return info.Parameters.Where(p => !given.Contains(p.Name) || string.Equals(p.Name, typed, StringComparison.OrdinalIgnoreCase))
            .Where(p => p.Name.StartsWith(typed, StringComparison.OrdinalIgnoreCase))
            .Select(p => new CompletionResult(p.Name + " = ", p.Name, CompletionResultType.ParameterValue,
                $"{p.Type}{(p.IsRequired ? ", required" : string.Empty)}{(p.IsSecret ? ", secret" : string.Empty)}: {p.Description}"))
            .ToList();
    }
}
