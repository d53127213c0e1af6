using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using System.Web;

namespace Acme.TestKit;

/// <summary>
/// A local fake of what the Azure DNS provider talks to: the identity platform's token endpoint
/// (POST /{tenant}/oauth2/v2.0/token, client credentials with a secret or an RS256 client assertion
/// signed by a registered certificate, x5t its SHA-1 thumbprint), the instance metadata service
/// (GET /metadata/identity/oauth2/token with "Metadata: true"), and Resource Manager's DNS API at
/// api-version 2018-05-01 (listing dnszones of a subscription or resource group; TXT record sets with
/// GET, PUT and DELETE, etags and If-Match / If-None-Match). ARM takes only a bearer token this fake
/// issued (401 InvalidAuthenticationToken otherwise), refuses writes to a zone the principal may only
/// read (403 AuthorizationFailed), and answers in ARM's shapes ({"value": [...]}, {"error": {code, message}}).
/// </summary>
public sealed class AzureDnsFake : CloudDnsFake
{
    private const string ApiVersion = "2018-05-01";
    private readonly HashSet<string> _tokens = new(StringComparer.Ordinal);
    private readonly List<(string ResourceGroup, string Name, bool ReadOnly)> _zones = new();
    private readonly Dictionary<string, (int Ttl, List<string> Values, string Etag)> _sets = new(StringComparer.OrdinalIgnoreCase);
    private X509Certificate2? _certificate;
    private (string Name, string Value)? _interleave;

    public AzureDnsFake()
    {
        SubscriptionId = Guid.NewGuid().ToString();
        TenantId = Guid.NewGuid().ToString();
        ClientId = Guid.NewGuid().ToString();
        ClientSecret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(30));
    }

    public string SubscriptionId { get; }

    public string TenantId { get; }

    public string ClientId { get; }

    public string ClientSecret { get; }

    public string ArmUrl => Url;

    public string AuthorityUrl => Url + "/login";

    public string ImdsUrl => Url + "/metadata/identity/oauth2/token";

    /// <summary>App Service / Azure Automation's managed identity endpoint (IDENTITY_ENDPOINT), which wants X-IDENTITY-HEADER equal to <see cref="IdentityHeader"/>.</summary>
    public string IdentityEndpoint => Url + "/msi/token";

    public string IdentityHeader { get; } = Guid.NewGuid().ToString("N");

    /// <summary>The tokens issued so far (the provider must send one of them, and no test stream may show one).</summary>
    public string[] IssuedTokens
    {
        get
        {
            lock (Sync)
            {
                return _tokens.ToArray();
            }
        }
    }

    public void AddZone(string resourceGroup, string name, bool readOnly = false)
    {
        lock (Sync)
        {
            _zones.Add((resourceGroup, name.ToLowerInvariant(), readOnly));
        }
    }

    /// <summary>A token ARM takes, as if from Get-AzAccessToken.</summary>
    public string IssueToken()
    {
        lock (Sync)
        {
            string token = "eyJ0eXAiOiJKV1QifQ." + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_') + ".fake";
            _tokens.Add(token);
            return token;
        }
    }

    /// <summary>Another writer adds <paramref name="value"/> at <paramref name="fqdn"/> just before the next write there, after the client read the set: its etag no longer matches.</summary>
    public void ChangeBeforeNextWrite(string fqdn, string value)
    {
        lock (Sync)
        {
            _interleave = (fqdn.TrimEnd('.').ToLowerInvariant(), value);
        }
    }

    /// <summary>Registers a certificate on the service principal (its public part), as "Certificates &amp; secrets" does.</summary>
    public void RegisterCertificate(byte[] der) => _certificate = X509CertificateLoader.LoadCertificate(der);

    protected override (int Status, JsonNode? Body) Handle(string method, Uri url, NameValueHeaders headers, string body)
    {
        string path = url.AbsolutePath;
        var query = HttpUtility.ParseQueryString(url.Query);
        if (path.StartsWith("/login/", StringComparison.Ordinal))
        {
            return TokenEndpoint(method, url, path, body);
        }

        if (path == "/msi/token")
        {
            if (headers.Get("X-IDENTITY-HEADER") != IdentityHeader || query["api-version"] != "2019-08-01" || query["resource"] != "https://management.azure.com/")
            {
                return (400, new JsonObject { ["statusCode"] = 400, ["message"] = "The X-IDENTITY-HEADER, api-version 2019-08-01 or resource is missing or wrong." });
            }

            return (200, new JsonObject
            {
                ["access_token"] = IssueToken(),
                ["expires_on"] = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeSeconds().ToString(),
                ["resource"] = "https://management.azure.com/",
                ["token_type"] = "Bearer",
                ["client_id"] = ClientId,
            });
        }

        if (path == "/metadata/identity/oauth2/token")
        {
            if (headers.Get("Metadata") != "true")
            {
                return (400, new JsonObject { ["error"] = "invalid_request", ["error_description"] = "Required metadata header not specified" });
            }

            if (query["resource"] != "https://management.azure.com/" || query["api-version"] is null)
            {
                return (400, new JsonObject { ["error"] = "invalid_resource", ["error_description"] = "AADSTS500011: The resource principal was not found." });
            }

            return (200, new JsonObject
            {
                ["access_token"] = IssueToken(),
                ["expires_in"] = "86399",
                ["expires_on"] = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeSeconds().ToString(),
                ["resource"] = "https://management.azure.com/",
                ["token_type"] = "Bearer",
            });
        }

        string? auth = headers.Get("Authorization");
        if (auth is null)
        {
            return ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.");
        }

        lock (Sync)
        {
            if (!auth.StartsWith("Bearer ", StringComparison.Ordinal) || !_tokens.Contains(auth.Substring(7)))
            {
                return ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.");
            }
        }

        if (query["api-version"] != ApiVersion)
        {
            return ArmError(400, "InvalidApiVersionParameter", $"The api-version '{query["api-version"]}' is invalid. The fake takes '{ApiVersion}'.");
        }

        string[] p = path.Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
        if (p.Length < 2 || !p[0].Equals("subscriptions", StringComparison.OrdinalIgnoreCase) || p[1] != SubscriptionId)
        {
            return ArmError(404, "SubscriptionNotFound", $"The subscription '{(p.Length > 1 ? p[1] : string.Empty)}' could not be found.");
        }

        lock (Sync)
        {
            // /subscriptions/{s}[/resourceGroups/{rg}]/providers/Microsoft.Network/dnszones
            string? rg = p.Length > 3 && p[2].Equals("resourceGroups", StringComparison.OrdinalIgnoreCase) ? p[3] : null;
            int at = rg is null ? 2 : 4;
            if (rg is not null && !_zones.Any(z => z.ResourceGroup.Equals(rg, StringComparison.OrdinalIgnoreCase)))
            {
                return ArmError(404, "ResourceGroupNotFound", $"Resource group '{rg}' could not be found.");
            }

            if (p.Length < at + 3 || !p[at].Equals("providers", StringComparison.OrdinalIgnoreCase) || !p[at + 1].Equals("Microsoft.Network", StringComparison.OrdinalIgnoreCase)
                || !p[at + 2].Equals("dnszones", StringComparison.OrdinalIgnoreCase))
            {
                return ArmError(400, "InvalidResourceType", "The resource type could not be found in the namespace.");
            }

            if (p.Length == at + 3 && method == "GET")
            {
                var value = new JsonArray();
                foreach (var z in _zones.Where(z => rg is null || z.ResourceGroup.Equals(rg, StringComparison.OrdinalIgnoreCase)))
                {
                    value.Add(new JsonObject
                    {
                        ["id"] = ZoneId(z.ResourceGroup, z.Name),
                        ["name"] = z.Name,
                        ["type"] = "Microsoft.Network/dnszones",
                        ["location"] = "global",
                        ["properties"] = new JsonObject { ["zoneType"] = "Public", ["nameServers"] = new JsonArray("ns1-01.azure-dns.com.") },
                    });
                }

                return (200, new JsonObject { ["value"] = value });
            }

            if (rg is null || p.Length != at + 6 || !p[at + 4].Equals("TXT", StringComparison.Ordinal))
            {
                return ArmError(400, "InvalidRequestUri", "The request URI is not one of the fake's.");
            }

            var zone = _zones.FirstOrDefault(z => z.ResourceGroup.Equals(rg, StringComparison.OrdinalIgnoreCase) && z.Name.Equals(p[at + 3], StringComparison.OrdinalIgnoreCase));
            if (zone.Name is null)
            {
                return ArmError(404, "ParentResourceNotFound", $"Can not perform requested operation on nested resource. Parent resource '{p[at + 3]}' not found.");
            }

            string relative = p[at + 5].ToLowerInvariant();
            string fqdn = relative == "@" ? zone.Name : relative + "." + zone.Name;
            string key = zone.Name + "/" + relative;
            bool exists = _sets.TryGetValue(key, out var set);
            string setId = ZoneId(zone.ResourceGroup, zone.Name) + "/TXT/" + relative;
            if (method == "GET")
            {
                return exists ? (200, RecordSet(setId, relative, fqdn, set)) : ArmError(404, "NotFound", $"The resource record '{relative}' does not exist in resource group '{rg}' of subscription '{SubscriptionId}'.");
            }

            if (zone.ReadOnly && (method == "PUT" || method == "PATCH" || method == "DELETE"))
            {
                return ArmError(403, "AuthorizationFailed", $"The client '{ClientId}' with object id '{ClientId}' does not have authorization to perform action 'Microsoft.Network/dnszones/TXT/{(method == "DELETE" ? "delete" : "write")}' over scope '{setId}' or the scope is invalid.");
            }

            if (_interleave is { } other && other.Name == fqdn && method != "GET")
            {
                _interleave = null;
                var changed = (exists ? set.Ttl : 60, (exists ? set.Values : new List<string>()).Append(other.Value).ToList(), Guid.NewGuid().ToString());
                _sets[key] = changed;
                (exists, set) = (true, changed);
                SetTxt(fqdn, changed.Item2);
            }

            string? ifMatch = headers.Get("If-Match");
            if ((ifMatch is not null && (!exists || ifMatch != set.Etag)) || (headers.Get("If-None-Match") == "*" && exists))
            {
                return ArmError(412, "PreconditionFailed", "The Precondition Failed: the etag does not match the record set's.");
            }

            if (method == "DELETE")
            {
                if (!exists)
                {
                    return (204, null);
                }

                _sets.Remove(key);
                SetTxt(fqdn, Array.Empty<string>());
                return (200, null);
            }

            if (method != "PUT")
            {
                return ArmError(405, "MethodNotAllowed", "The fake takes GET, PUT and DELETE on record sets.");
            }

            JsonObject? properties = (ParseJson(body) as JsonObject)?["properties"] as JsonObject;
            int? ttl = properties?["TTL"]?.GetValue<int>();
            if (properties?["TXTRecords"] is not JsonArray records || ttl is null || ttl < 1
                || records.Any(r => r?["value"] is not JsonArray v || v.Count == 0 || v.Any(x => x is null || x.GetValue<string>().Length > 1024)))
            {
                return ArmError(400, "BadRequest", "The record set's properties need TTL and TXTRecords, each with a value array of strings.");
            }

            List<string> values = records.Select(r => string.Concat(((JsonArray)r!["value"]!).Select(x => x!.GetValue<string>()))).ToList();
            var stored = (ttl.Value, values, Guid.NewGuid().ToString());
            _sets[key] = stored;
            SetTxt(fqdn, values);
            return (exists ? 200 : 201, RecordSet(setId, relative, fqdn, stored));
        }
    }

    private (int, JsonNode?) TokenEndpoint(string method, Uri url, string path, string body)
    {
        string[] p = path.Trim('/').Split('/');
        if (method != "POST" || p.Length != 5 || p[2] != "oauth2" || p[3] != "v2.0" || p[4] != "token")
        {
            return (404, null);
        }

        if (p[1] != TenantId)
        {
            return (400, AadError("invalid_request", $"AADSTS90002: Tenant '{p[1]}' not found."));
        }

        var form = HttpUtility.ParseQueryString(body);
        if (form["grant_type"] != "client_credentials" || form["scope"] != "https://management.azure.com/.default")
        {
            return (400, AadError("invalid_scope", "AADSTS70011: The provided request must include a 'scope' input parameter."));
        }

        if (form["client_id"] != ClientId)
        {
            return (400, AadError("unauthorized_client", $"AADSTS700016: Application with identifier '{form["client_id"]}' was not found in the directory."));
        }

        bool good = form["client_secret"] is { } secret
            ? secret == ClientSecret
            : form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" && AssertionIsValid(form["client_assertion"], url.GetLeftPart(UriPartial.Path));
        if (!good)
        {
            return (401, AadError("invalid_client", form["client_secret"] is null
                ? "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application, or the assertion is invalid."
                : $"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{ClientId}'."));
        }

        return (200, new JsonObject { ["token_type"] = "Bearer", ["expires_in"] = 3599, ["ext_expires_in"] = 3599, ["access_token"] = IssueToken() });
    }

    private bool AssertionIsValid(string? jwt, string audience)
    {
        string[] parts = jwt?.Split('.') ?? Array.Empty<string>();
        if (parts.Length != 3 || _certificate is null)
        {
            return false;
        }

        JsonObject? header = ParseJson(Encoding.UTF8.GetString(Base64UrlDecode(parts[0]))) as JsonObject;
        JsonObject? claims = ParseJson(Encoding.UTF8.GetString(Base64UrlDecode(parts[1]))) as JsonObject;
        string x5t = Convert.ToBase64String(SHA1.HashData(_certificate.RawData)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using RSA? rsa = _certificate.GetRSAPublicKey();
        return header?["alg"]?.GetValue<string>() == "RS256" && header["x5t"]?.GetValue<string>() == x5t
            && claims?["aud"]?.GetValue<string>() == audience && claims["iss"]?.GetValue<string>() == ClientId && claims["sub"]?.GetValue<string>() == ClientId
            && claims["exp"]?.GetValue<long>() > now && claims["nbf"]?.GetValue<long>() <= now + 60 && claims["jti"] is not null
            && rsa is not null && rsa.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64UrlDecode(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    }

    private string ZoneId(string resourceGroup, string zone) =>
        $"/subscriptions/{SubscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.Network/dnszones/{zone}";

    private static JsonObject RecordSet(string id, string relative, string fqdn, (int Ttl, List<string> Values, string Etag) set) => new()
    {
        ["id"] = id,
        ["name"] = relative,
        ["type"] = "Microsoft.Network/dnszones/TXT",
        ["etag"] = set.Etag,
        ["properties"] = new JsonObject
        {
            ["TTL"] = set.Ttl,
            ["fqdn"] = fqdn + ".",
            ["provisioningState"] = "Succeeded",
            ["TXTRecords"] = new JsonArray(set.Values.Select(v => (JsonNode)new JsonObject { ["value"] = new JsonArray(v) }).ToArray()),
        },
    };

    private static (int, JsonNode?) ArmError(int status, string code, string message) => (status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } });

    private static JsonObject AadError(string error, string description) =>
        new() { ["error"] = error, ["error_description"] = description, ["error_codes"] = new JsonArray(), ["timestamp"] = DateTime.UtcNow.ToString("u") };

    private static byte[] Base64UrlDecode(string text)
    {
        string s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }
}
