using System;
using System.Collections.Generic;
using System.Linq;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;

namespace Acme.Protocol.Model;

/// <summary>The directory object (RFC 8555 section 7.1.1) and its "meta" field.</summary>
public sealed class AcmeDirectory
{
    public Uri Url { get; internal set; } = null!;

    public Uri NewNonce { get; internal set; } = null!;

    public Uri NewAccount { get; internal set; } = null!;

    public Uri NewOrder { get; internal set; } = null!;

    public Uri? NewAuthz { get; internal set; }

    public Uri? RevokeCert { get; internal set; }

    public Uri? KeyChange { get; internal set; }

    /// <summary>RFC 9773 section 4: the renewalInfo resource, when the CA offers ARI.</summary>
    public Uri? RenewalInfo { get; internal set; }

    public Uri? TermsOfService { get; internal set; }

    public Uri? Website { get; internal set; }

    public string[] CaaIdentities { get; internal set; } = Array.Empty<string>();

    public bool ExternalAccountRequired { get; internal set; }

    /// <summary>Profiles draft: the names of the profiles the CA offers, each with its description.</summary>
    public IReadOnlyDictionary<string, string> Profiles { get; internal set; } = new Dictionary<string, string>();

    /// <summary>
    /// The CA's own spelling of a profile it offers. Profiles draft (draft-ietf-acme-profiles): a
    /// newOrder "profile" names one of the profiles in the directory's meta.profiles, and the server
    /// refuses any other with invalidProfile; asking here first spares the user a failed order.
    /// </summary>
    internal string ResolveProfile(string profile)
    {
        string? offered = Profiles.Keys.FirstOrDefault(p => p == profile)
            ?? Profiles.Keys.FirstOrDefault(p => string.Equals(p, profile, StringComparison.OrdinalIgnoreCase));
        if (offered is not null)
        {
            return offered;
        }

        throw new AcmeArgumentException(AcmeErrorId.UnknownProfile, Profiles.Count == 0
            ? $"The CA at {Url} offers no certificate profiles, so it cannot issue with the profile '{profile}'."
            : $"The CA at {Url} does not offer the profile '{profile}'; it offers: " +
              string.Join(", ", Profiles.Select(p => p.Value.Length == 0 ? p.Key : $"{p.Key} ({p.Value})")) + ".");
    }

    internal static AcmeDirectory FromJson(Uri url, JsonObject json)
    {
        Uri Required(string name) => json.GetUri(name)
            ?? throw new AcmeProtocolException($"The directory at {url} has no '{name}' URL; is it an ACME (RFC 8555) directory?");

        var directory = new AcmeDirectory
        {
            Url = url,
            NewNonce = Required("newNonce"),
            NewAccount = Required("newAccount"),
            NewOrder = Required("newOrder"),
            NewAuthz = json.GetUri("newAuthz"),
            RevokeCert = json.GetUri("revokeCert"),
            KeyChange = json.GetUri("keyChange"),
            RenewalInfo = json.GetUri("renewalInfo"),
        };

        JsonObject? meta = json.GetObject("meta");
        if (meta is not null)
        {
            directory.TermsOfService = meta.GetUri("termsOfService");
            directory.Website = meta.GetUri("website");
            directory.CaaIdentities = meta.GetStringArray("caaIdentities");
            directory.ExternalAccountRequired = meta.GetBoolean("externalAccountRequired") ?? false;
            JsonObject? profiles = meta.GetObject("profiles");
            if (profiles is not null)
            {
                var map = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (KeyValuePair<string, object?> pair in profiles)
                {
                    map[pair.Key] = pair.Value as string ?? string.Empty;
                }

                directory.Profiles = map;
            }
        }

        return directory;
    }
}
