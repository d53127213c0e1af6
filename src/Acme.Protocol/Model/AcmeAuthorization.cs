using System;
using System.Collections.Generic;
using System.Linq;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;

namespace Acme.Protocol.Model;

/// <summary>An authorization (RFC 8555 section 7.1.4): one identifier and the challenges that can prove it.</summary>
public sealed class AcmeAuthorization
{
    internal AcmeAuthorization(Uri location, AcmeIdentifier identifier)
    {
        Location = location;
        Identifier = identifier;
    }

    public Uri Location { get; }

    /// <summary>The account that can act on this authorization (sign its requests).</summary>
    public AcmeAccount? Account { get; internal set; }

    /// <summary>The order this authorization was fetched for, when there is one.</summary>
    public AcmeOrder? Order { get; internal set; }

    /// <summary>The identifier as the order named it: a wildcard keeps its "*." here.</summary>
    public AcmeIdentifier Identifier { get; }

    public AcmeAuthorizationStatus Status { get; internal set; }

    public DateTimeOffset? Expires { get; internal set; }

    public bool Wildcard { get; internal set; }

    public IReadOnlyList<AcmeChallenge> Challenges { get; internal set; } = Array.Empty<AcmeChallenge>();

    /// <summary>The server's Retry-After on the last fetch of this authorization, if any.</summary>
    public TimeSpan? RetryAfter { get; internal set; }

    public AcmeChallenge? GetChallenge(string type) => Challenges.FirstOrDefault(c => c.Type == type);

    /// <summary>Links the authorization and its challenges to the account (and order) they belong to.</summary>
    internal AcmeAuthorization Attach(AcmeAccount account, AcmeOrder? order)
    {
        Account = account;
        Order = order ?? Order;
        foreach (AcmeChallenge challenge in Challenges)
        {
            challenge.Account = account;
            challenge.Order = Order;
            challenge.Authorization = this;
        }

        return this;
    }

    internal static AcmeAuthorization FromJson(Uri location, JsonObject json, string accountThumbprint)
    {
        AcmeIdentifier raw = AcmeIdentifier.FromJson(json.GetObject("identifier")
            ?? throw new AcmeProtocolException($"The authorization {location} has no identifier."));
        bool wildcard = json.GetBoolean("wildcard") ?? false;

        // RFC 8555 section 7.1.4: for a wildcard the identifier carries the base domain and
        // "wildcard" is true; the object keeps the name as ordered so it matches the order.
        AcmeIdentifier identifier = wildcard && !raw.IsWildcard ? new AcmeIdentifier(raw.Type, "*." + raw.Value) : raw;
        var challenges = new List<AcmeChallenge>();
        foreach (JsonObject c in json.GetArray("challenges")?.OfType<JsonObject>() ?? Enumerable.Empty<JsonObject>())
        {
            challenges.Add(AcmeChallenge.FromJson(identifier, c, accountThumbprint));
        }

        return new AcmeAuthorization(location, identifier)
        {
            Status = AcmeStatusParser.Parse<AcmeAuthorizationStatus>(json.GetString("status"), $"the authorization for {identifier.Value}"),
            Expires = json.GetTimestamp("expires"),
            Wildcard = wildcard,
            Challenges = challenges,
        };
    }

    public override string ToString() => $"{Identifier} ({Status})";
}
