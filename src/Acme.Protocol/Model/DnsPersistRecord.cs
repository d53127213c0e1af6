using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text;

namespace Acme.Protocol.Model;

/// <summary>
/// A dns-persist-01 TXT record value (draft-ietf-acme-dns-persist, an RFC 8659 issue-value):
/// "issuer-domain-name; accounturi=URL[; policy=wildcard][; persistUntil=unix seconds]", and the
/// dns-account-01 label (draft-ietf-acme-dns-account-label). Formats, parses and checks them.
/// </summary>
public sealed class DnsPersistRecord
{
    /// <summary>The label the record name starts with: "_validation-persist." then the domain name.</summary>
    public const string NamePrefix = "_validation-persist.";

    private DnsPersistRecord(string issuerDomainName, string? accountUri, string? policy, DateTimeOffset? persistUntil)
    {
        IssuerDomainName = issuerDomainName;
        AccountUri = accountUri;
        Policy = policy;
        PersistUntil = persistUntil;
    }

    public string IssuerDomainName { get; }

    public string? AccountUri { get; }

    /// <summary>"wildcard" or null (any other value counts as absent, as the draft says).</summary>
    public string? Policy { get; }

    public DateTimeOffset? PersistUntil { get; }

    /// <summary>
    /// The dns-account-01 label: the first 10 bytes of SHA-256(account URL), base32 (RFC 4648, 16
    /// characters, no padding), lower case.
    /// </summary>
    public static string AccountLabel(Uri accountUrl)
    {
        if (accountUrl is null)
        {
            throw new ArgumentNullException(nameof(accountUrl));
        }

        byte[] hash;
        using (SHA256 sha = SHA256.Create())
        {
            hash = sha.ComputeHash(Encoding.UTF8.GetBytes(accountUrl.AbsoluteUri));
        }

        return Base32(hash, 10).ToLowerInvariant();
    }

    /// <summary>The record value to publish.</summary>
    public static string Format(string issuerDomainName, Uri accountUrl, bool wildcard, DateTimeOffset? persistUntil)
    {
        var text = new StringBuilder(issuerDomainName.Trim().TrimEnd('.').ToLowerInvariant());
        text.Append("; accounturi=").Append(accountUrl.AbsoluteUri);
        if (wildcard)
        {
            text.Append("; policy=wildcard");
        }

        if (persistUntil is not null)
        {
            text.Append("; persistUntil=").Append(persistUntil.Value.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    /// <summary>Reads a TXT value; null when it is not an issue-value with well-formed parameters.</summary>
    public static DnsPersistRecord? Parse(string value)
    {
        if (value is null)
        {
            return null;
        }

        string[] parts = value.Split(';');
        string issuer = parts[0].Trim(' ', '\t');
        if (issuer.Length == 0)
        {
            return null;
        }

        string? account = null;
        string? policy = null;
        DateTimeOffset? until = null;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string raw in parts.Skip(1))
        {
            string param = raw.Trim(' ', '\t');
            int eq = param.IndexOf('=');
            if (eq <= 0)
            {
                return null;
            }

            string tag = param.Substring(0, eq).Trim(' ', '\t');
            string v = param.Substring(eq + 1).Trim(' ', '\t');
            if (!seen.Add(tag) || v.Any(c => c < 0x21 || c > 0x7E || c == ';'))
            {
                return null;
            }

            switch (tag.ToLowerInvariant())
            {
                case "accounturi":
                    account = v;
                    break;
                case "policy":
                    policy = string.Equals(v, "wildcard", StringComparison.OrdinalIgnoreCase) ? "wildcard" : null;
                    break;
                case "persistuntil":
                    if (!long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds))
                    {
                        return null;
                    }

                    until = DateTimeOffset.FromUnixTimeSeconds(seconds);
                    break;
            }
        }

        return new DnsPersistRecord(issuer, account, policy, until);
    }

    /// <summary>
    /// Why this record does not authorize <paramref name="accountUrl"/> for the name at
    /// <paramref name="at"/> with one of <paramref name="issuers"/> (wildcard needs policy=wildcard), or null when it does.
    /// </summary>
    public string? Problem(IReadOnlyCollection<string> issuers, Uri accountUrl, bool wildcard, DateTimeOffset at)
    {
        if (!issuers.Any(i => string.Equals(i.TrimEnd('.'), IssuerDomainName.TrimEnd('.'), StringComparison.OrdinalIgnoreCase)))
        {
            return $"it names the issuer {IssuerDomainName}, not {string.Join(" or ", issuers)}";
        }

        if (AccountUri is null)
        {
            return "it has no accounturi";
        }

        if (!string.Equals(AccountUri, accountUrl.AbsoluteUri, StringComparison.Ordinal))
        {
            return $"it names the account {AccountUri}, not {accountUrl.AbsoluteUri}";
        }

        if (wildcard && Policy != "wildcard")
        {
            return "a wildcard needs policy=wildcard";
        }

        if (PersistUntil is not null && PersistUntil.Value < at)
        {
            return $"its persistUntil ({PersistUntil.Value.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z) is before {at.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z";
        }

        return null;
    }

    private static string Base32(byte[] data, int length)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var text = new StringBuilder();
        int buffer = 0;
        int bits = 0;
        for (int i = 0; i < length; i++)
        {
            buffer = (buffer << 8) | data[i];
            bits += 8;
            while (bits >= 5)
            {
                text.Append(alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            text.Append(alphabet[(buffer << (5 - bits)) & 31]);
        }

        return text.ToString();
    }
}
