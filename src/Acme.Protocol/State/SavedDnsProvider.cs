using System;
using System.Collections.Generic;
using System.Linq;

namespace Acme.Protocol.State;

/// <summary>
/// One parameter of a saved DNS provider: a value (kept as given; a secret's value is sealed with the
/// state folder's key passphrase in the file), or a <see cref="Reference"/> (<c>env:VAR</c>,
/// <c>secret:Name</c>) read again at run time. <see cref="ToString"/> never shows a secret's value.
/// </summary>
public sealed class SavedDnsProviderValue
{
    public SavedDnsProviderValue(string name, object? value, bool isSecret, string? reference = null)
    {
        Name = name;
        Value = reference is null ? value : null;
        IsSecret = isSecret;
        Reference = reference;
    }

    public string Name { get; }

    /// <summary>A string, integer, boolean or string array; null when <see cref="Reference"/> is set.</summary>
    public object? Value { get; }

    public bool IsSecret { get; }

    /// <summary><c>env:VAR</c> or <c>secret:Name</c>, resolved by the caller each run.</summary>
    public string? Reference { get; }

    public override string ToString() => Reference is not null ? $"{Name} = {Reference}" : IsSecret ? $"{Name} = (secret)" : $"{Name} = {Value}";
}

/// <summary>
/// The DNS provider a certificate was issued through, saved with it (<c>dns-provider.json</c> in its
/// folder) so that a renewal's Start-AcmeDnsChallenge with no parameters publishes through it again.
/// <see cref="Unsaved"/> names the secret parameters that were not saved (no key passphrase, no
/// reference): a renewal must be given them again. <see cref="ChallengeType"/> is the challenge the records
/// answered (dns-01, dns-account-01 or dns-persist-01), which a renewal answers again.
/// </summary>
public sealed class SavedDnsProvider
{
    public SavedDnsProvider(string provider, IEnumerable<SavedDnsProviderValue> values, IEnumerable<string>? unsaved = null,
        string? challengeType = null)
    {
        Provider = provider;
        Values = values.ToList();
        Unsaved = (unsaved ?? Array.Empty<string>()).ToList();
        ChallengeType = string.IsNullOrEmpty(challengeType) ? Model.AcmeChallenge.Dns01 : challengeType!;
    }

    public string Provider { get; }

    /// <summary>dns-01 (also for a file saved before the type was recorded), dns-account-01 or dns-persist-01.</summary>
    public string ChallengeType { get; }

    public IReadOnlyList<SavedDnsProviderValue> Values { get; }

    public IReadOnlyList<string> Unsaved { get; }

    public override string ToString() => $"{Provider} {ChallengeType} ({string.Join(", ", Values.Select(v => v.Name))})";
}
