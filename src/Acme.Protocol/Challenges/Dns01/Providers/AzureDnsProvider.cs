using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;

namespace Acme.Protocol.Challenges.Dns01.Providers;

/// <summary>
/// Azure DNS through Azure Resource Manager (api-version 2018-05-01): the zone by listing the dnsZones of
/// the subscription (or resource group), or given; the TXT record set read, then written whole with PUT
/// (If-Match its etag, so a change made meanwhile is read again, not lost), deleted when its last value
/// goes. Tokens come from <see cref="AzureTokenSource"/>.
/// </summary>
public sealed class AzureDnsProvider : DnsProvider
{
    private const string ApiVersion = "api-version=2018-05-01";

    public static DnsProviderInfo Info { get; } = new(
        "Azure",
        "Azure DNS through Azure Resource Manager, with an access token, a service principal (secret or certificate) or a managed identity.",
        "a local fake of Azure Resource Manager's DNS API, the identity platform's token endpoint and the instance metadata service (bearer token, zone listing, record set bodies, etags, its error shapes), whose records a real challtestsrv serves to Pebble",
        new[]
        {
            new DnsProviderParameter("SubscriptionId", DnsProviderParameterType.String, true, "the subscription that holds the DNS zone"),
            new DnsProviderParameter("ResourceGroup", DnsProviderParameterType.String, false, "the zone's resource group; the whole subscription is searched unless set"),
            new DnsProviderParameter("Zone", DnsProviderParameterType.String, false, "the DNS zone's name; found by listing the zones unless set"),
            new DnsProviderParameter("AccessToken", DnsProviderParameterType.Secret, false, "an ARM access token (e.g. Get-AzAccessToken), used as it is"),
            new DnsProviderParameter("TenantId", DnsProviderParameterType.String, false, "the Entra ID tenant of the service principal"),
            new DnsProviderParameter("ClientId", DnsProviderParameterType.String, false, "the service principal's application (client) id, or a user-assigned managed identity's client id"),
            new DnsProviderParameter("ClientSecret", DnsProviderParameterType.Secret, false, "the service principal's client secret"),
            new DnsProviderParameter("ClientCertificatePath", DnsProviderParameterType.String, false, "a PFX, or a PEM with the certificate and its RSA key, registered on the service principal"),
            new DnsProviderParameter("ClientCertificatePassword", DnsProviderParameterType.Secret, false, "the password of the PFX or of the encrypted PEM key"),
            new DnsProviderParameter("UseManagedIdentity", DnsProviderParameterType.Boolean, false, "take a token from the managed identity (Azure VM, App Service, Functions, Automation)"),
            new DnsProviderParameter("Ttl", DnsProviderParameterType.Integer, false, "the TTL of the TXT record set in seconds; 60 unless set"),
            new DnsProviderParameter("ArmUrl", DnsProviderParameterType.String, false, "Resource Manager's address; https://management.azure.com unless set (sovereign clouds, tests)"),
            new DnsProviderParameter("AuthorityUrl", DnsProviderParameterType.String, false, "the identity platform's address; https://login.microsoftonline.com unless set"),
            new DnsProviderParameter("ImdsUrl", DnsProviderParameterType.String, false, "the managed identity token endpoint; http://169.254.169.254/metadata/identity/oauth2/token unless set"),
        },
        (settings, options) => new AzureDnsProvider(settings, options));

    private readonly DnsHttpApi _api;
    private readonly AzureTokenSource _tokens;
    private readonly string _arm;
    private readonly string _scope;
    private readonly string? _zone;
    private readonly int _ttl;
    private List<(string Name, string Id)>? _zones;

    private AzureDnsProvider(DnsProviderSettings settings, DnsProviderOptions options)
    {
        _arm = DnsHttpApi.RequireUrl(Name, "ArmUrl", settings.GetString("ArmUrl") is { Length: > 0 } a ? a : "https://management.azure.com").ToString().TrimEnd('/');
        _scope = "/subscriptions/" + Uri.EscapeDataString(settings.RequireString("SubscriptionId"))
            + (settings.GetString("ResourceGroup") is { Length: > 0 } rg ? "/resourceGroups/" + Uri.EscapeDataString(rg) : string.Empty);
        _zone = settings.GetString("Zone") is { Length: > 0 } z ? DnsMessage.Normalize(z) : null;
        _ttl = settings.GetInteger("Ttl") ?? 60;
        _api = new DnsHttpApi(Name, options);
        _tokens = new AzureTokenSource(settings, _api);
    }

    public override string Name => "Azure";

    public override async Task<string?> FindZoneAsync(string recordName, CancellationToken cancellationToken) =>
        (await ZoneOfAsync(recordName, cancellationToken).ConfigureAwait(false)).Name;

    protected override Task AddTxtAsync(string recordName, IReadOnlyList<string> values, CancellationToken cancellationToken) =>
        ChangeAsync(recordName, have => have.Concat(values.Where(v => !have.Contains(v))).ToList(), "adding TXT values to", cancellationToken);

    protected override Task RemoveTxtAsync(string recordName, IReadOnlyList<string> values, CancellationToken cancellationToken) =>
        ChangeAsync(recordName, have => have.Where(v => !values.Contains(v)).ToList(), "removing TXT values from", cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _api.Dispose();
        }
    }

    private async Task ChangeAsync(string recordName, Func<List<string>, List<string>> change, string what, CancellationToken cancellationToken)
    {
        (string zone, string zoneId) = await ZoneOfAsync(recordName, cancellationToken).ConfigureAwait(false);
        string name = DnsMessage.Normalize(recordName);
        string relative = name == zone ? "@" : name.Substring(0, name.Length - zone.Length - 1);
        string url = $"{_arm}{zoneId}/TXT/{Uri.EscapeDataString(relative)}?{ApiVersion}";
        for (int attempt = 1; ; attempt++)
        {
            DnsHttpAnswer current = await SendAsync(HttpMethod.Get, url, null, null, cancellationToken).ConfigureAwait(false);
            if (!current.IsSuccess && current.Status != HttpStatusCode.NotFound)
            {
                throw Fail(current, $"reading the TXT record set {relative} of the zone {zone}");
            }

            JsonObject? set = current.IsSuccess ? current.Json() : null;
            string? etag = set?.GetString("etag");
            List<string> have = (set?.GetObject("properties")?.GetArray("TXTRecords") ?? new List<object?>()).OfType<JsonObject>()
                .Select(r => string.Concat(r.GetStringArray("value"))).ToList();
            List<string> want = change(have);
            if (want.SequenceEqual(have))
            {
                return;
            }

            var match = new KeyValuePair<string, string>(etag is null ? "If-None-Match" : "If-Match", etag ?? "*");
            DnsHttpAnswer written = want.Count == 0
                ? await SendAsync(HttpMethod.Delete, url, null, match, cancellationToken).ConfigureAwait(false)
                : await SendAsync(HttpMethod.Put, url, new JsonObject
                {
                    ["properties"] = new JsonObject
                    {
                        ["TTL"] = _ttl,
                        ["TXTRecords"] = want.Select(v => (object?)new JsonObject { ["value"] = new List<object?> { v } }).ToList(),
                    },
                }, match, cancellationToken).ConfigureAwait(false);
            if (written.IsSuccess || (want.Count == 0 && written.Status == HttpStatusCode.NotFound))
            {
                return;
            }

            // 412: the record set changed since it was read (another order's value): read it again.
            if (written.Status != HttpStatusCode.PreconditionFailed || attempt >= 5)
            {
                throw Fail(written, $"{what} {name} in the zone {zone}");
            }
        }
    }

    private async Task<DnsHttpAnswer> SendAsync(HttpMethod method, string url, object? body, KeyValuePair<string, string>? extra, CancellationToken cancellationToken)
    {
        string token = await _tokens.GetAsync(cancellationToken).ConfigureAwait(false);
        var headers = new List<KeyValuePair<string, string>> { new("Authorization", "Bearer " + token) };
        if (extra is { } e)
        {
            headers.Add(e);
        }

        return await _api.SendJsonAsync(method, url, body, headers, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(string Name, string Id)> ZoneOfAsync(string recordName, CancellationToken cancellationToken)
    {
        string name = DnsMessage.Normalize(recordName);
        if (_zones is null)
        {
            var zones = new List<(string Name, string Id)>();
            string? next = $"{_arm}{_scope}/providers/Microsoft.Network/dnszones?{ApiVersion}";
            for (int page = 0; next is not null && page < 100; page++)
            {
                DnsHttpAnswer answer = await SendAsync(HttpMethod.Get, next, null, null, cancellationToken).ConfigureAwait(false);
                if (!answer.IsSuccess)
                {
                    throw Fail(answer, "listing the DNS zones");
                }

                JsonObject? json = answer.Json();
                foreach (JsonObject zone in (json?.GetArray("value") ?? new List<object?>()).OfType<JsonObject>())
                {
                    if (zone.GetString("name") is { } zoneName && zone.GetString("id") is { } id)
                    {
                        zones.Add((DnsMessage.Normalize(zoneName), id));
                    }
                }

                next = json?.GetString("nextLink");
            }

            _zones = zones;
        }

        (string Name, string Id) found = _zones
            .Where(z => _zone is null ? name == z.Name || name.EndsWith("." + z.Name, StringComparison.Ordinal) : z.Name == _zone)
            .OrderByDescending(z => z.Name.Length).FirstOrDefault();
        if (found.Id is null)
        {
            throw new AcmeLocalException(AcmeErrorId.DnsProviderZoneNotFound, (_zone is null ? $"No Azure DNS zone that {name} is in" : $"The Azure DNS zone {_zone}")
                + $" is in {_scope} where the {_tokens.Kind} can see it. The zones there: {(_zones.Count == 0 ? "none" : string.Join(", ", _zones.Select(z => z.Name)))}.");
        }

        if (name != found.Name && !name.EndsWith("." + found.Name, StringComparison.Ordinal))
        {
            throw new AcmeLocalException(AcmeErrorId.DnsProviderZoneNotFound, $"{name} is not in the Azure DNS zone {found.Name}.");
        }

        return found;
    }

    /// <summary>ARM says {"error": {"code", "message"}}: 401 InvalidAuthenticationToken, 403 AuthorizationFailed, 404 SubscriptionNotFound / ResourceGroupNotFound.</summary>
    private AcmeLocalException Fail(DnsHttpAnswer answer, string what)
    {
        JsonObject? error = answer.Json()?.GetObject("error");
        string detail = error is null ? DnsHttpApi.Detail(answer.Body) : $"{error.GetString("code")}: {error.GetString("message")}";
        if (answer.Status == HttpStatusCode.NotFound)
        {
            return new AcmeLocalException(AcmeErrorId.DnsProviderZoneNotFound, $"Azure Resource Manager answered 404 to {what}: {detail}");
        }

        return _api.Fail(answer, what + $" with the {_tokens.Kind}", detail);
    }
}
