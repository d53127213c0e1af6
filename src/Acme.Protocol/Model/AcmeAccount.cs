using System;
using Acme.Protocol.Crypto;
using Acme.Protocol.Json;

namespace Acme.Protocol.Model;

/// <summary>
/// An ACME account (RFC 8555 section 7.1.2) with the key that controls it and the server it lives
/// on. Everything needed to sign later requests travels with the object; there is no current account.
/// </summary>
public sealed class AcmeAccount
{
    public AcmeAccount(AcmeServer server, AcmeKey key, Uri location)
    {
        Server = server ?? throw new ArgumentNullException(nameof(server));
        Key = key ?? throw new ArgumentNullException(nameof(key));
        Location = location ?? throw new ArgumentNullException(nameof(location));
    }

    public AcmeServer Server { get; }

    /// <summary>The account key. Its private half is never shown; see <see cref="AcmeKey.ToString"/>.</summary>
    public AcmeKey Key { get; }

    /// <summary>The account URL, used as "kid" in every JWS after newAccount (RFC 8555 section 6.2).</summary>
    public Uri Location { get; }

    public AcmeAccountStatus Status { get; internal set; } = AcmeAccountStatus.Valid;

    public string[] Contact { get; internal set; } = Array.Empty<string>();

    public bool TermsOfServiceAgreed { get; internal set; }

    public Uri? Orders { get; internal set; }

    public DateTimeOffset? CreatedAt { get; internal set; }

    public string KeyThumbprint => Key.Thumbprint;

    /// <summary>The account's name in its state folder; null for an account that is not saved there.</summary>
    public string? Name { get; internal set; }

    /// <summary>The state folder the account is saved in; the orders it places are saved there too.</summary>
    public string? StatePath => SavedIn?.Root;

    internal IStateLocation? SavedIn { get; set; }

    internal void Update(JsonObject json)
    {
        Status = AcmeStatusParser.Parse<AcmeAccountStatus>(json.GetString("status"), "an account");
        Contact = json.GetStringArray("contact");
        TermsOfServiceAgreed = json.GetBoolean("termsOfServiceAgreed") ?? TermsOfServiceAgreed;
        Orders = json.GetUri("orders") ?? Orders;
        CreatedAt = json.GetTimestamp("createdAt") ?? CreatedAt;
    }

    /// <summary>
    /// The same account under a new key, after a key change (RFC 8555 section 7.3.5). A new object,
    /// so the key never changes under a caller that holds the old one.
    /// </summary>
    internal AcmeAccount WithKey(AcmeKey key) => new(Server, key, Location)
    {
        Status = Status,
        Contact = Contact,
        TermsOfServiceAgreed = TermsOfServiceAgreed,
        Orders = Orders,
        CreatedAt = CreatedAt,
        Name = Name,
        SavedIn = SavedIn,
    };

    public override string ToString() => Location.AbsoluteUri;
}
