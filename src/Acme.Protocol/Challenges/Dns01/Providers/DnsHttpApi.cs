using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;

namespace Acme.Protocol.Challenges.Dns01.Providers;

/// <summary>One answer of a DNS provider's HTTP API.</summary>
internal sealed class DnsHttpAnswer
{
    public DnsHttpAnswer(HttpStatusCode status, string body)
    {
        Status = status;
        Body = body;
    }

    public HttpStatusCode Status { get; }

    public string Body { get; }

    public bool IsSuccess => (int)Status >= 200 && (int)Status < 300;

    /// <summary>The body as a JSON object, or null when it is not one.</summary>
    public JsonObject? Json()
    {
        try
        {
            return JsonCodec.Parse(Body) as JsonObject;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The body as a JSON array, or null.</summary>
    public List<object?>? JsonArray()
    {
        try
        {
            return JsonCodec.Parse(Body) as List<object?>;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>
/// The HTTP client the API providers (PowerDNS, Cloudflare, Azure) share: one request with a JSON or form
/// body, a connection failure or a timeout as DnsProviderUnreachable, and the usual mapping of an error
/// answer (401 DnsProviderAuthenticationFailed, 403 DnsProviderRefused, else DnsProviderFailed) with the
/// server's own words. Headers that carry secrets are never logged.
/// </summary>
internal sealed class DnsHttpApi : IDisposable
{
    private const int MaxDetail = 400;
    private readonly HttpClient _http;
    private readonly IAcmeLog _log;
    private readonly string _provider;

    public DnsHttpApi(string provider, DnsProviderOptions options)
    {
        _provider = provider;
        _log = options.Log;
        _http = options.CreateHttpClient();
    }

    public Task<DnsHttpAnswer> SendJsonAsync(HttpMethod method, string url, object? body, IEnumerable<KeyValuePair<string, string>> headers, CancellationToken cancellationToken) =>
        SendAsync(method, url, body is null ? null : new StringContent(JsonCodec.Serialize(body), Encoding.UTF8, "application/json"), headers, cancellationToken);

    public async Task<DnsHttpAnswer> SendAsync(HttpMethod method, string url, HttpContent? content, IEnumerable<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, url) { Content = content };
        foreach (KeyValuePair<string, string> header in headers)
        {
            request.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        request.Headers.Accept.ParseAdd("application/json");
        _log.Verbose($"{_provider}: {method} {url}");
        try
        {
            using HttpResponseMessage response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            string text = response.Content is null ? string.Empty : await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            _log.Verbose($"{_provider}: {(int)response.StatusCode} {response.ReasonPhrase}");
            return new DnsHttpAnswer(response.StatusCode, text);
        }
        catch (HttpRequestException e)
        {
            throw new AcmeLocalException(AcmeErrorId.DnsProviderUnreachable,
                $"The {_provider} API at {Origin(url)} could not be reached: {Innermost(e).Message}", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AcmeLocalException(AcmeErrorId.DnsProviderUnreachable,
                $"The {_provider} API at {Origin(url)} did not answer within {_http.Timeout.TotalSeconds:0} seconds.", e);
        }
    }

    /// <summary>The error of an unsuccessful answer: <paramref name="what"/> says what was asked ("listing the zones").</summary>
    public AcmeLocalException Fail(DnsHttpAnswer answer, string what, string? detail = null)
    {
        detail ??= Detail(answer.Body);
        string message = $"The {_provider} API answered {(int)answer.Status} {answer.Status} to {what}" + (detail.Length > 0 ? ": " + detail : ".");
        AcmeErrorId id = answer.Status switch
        {
            HttpStatusCode.Unauthorized => AcmeErrorId.DnsProviderAuthenticationFailed,
            HttpStatusCode.Forbidden => AcmeErrorId.DnsProviderRefused,
            _ => AcmeErrorId.DnsProviderFailed,
        };
        return new AcmeLocalException(id, message);
    }

    /// <summary>The server's words, shortened and on one line.</summary>
    public static string Detail(string body)
    {
        string text = body.Replace('\r', ' ').Replace('\n', ' ').Trim();
        return text.Length > MaxDetail ? text.Substring(0, MaxDetail) + "..." : text;
    }

    public static string Origin(string url) => Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) ? uri.GetLeftPart(UriPartial.Authority) : "(invalid address)";

    public static Uri RequireUrl(string provider, string parameter, string value)
    {
        if (!Uri.TryCreate(value.TrimEnd('/'), UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterInvalid,
                $"The parameter '{parameter}' of the DNS provider {provider} must be an http or https address; '{value}' is not.");
        }

        return uri;
    }

    public void Dispose() => _http.Dispose();

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }
}
