using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Errors;
using Acme.Protocol.FileSystem;
using Acme.Protocol.Json;

namespace Acme.Protocol.Challenges.Dns01.Providers;

/// <summary>
/// acme-dns (github.com/joohoi/acme-dns): a small DNS server that serves the TXT record of one
/// subdomain per account. The user delegates <c>_acme-challenge.&lt;name&gt;</c> to the account's
/// <c>fulldomain</c> with a CNAME once; every value then goes to <c>POST /update</c> (X-Api-User,
/// X-Api-Key, {subdomain, txt}). acme-dns keeps the two latest values, so removal is nothing to do.
/// Without credentials, <c>RegistrationPath</c> names a file: read when it exists, otherwise filled by
/// <c>POST /register</c> (owner-only), after which the user must create the CNAME before going on.
/// </summary>
public sealed class AcmeDnsProvider : DnsProvider
{
    public static DnsProviderInfo Info { get; } = new(
        "AcmeDns",
        "acme-dns (joohoi/acme-dns): TXT values posted to the account's subdomain, which _acme-challenge.<name> is a CNAME to.",
        "a local fake of the acme-dns API that checks X-Api-User and X-Api-Key",
        new[]
        {
            new DnsProviderParameter("ApiUrl", DnsProviderParameterType.String, true, "the acme-dns server, e.g. https://auth.acme-dns.io"),
            new DnsProviderParameter("Username", DnsProviderParameterType.String, false, "the account's username (X-Api-User)"),
            new DnsProviderParameter("Password", DnsProviderParameterType.Secret, false, "the account's password (X-Api-Key)"),
            new DnsProviderParameter("Subdomain", DnsProviderParameterType.String, false, "the account's subdomain"),
            new DnsProviderParameter("RegistrationPath", DnsProviderParameterType.String, false,
                "a file with the account (JSON of /register); registered and written there, owner-only, when it does not exist"),
        },
        (settings, options) => new AcmeDnsProvider(settings, options));

    private readonly DnsProviderOptions _options;
    private readonly HttpClient _http;
    private readonly Uri _api;
    private readonly string? _registrationPath;
    private Account? _account;

    private AcmeDnsProvider(DnsProviderSettings settings, DnsProviderOptions options)
    {
        _options = options;
        string api = settings.RequireString("ApiUrl");
        if (!Uri.TryCreate(api.TrimEnd('/') + "/", UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterInvalid, $"The parameter 'ApiUrl' of the DNS provider AcmeDns is not an http(s) URL: '{api}'.");
        }

        _api = uri;
        bool any = settings.Has("Username") || settings.Has("Password") || settings.Has("Subdomain");
        if (any)
        {
            if (!settings.Has("Username") || !settings.Has("Password") || !settings.Has("Subdomain"))
            {
                throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterMissing,
                    "The DNS provider AcmeDns needs all of 'Username', 'Password' and 'Subdomain' (the answer of its /register), or 'RegistrationPath' alone.");
            }

            _account = new Account(settings.RequireString("Username"), settings.RequireString("Password"), settings.RequireString("Subdomain"), null);
        }
        else if (settings.Has("RegistrationPath"))
        {
            _registrationPath = Path.GetFullPath(settings.RequireString("RegistrationPath"));
        }
        else
        {
            throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterMissing,
                "The DNS provider AcmeDns needs an account: 'Username', 'Password' and 'Subdomain', or 'RegistrationPath' (a file to register an account into, or read it from).");
        }

        _http = options.CreateHttpClient();
    }

    public override string Name => "AcmeDns";

    /// <summary>The length of a dns-01 TXT value: base64url of a SHA-256 digest without padding.</summary>
    private const int DigestLength = 43;

    protected override async Task AddTxtAsync(string recordName, IReadOnlyList<string> values, CancellationToken cancellationToken)
    {
        // acme-dns's /update takes exactly the 43-character base64url digest of dns-01 and dns-account-01;
        // a dns-persist-01 record (issuer; accounturi=...) can never be stored there: say so before any request.
        foreach (string value in values)
        {
            if (value.Length != DigestLength)
            {
                throw new AcmeLocalException(AcmeErrorId.DnsProviderUnsupportedRecord,
                    $"acme-dns stores only 43-character dns-01 and dns-account-01 values; the TXT value for {recordName} is {value.Length} characters (a dns-persist-01 record cannot be published through acme-dns).");
            }
        }

        Account account = _account ??= await LoadOrRegisterAsync(recordName, cancellationToken).ConfigureAwait(false);
        foreach (string value in values)
        {
            _options.Log.Verbose($"acme-dns: {recordName} -> {account.Subdomain}{(account.FullDomain is null ? string.Empty : " (" + account.FullDomain + ")")}: posting a TXT value.");
            var body = new JsonObject { ["subdomain"] = account.Subdomain, ["txt"] = value };
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_api, "update"))
            {
                Content = new StringContent(JsonCodec.Serialize(body), Encoding.UTF8, "application/json"),
            };
            request.Headers.TryAddWithoutValidation("X-Api-User", account.Username);
            request.Headers.TryAddWithoutValidation("X-Api-Key", account.Password);
            await SendAsync(request, "update", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>acme-dns keeps the two latest values and has no delete: nothing to do.</summary>
    protected override Task RemoveTxtAsync(string recordName, IReadOnlyList<string> values, CancellationToken cancellationToken) => Task.CompletedTask;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _http.Dispose();
        }
    }

    private async Task<Account> LoadOrRegisterAsync(string recordName, CancellationToken cancellationToken)
    {
        string path = _registrationPath!;
        if (File.Exists(path))
        {
            JsonObject saved;
            try
            {
                saved = JsonCodec.ParseObject(File.ReadAllText(path));
            }
            catch (Exception e) when (e is FormatException || e is IOException || e is UnauthorizedAccessException || e is InvalidOperationException)
            {
                throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterInvalid, $"The acme-dns registration file {path} cannot be read: {e.Message}", e);
            }

            return Account.From(saved) ?? throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterInvalid,
                $"The acme-dns registration file {path} lacks username, password or subdomain.");
        }

        _options.Log.Verbose($"acme-dns: registering an account at {_api}.");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_api, "register")) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        JsonObject answer = await SendAsync(request, "register", cancellationToken).ConfigureAwait(false);
        Account account = Account.From(answer) ?? throw new AcmeLocalException(AcmeErrorId.DnsProviderFailed,
            $"acme-dns at {_api} answered /register without username, password or subdomain.");
        AtomicFile.WriteAllText(path, JsonCodec.Serialize(answer), ownerOnly: true);

        // The CNAME must exist before any value can answer the challenge; nothing was published yet.
        string target = account.FullDomain ?? account.Subdomain;
        throw new AcmeLocalException(AcmeErrorId.DnsProviderSetupRequired,
            $"Registered an acme-dns account at {_api} and saved it to {path} (owner-only). Create the record '{recordName}. CNAME {target}.' "
            + "(and one like it for every other name of the order) at your DNS host, then run again: the saved account is reused.");
    }

    private async Task<JsonObject> SendAsync(HttpRequestMessage request, string what, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        string text;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new AcmeLocalException(AcmeErrorId.DnsProviderUnreachable, $"acme-dns at {_api} did not answer: {e.Message}", e);
        }

        using (response)
        {
            JsonObject? json = null;
            try
            {
                json = text.Length == 0 ? new JsonObject() : JsonCodec.ParseObject(text);
            }
            catch (Exception e) when (e is FormatException || e is InvalidOperationException)
            {
            }

            if (response.IsSuccessStatusCode)
            {
                return json ?? new JsonObject();
            }

            string detail = json?.GetString("error") ?? response.ReasonPhrase ?? "no detail";
            string message = $"acme-dns at {_api} refused /{what}: {(int)response.StatusCode} {detail}";
            throw new AcmeLocalException(response.StatusCode switch
            {
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => AcmeErrorId.DnsProviderAuthenticationFailed,
                HttpStatusCode.BadRequest => AcmeErrorId.DnsProviderRefused,
                _ => AcmeErrorId.DnsProviderFailed,
            }, message);
        }
    }

    private sealed class Account
    {
        public Account(string username, string password, string subdomain, string? fullDomain)
        {
            Username = username;
            Password = password;
            Subdomain = subdomain;
            FullDomain = fullDomain;
        }

        public string Username { get; }

        public string Password { get; }

        public string Subdomain { get; }

        public string? FullDomain { get; }

        public static Account? From(JsonObject json) =>
            json.GetString("username") is { Length: > 0 } user && json.GetString("password") is { Length: > 0 } password && json.GetString("subdomain") is { Length: > 0 } subdomain
                ? new Account(user, password, subdomain, json.GetString("fulldomain"))
                : null;

        public override string ToString() => "AcmeDnsAccount(" + Username + ")";
    }
}
