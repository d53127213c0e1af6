using System;
using System.Collections.Generic;
using System.Linq;
using Acme.Protocol.Json;

namespace Acme.Protocol.Model;

/// <summary>
/// A name validated with dns-persist-01: the TXT record it stays valid through, the issuer domain
/// names the CA accepted, the account the record named, and whether a wildcard needed policy=wildcard.
/// Saved with the certificate, so Test-AcmeRenewal can check the record before the next renewal.
/// </summary>
public sealed class AcmePersistentRecord
{
    internal AcmePersistentRecord(string identifier, string name, string[] issuerDomainNames, Uri accountUri, bool wildcard)
    {
        Identifier = identifier;
        Name = name;
        IssuerDomainNames = issuerDomainNames;
        AccountUri = accountUri;
        Wildcard = wildcard;
    }

    /// <summary>The name (or names, "example.com, *.example.com") the record validated.</summary>
    public string Identifier { get; }

    /// <summary>The TXT record name: "_validation-persist." then the domain name.</summary>
    public string Name { get; }

    /// <summary>The issuer domain names the CA accepts as the record's first field.</summary>
    public string[] IssuerDomainNames { get; }

    /// <summary>The account URL the record must name (accounturi).</summary>
    public Uri AccountUri { get; }

    /// <summary>Whether a wildcard was validated through it, so the record needs policy=wildcard.</summary>
    public bool Wildcard { get; }

    /// <summary>The record value to set: the first issuer domain name, the account, policy=wildcard when needed, no persistUntil.</summary>
    public string Value => DnsPersistRecord.Format(IssuerDomainNames[0], AccountUri, Wildcard, null);

    public override string ToString() => $"{Name} TXT \"{Value}\"";

    /// <summary>
    /// The records of the order's valid authorizations that were validated with dns-persist-01 (the name
    /// and its wildcard share one record, which then needs policy=wildcard).
    /// </summary>
    internal static IReadOnlyList<AcmePersistentRecord> FromAuthorizations(IEnumerable<AcmeAuthorization> authorizations, Uri account)
    {
        var found = authorizations
            .Where(a => a.Status == AcmeAuthorizationStatus.Valid)
            .SelectMany(a => a.Challenges.Where(c => c.Type == AcmeChallenge.DnsPersist01 && c.Status == AcmeChallengeStatus.Valid
                && c.IssuerDomainNames.Length > 0 && c.DnsRecordName is not null))
            .ToList();
        return found
            .GroupBy(c => c.DnsRecordName!, StringComparer.OrdinalIgnoreCase)
            .Select(g => new AcmePersistentRecord(
                string.Join(", ", g.Select(c => c.Identifier.Value).Distinct(StringComparer.OrdinalIgnoreCase)),
                g.Key,
                g.SelectMany(c => c.IssuerDomainNames).Distinct(StringComparer.OrdinalIgnoreCase).ToArray(),
                g.Select(c => c.AccountUri).FirstOrDefault(u => u is not null) ?? account,
                g.Any(c => c.Identifier.IsWildcard)))
            .ToList();
    }

    internal JsonObject ToJson() => new()
    {
        ["identifier"] = Identifier,
        ["name"] = Name,
        ["issuerDomainNames"] = IssuerDomainNames.Cast<object?>().ToList(),
        ["accountUri"] = AccountUri.AbsoluteUri,
        ["wildcard"] = Wildcard,
    };

    /// <summary>A saved record, or null when it lacks a part (an older or damaged entry is skipped, not guessed).</summary>
    internal static AcmePersistentRecord? FromJson(JsonObject json)
    {
        string[] issuers = json.GetStringArray("issuerDomainNames");
        return json.GetString("name") is { } name && json.GetUri("accountUri") is { } account && issuers.Length > 0
            ? new AcmePersistentRecord(json.GetString("identifier") ?? name, name, issuers, account, json.GetBoolean("wildcard") ?? false)
            : null;
    }
}
