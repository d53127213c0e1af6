using System;
using System.Collections.Generic;
using System.Linq;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;

namespace Acme.Protocol.Model;

/// <summary>
/// An order (RFC 8555 section 7.1.3) with its authorizations, and the account that placed it, so
/// every later step (answer, finalize, download) can be signed from the object alone.
/// </summary>
public sealed class AcmeOrder
{
    internal AcmeOrder(AcmeAccount account, Uri location)
    {
        Account = account;
        Location = location;
    }

    public AcmeAccount Account { get; }

    public Uri Location { get; }

    public AcmeOrderStatus Status { get; internal set; }

    public DateTimeOffset? Expires { get; internal set; }

    public IReadOnlyList<AcmeIdentifier> Identifiers { get; internal set; } = Array.Empty<AcmeIdentifier>();

    public DateTimeOffset? NotBefore { get; internal set; }

    public DateTimeOffset? NotAfter { get; internal set; }

    public AcmeProblem? Error { get; internal set; }

    public IReadOnlyList<Uri> AuthorizationUrls { get; internal set; } = Array.Empty<Uri>();

    /// <summary>The authorizations as last fetched, in the order of <see cref="AuthorizationUrls"/>.</summary>
    public IReadOnlyList<AcmeAuthorization> Authorizations { get; internal set; } = Array.Empty<AcmeAuthorization>();

    /// <summary>
    /// How many of the order's authorizations are valid: counted from <see cref="Authorizations"/> when
    /// they were fetched, else as saved in the state folder; null when neither is known.
    /// </summary>
    public int? Authorized
    {
        get => Authorizations.Count > 0 ? Authorizations.Count(a => a.Status == AcmeAuthorizationStatus.Valid) : SavedAuthorized;
        internal set => SavedAuthorized = value;
    }

    private int? SavedAuthorized { get; set; }

    /// <summary>
    /// The names validated with dns-persist-01 and the records they stay valid through: from
    /// <see cref="Authorizations"/> when they were fetched, else as saved in the state folder.
    /// </summary>
    public IReadOnlyList<AcmePersistentRecord> PersistentRecords
    {
        get => Authorizations.Count > 0 ? AcmePersistentRecord.FromAuthorizations(Authorizations, Account.Location) : SavedPersistentRecords;
        internal set => SavedPersistentRecords = value;
    }

    private IReadOnlyList<AcmePersistentRecord> SavedPersistentRecords { get; set; } = Array.Empty<AcmePersistentRecord>();

    public Uri Finalize { get; internal set; } = null!;

    public Uri? Certificate { get; internal set; }

    /// <summary>Profiles draft: the profile the order asked for.</summary>
    public string? Profile { get; internal set; }

    /// <summary>RFC 9773 section 5: the certificate identifier this order replaces.</summary>
    public string? Replaces { get; internal set; }

    /// <summary>The server's Retry-After on the last fetch of this order, if any.</summary>
    public TimeSpan? RetryAfter { get; internal set; }

    /// <summary>
    /// The order's name in its account's state folder: the certificate it is for, whose earlier and
    /// later versions share the name. Null when the account is not saved.
    /// </summary>
    public string? Name { get; internal set; }

    public string? StatePath => Account.StatePath;

    internal IStateLocation? SavedIn => Name is null ? null : Account.SavedIn;

    /// <summary>The key type the certificate should get when nobody says otherwise (a renewal keeps the old one).</summary>
    internal AcmeKeyAlgorithm? KeyAlgorithm { get; set; }

    /// <summary>
    /// The certificate key this session made for the order, kept with it so that a finalize or download
    /// retried after a fault still holds the key the CA certified. Never shown; in memory only.
    /// </summary>
    internal AcmeKey? CertificateKey { get; set; }


    /// <summary>
    /// The lock on the certificate name that New-AcmeOrder -LockStore took before ordering; released
    /// when the certificate is issued or a cmdlet fails on the order, else it lapses. In memory only.
    /// </summary>
    public ICertificateLock? Lock { get; internal set; }

    /// <summary>The DNS names and IP addresses, as strings, for display.</summary>
    public string[] Names => Identifiers.Select(i => i.Value).ToArray();

    internal void Update(JsonObject json)
    {
        // Pebble 2.4 reports an order whose authorization was deactivated as "deactivated", a state
        // orders do not have; RFC 8555 section 7.1.6 makes such an order "invalid", so it reads as that.
        string? status = json.GetString("status");
        Status = status == "deactivated" ? AcmeOrderStatus.Invalid : AcmeStatusParser.Parse<AcmeOrderStatus>(status, "an order");
        Expires = json.GetTimestamp("expires");
        NotBefore = json.GetTimestamp("notBefore");
        NotAfter = json.GetTimestamp("notAfter");
        Identifiers = json.GetArray("identifiers")?.OfType<JsonObject>().Select(AcmeIdentifier.FromJson).ToArray()
            ?? throw new AcmeProtocolException($"The order {Location} has no identifiers.");
        var urls = new List<Uri>();
        foreach (string s in json.GetStringArray("authorizations"))
        {
            urls.Add(Uri.TryCreate(s, UriKind.Absolute, out Uri? u)
                ? u
                : throw new AcmeProtocolException($"The order {Location} lists an authorization that is not a URL."));
        }

        if (urls.Count == 0 && Status is AcmeOrderStatus.Pending)
        {
            throw new AcmeProtocolException($"The pending order {Location} lists no authorizations.");
        }

        AuthorizationUrls = urls;
        Finalize = json.GetUri("finalize") ?? throw new AcmeProtocolException($"The order {Location} has no finalize URL.");
        Certificate = json.GetUri("certificate");
        Profile = json.GetString("profile") ?? Profile;
        Replaces = json.GetString("replaces") ?? Replaces;
        JsonObject? error = json.GetObject("error");
        Error = error is null ? null : AcmeProblem.FromJson(error);
    }

    public override string ToString() => $"{string.Join(", ", Names)} ({Status})";
}
