using System;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;

namespace Acme.Protocol.Model;

/// <summary>A challenge object (RFC 8555 section 8) with the key authorization the account must present.</summary>
public sealed class AcmeChallenge
{
    public const string Http01 = "http-01";
    public const string Dns01 = "dns-01";
    public const string TlsAlpn01 = "tls-alpn-01";

    /// <summary>draft-ietf-acme-dns-account-label: a TXT record at "_&lt;account label&gt;._acme-challenge.&lt;name&gt;".</summary>
    public const string DnsAccount01 = "dns-account-01";

    /// <summary>draft-ietf-acme-dns-persist: a lasting TXT record at "_validation-persist.&lt;name&gt;" naming the CA and the account.</summary>
    public const string DnsPersist01 = "dns-persist-01";

    internal AcmeChallenge(AcmeIdentifier identifier, string type, Uri url, string? token, string accountThumbprint)
    {
        Identifier = identifier;
        Type = type;
        Url = url;
        Token = token;
        if (token is not null)
        {
            // "keyAuthorization = token || '.' || base64url(Thumbprint(accountKey))" (RFC 8555 section 8.1)
            KeyAuthorization = token + "." + accountThumbprint;
        }
    }

    public AcmeIdentifier Identifier { get; }

    /// <summary>The account whose key authorization this is, and that signs the response.</summary>
    public AcmeAccount? Account { get; internal set; }

    /// <summary>The order the challenge belongs to, when it was fetched through one.</summary>
    public AcmeOrder? Order { get; internal set; }

    public AcmeAuthorization? Authorization { get; internal set; }

    public string Type { get; }

    public Uri Url { get; }

    public AcmeChallengeStatus Status { get; internal set; }

    public string? Token { get; }

    /// <summary>What the account presents to prove control: token "." account key thumbprint. Not secret.</summary>
    public string? KeyAuthorization { get; }

    public DateTimeOffset? Validated { get; internal set; }

    public AcmeProblem? Error { get; internal set; }

    /// <summary>dns-persist-01: the account URL the CA expects in the record ("accounturi"), when the CA names it.</summary>
    public Uri? AccountUri { get; internal set; }

    /// <summary>dns-persist-01: the issuer domain names the CA accepts as the record's first field ("issuer-domain-names").</summary>
    public string[] IssuerDomainNames { get; internal set; } = Array.Empty<string>();

    /// <summary>http-01: the path the CA fetches (RFC 8555 section 8.3).</summary>
    public string? HttpPath => Type == Http01 && Token is not null ? "/.well-known/acme-challenge/" + Token : null;

    /// <summary>What answers the challenge, in one line: the http-01 path, the dns-01 record ("name TXT value"), else the token.</summary>
    public string? Answer => HttpPath ?? (DnsRecordName is not null ? $"{DnsRecordName} TXT {DnsRecordValue}" : Token);

    /// <summary>
    /// The TXT record name, without a wildcard label: dns-01 "_acme-challenge.&lt;name&gt;" (RFC 8555 section 8.4),
    /// dns-account-01 "_&lt;label&gt;._acme-challenge.&lt;name&gt;" (the label from the account URL), dns-persist-01
    /// "_validation-persist.&lt;name&gt;".
    /// </summary>
    public string? DnsRecordName => Type switch
    {
        Dns01 => "_acme-challenge." + BaseName,
        DnsAccount01 => (AccountUrl is null ? null : "_" + DnsPersistRecord.AccountLabel(AccountUrl) + "._acme-challenge." + BaseName),
        DnsPersist01 => DnsPersistRecord.NamePrefix + BaseName,
        _ => null,
    };

    /// <summary>
    /// The TXT record value: base64url(SHA-256(key authorization)) for dns-01 and dns-account-01; for dns-persist-01
    /// "&lt;issuer domain name&gt;; accounturi=&lt;account URL&gt;" (with "; policy=wildcard" for a wildcard).
    /// </summary>
    public string? DnsRecordValue => Type switch
    {
        Dns01 or DnsAccount01 when KeyAuthorization is not null => Base64Url.Encode(KeyAuthorizationDigest(KeyAuthorization)),
        DnsPersist01 when IssuerDomainNames.Length > 0 && AccountUrl is not null =>
            DnsPersistRecord.Format(IssuerDomainNames[0], AccountUrl, Identifier.IsWildcard, null),
        _ => null,
    };

    /// <summary>The account URL the answer is bound to: what the CA said (dns-persist-01), else the account's.</summary>
    private Uri? AccountUrl => AccountUri ?? Account?.Location;

    private string BaseName => Identifier.IsWildcard ? Identifier.Value.Substring(2) : Identifier.Value;

    internal static byte[] KeyAuthorizationDigest(string keyAuthorization)
    {
        using SHA256 sha = SHA256.Create();
        return sha.ComputeHash(Encoding.UTF8.GetBytes(keyAuthorization));
    }

    internal static AcmeChallenge FromJson(AcmeIdentifier identifier, JsonObject json, string accountThumbprint)
    {
        string type = json.GetString("type") ?? throw new AcmeProtocolException("A challenge has no type.");
        Uri url = json.GetUri("url") ?? throw new AcmeProtocolException($"The {type} challenge has no URL.");
        string? token = json.GetString("token");
        if (token is not null && !IsValidToken(token))
        {
            // RFC 8555 section 8.3: the token "MUST NOT contain any characters outside the base64url alphabet".
            throw new AcmeProtocolException($"The {type} challenge for {identifier.Value} has a token outside the base64url alphabet.");
        }

        var challenge = new AcmeChallenge(identifier, type, url, token, accountThumbprint)
        {
            Status = AcmeStatusParser.Parse<AcmeChallengeStatus>(json.GetString("status"), $"the {type} challenge"),
            Validated = json.GetTimestamp("validated"),
            AccountUri = json.GetUri("accounturi"),
            IssuerDomainNames = json.GetArray("issuer-domain-names")?.OfType<string>().ToArray() ?? Array.Empty<string>(),
        };
        JsonObject? error = json.GetObject("error");
        if (error is not null)
        {
            challenge.Error = AcmeProblem.FromJson(error);
        }

        return challenge;
    }

    internal static bool IsValidToken(string token)
    {
        if (token.Length == 0 || token.Length > 256)
        {
            return false;
        }

        foreach (char c in token)
        {
            bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    public override string ToString() => $"{Type} {Identifier} ({Status})";
}
