using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;

namespace Acme.Protocol.Challenges.Dns01.Providers;

/// <summary>
/// Where <see cref="AzureDnsProvider"/> gets its ARM bearer token, the first that is set: a given access
/// token; a service principal with a client secret or a certificate (client credentials grant at the
/// Microsoft identity platform, v2.0 endpoint, scope https://management.azure.com/.default); a managed
/// identity (App Service / Azure Automation's IDENTITY_ENDPOINT and IDENTITY_HEADER, else the VM's IMDS).
/// A token is reused until five minutes before it expires.
/// </summary>
internal sealed class AzureTokenSource
{
    private const string Resource = "https://management.azure.com/";
    private readonly DnsHttpApi _api;
    private readonly DnsProviderSettings _settings;
    private readonly string _authority;
    private readonly string _imds;
    private string? _token;
    private DateTimeOffset _expires;

    public AzureTokenSource(DnsProviderSettings settings, DnsHttpApi api)
    {
        _settings = settings;
        _api = api;
        _authority = DnsHttpApi.RequireUrl("Azure", "AuthorityUrl", settings.GetString("AuthorityUrl") is { Length: > 0 } a ? a : "https://login.microsoftonline.com").ToString().TrimEnd('/');
        _imds = DnsHttpApi.RequireUrl("Azure", "ImdsUrl", settings.GetString("ImdsUrl") is { Length: > 0 } i ? i : "http://169.254.169.254/metadata/identity/oauth2/token").ToString();
        Kind = settings.Has("AccessToken") ? "access token"
            : settings.Has("ClientSecret") ? "service principal (client secret)"
            : settings.Has("ClientCertificatePath") ? "service principal (certificate)"
            : settings.GetBoolean("UseManagedIdentity") ? "managed identity"
            : throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterMissing,
                "The DNS provider Azure needs credentials: 'AccessToken'; or 'TenantId', 'ClientId' and 'ClientSecret' (or 'ClientCertificatePath'); or 'UseManagedIdentity'.");
        if ((Kind.StartsWith("service", StringComparison.Ordinal)) && (!settings.Has("TenantId") || !settings.Has("ClientId")))
        {
            throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterMissing, "The DNS provider Azure needs 'TenantId' and 'ClientId' with a service principal's secret or certificate.");
        }
    }

    /// <summary>Which credentials these are, for messages.</summary>
    public string Kind { get; }

    public async Task<string> GetAsync(CancellationToken cancellationToken)
    {
        if (_token is not null && DateTimeOffset.UtcNow < _expires.AddMinutes(-5))
        {
            return _token;
        }

        if (_settings.GetString("AccessToken") is { Length: > 0 } given)
        {
            (_token, _expires) = (given, DateTimeOffset.MaxValue);
            return given;
        }

        JsonObject answer = Kind.StartsWith("service", StringComparison.Ordinal)
            ? await ClientCredentialsAsync(cancellationToken).ConfigureAwait(false)
            : await ManagedIdentityAsync(cancellationToken).ConfigureAwait(false);
        _token = answer.GetString("access_token") is { Length: > 0 } t ? t
            : throw new AcmeLocalException(AcmeErrorId.DnsProviderAuthenticationFailed, $"The Azure token endpoint's answer for the {Kind} holds no access_token.");
        long? lifetime = answer.GetInt64("expires_in") ?? (long.TryParse(answer.GetString("expires_in"), out long s) ? s : null);
        long? expiresOn = answer.GetInt64("expires_on") ?? (long.TryParse(answer.GetString("expires_on"), out long e) ? e : null);
        _expires = expiresOn is { } on ? DateTimeOffset.FromUnixTimeSeconds(on)
            : DateTimeOffset.UtcNow.AddSeconds(lifetime ?? 300);
        return _token;
    }

    private async Task<JsonObject> ClientCredentialsAsync(CancellationToken cancellationToken)
    {
        string tenant = _settings.RequireString("TenantId");
        string clientId = _settings.RequireString("ClientId");
        string endpoint = $"{_authority}/{Uri.EscapeDataString(tenant)}/oauth2/v2.0/token";
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "client_credentials"),
            new("client_id", clientId),
            new("scope", Resource + ".default"),
        };
        if (_settings.GetString("ClientSecret") is { Length: > 0 } secret)
        {
            form.Add(new("client_secret", secret));
        }
        else
        {
            form.Add(new("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"));
            form.Add(new("client_assertion", ClientAssertion(clientId, endpoint)));
        }

        DnsHttpAnswer answer = await _api.SendAsync(HttpMethod.Post, endpoint, new FormUrlEncodedContent(form), Array.Empty<KeyValuePair<string, string>>(), cancellationToken).ConfigureAwait(false);
        return Token(answer, $"getting a token for the {Kind} {clientId} in the tenant {tenant}");
    }

    private async Task<JsonObject> ManagedIdentityAsync(CancellationToken cancellationToken)
    {
        string? clientId = _settings.GetString("ClientId") is { Length: > 0 } c ? c : null;
        string? endpoint = Environment.GetEnvironmentVariable("IDENTITY_ENDPOINT");
        string? header = Environment.GetEnvironmentVariable("IDENTITY_HEADER");
        bool appService = !_settings.Has("ImdsUrl") && !string.IsNullOrEmpty(endpoint) && !string.IsNullOrEmpty(header);
        string url = appService
            ? $"{endpoint}?api-version=2019-08-01&resource={Uri.EscapeDataString(Resource)}"
            : $"{_imds}?api-version=2018-02-01&resource={Uri.EscapeDataString(Resource)}";
        if (clientId is not null)
        {
            url += "&client_id=" + Uri.EscapeDataString(clientId);
        }

        KeyValuePair<string, string> h = appService ? new("X-IDENTITY-HEADER", header!) : new("Metadata", "true");
        DnsHttpAnswer answer = await _api.SendAsync(HttpMethod.Get, url, null, new[] { h }, cancellationToken).ConfigureAwait(false);
        return Token(answer, $"getting a token for the managed identity{(clientId is null ? string.Empty : " " + clientId)} from {(appService ? "IDENTITY_ENDPOINT" : "the instance metadata service")}");
    }

    /// <summary>The identity platform says {"error": "invalid_client", "error_description": "AADSTS7000215: ..."} with 400 or 401.</summary>
    private JsonObject Token(DnsHttpAnswer answer, string what)
    {
        JsonObject? json = answer.Json();
        if (answer.IsSuccess && json is not null)
        {
            return json;
        }

        string detail = json?.GetString("error") is { } error ? $"{error}: {json.GetString("error_description")}" : DnsHttpApi.Detail(answer.Body);
        if ((int)answer.Status == 400 || (int)answer.Status == 401 || (int)answer.Status == 403)
        {
            return Throw(new AcmeLocalException(AcmeErrorId.DnsProviderAuthenticationFailed, $"Azure refused {what}: {detail}"));
        }

        return Throw(_api.Fail(answer, what, detail));
    }

    private static JsonObject Throw(Exception e) => throw e;

    /// <summary>An RS256 JWT signed with the certificate's key, x5t its SHA-1 thumbprint (the identity platform's "certificate credentials").</summary>
    private string ClientAssertion(string clientId, string audience)
    {
        string path = _settings.RequireString("ClientCertificatePath");
        char[]? password = _settings.GetString("ClientCertificatePassword")?.ToCharArray();
        byte[] certificate;
        AcmeKey key;
        try
        {
            byte[] bytes = File.ReadAllBytes(path);
            string text = Encoding.ASCII.GetString(bytes);
            if (text.Contains("-----BEGIN CERTIFICATE-----"))
            {
                Match cert = Regex.Match(text, "-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", RegexOptions.Singleline);
                certificate = Convert.FromBase64String(Regex.Replace(cert.Groups[1].Value, @"\s", string.Empty));
                Match pem = Regex.Match(text, "-----BEGIN ([A-Z ]*)PRIVATE KEY-----.*?-----END \\1PRIVATE KEY-----", RegexOptions.Singleline);
                key = pem.Success ? AcmeKey.ImportPem(pem.Value, password)
                    : throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterInvalid, $"The PEM file {path} holds no private key; 'ClientCertificatePath' needs the certificate and its key.");
            }
            else
            {
                using var pfx = new X509Certificate2(bytes, password is null ? null : new string(password));
                certificate = pfx.RawData;
                key = AcmeKey.ImportPkcs12(bytes, password);
            }
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is CryptographicException || e is FormatException)
        {
            throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterInvalid, $"The certificate file {path} ('ClientCertificatePath') cannot be read: {e.Message}", e);
        }

        using (key)
        {
            if (key.KeyType != "RSA")
            {
                throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterInvalid, $"The certificate in {path} has an {key.KeyType} key; the identity platform takes RSA certificates.");
            }

            byte[] thumbprint;
            using (SHA1 sha1 = SHA1.Create())
            {
                thumbprint = sha1.ComputeHash(certificate);
            }

            long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            string header = Base64Url.Encode(JsonCodec.Serialize(new JsonObject { ["alg"] = "RS256", ["typ"] = "JWT", ["x5t"] = Base64Url.Encode(thumbprint) }));
            string claims = Base64Url.Encode(JsonCodec.Serialize(new JsonObject
            {
                ["aud"] = audience,
                ["iss"] = clientId,
                ["sub"] = clientId,
                ["jti"] = Guid.NewGuid().ToString(),
                ["nbf"] = now,
                ["iat"] = now,
                ["exp"] = now + 600,
            }));
            string signingInput = header + "." + claims;
            return signingInput + "." + Base64Url.Encode(key.Sign(Encoding.ASCII.GetBytes(signingInput)));
        }
    }
}
