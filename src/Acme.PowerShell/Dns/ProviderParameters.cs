using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Security;
using Acme.Protocol.Challenges.Dns01;

namespace Acme.PowerShell.Dns;

/// <summary>
/// -ProviderParameter (a hashtable) as the core's <see cref="DnsProviderSettings"/>: PowerShell wrappers
/// taken off, a SecureString or PSCredential turned into its plain text only in memory, arrays into lists.
/// </summary>
internal static class ProviderParameters
{
    public static DnsProviderSettings From(IDictionary? table)
    {
        var values = new List<KeyValuePair<string, object?>>();
        foreach (DictionaryEntry entry in table ?? new Hashtable())
        {
            values.Add(new KeyValuePair<string, object?>(LanguagePrimitives.ConvertTo<string>(entry.Key), Plain(entry.Value)));
        }

        return new DnsProviderSettings(values);
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
            IEnumerable list => list.Cast<object?>().Select(v => LanguagePrimitives.ConvertTo<string>(v is PSObject p ? p.BaseObject : v)).ToArray(),
            _ => value,
        };
    }
}
