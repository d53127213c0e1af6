using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Crypto;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;
using Acme.Protocol.Model;

namespace Acme.Protocol.Transport;

/// <summary>
/// One HTTP connection to one ACME directory: the HttpClient (kept alive), the nonce pool fed by
/// every response, the cached directory and the request counter. Shared by every account and order
/// on that directory, and safe to use from several threads at once.
/// </summary>
public sealed class AcmeConnection : IDisposable
{
    /// <summary>Responses larger than this are refused: no ACME resource comes close, and reads stay bounded.</summary>
    public const int MaxResponseBytes = 1024 * 1024;

    /// <summary>
    /// How many times a badNonce is retried with a fresh nonce. RFC 8555 section 6.5: "On receiving
    /// such a response, a client SHOULD retry the request using the new nonce". Pebble rejects 5% of
    /// good nonces on purpose; with 20 retries even a 50% rejection rate fails about once per two
    /// million requests, and a CA that rejects every nonce still ends in AcmeBadNonce within 21 round trips.
    /// </summary>
    public const int MaxBadNonceRetries = 20;

    /// <summary>How many times an idempotent read is retried after a 5xx or a dropped connection.</summary>
    public const int MaxReadRetries = 3;

    /// <summary>
    /// The longest server-requested pause (Retry-After on a 5xx) a read is retried after. A server
    /// that asks for more is not hammered: the request fails at once with the time it named.
    /// </summary>
    public static readonly TimeSpan MaxTransientWait = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest Retry-After on a rateLimited answer that is waited out automatically. RFC 8555
    /// section 6.6: the server "MUST return an HTTP 429 (Too Many Requests) response, with a problem
    /// document of type 'rateLimited'" and "The server may ... include a Retry-After header field
    /// indicating a time after which the client may retry". The request was refused, not acted on, so
    /// repeating it is safe even for a POST that changes state; a longer or missing Retry-After ends
    /// the request in AcmeRateLimited carrying the time to come back.
    /// </summary>
    public static readonly TimeSpan MaxRateLimitWait = TimeSpan.FromSeconds(10);

    /// <summary>How many short rateLimited answers one request waits out before it gives up.</summary>
    public const int MaxRateLimitRetries = 2;

    private const string JoseContentType = "application/jose+json";
    private const int MaxTracedChars = 4096;

    private static readonly ConcurrentDictionary<string, Lazy<AcmeConnection>> s_connections = new(StringComparer.Ordinal);
    private static long s_totalRequests;

    private readonly HttpClient _http;
    private readonly ConcurrentStack<string> _nonces = new();
    private readonly object _directoryLock = new();
    private Task<AcmeDirectory>? _directory;
    private long _requests;

    internal AcmeConnection(AcmeServer server, HttpMessageHandler? handler = null)
    {
        Server = server;
        _http = new HttpClient(handler ?? CreateHandler(server), disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        // "ACME clients MUST send a User-Agent header field" (RFC 8555 section 6.1).
        _http.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
    }

    public AcmeServer Server { get; }

    /// <summary>
    /// How long one request may take before it fails with a timeout. A fixed per-request limit of the
    /// connection, apart from the cmdlets' -TimeoutSec, which bounds a whole poll.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How the connection sleeps before a retry; tests replace it to record the waits without sleeping them.</summary>
    internal Func<TimeSpan, CancellationToken, Task> Delay { get; set; } = Task.Delay;

    /// <summary>Requests this connection has sent, counting retries.</summary>
    public long RequestCount => Interlocked.Read(ref _requests);

    /// <summary>Requests every connection in this process has sent, counting retries.</summary>
    public static long TotalRequestCount => Interlocked.Read(ref s_totalRequests);

    internal static string UserAgent { get; } = BuildUserAgent();

    /// <summary>The shared connection for a server, created on first use.</summary>
    public static AcmeConnection Get(AcmeServer server)
    {
        if (server is null)
        {
            throw new ArgumentNullException(nameof(server));
        }

        return s_connections.GetOrAdd(server.ConnectionKey, _ => new Lazy<AcmeConnection>(() => new AcmeConnection(server))).Value;
    }

    /// <summary>Installs a connection with its own handler (the xunit tests' fake CA uses this).</summary>
    internal static AcmeConnection Register(AcmeServer server, HttpMessageHandler handler)
    {
        var connection = new AcmeConnection(server, handler);
        s_connections[server.ConnectionKey] = new Lazy<AcmeConnection>(() => connection);
        return connection;
    }

    /// <summary>The directory, fetched once per connection; a failed fetch is retried on the next call.</summary>
    public Task<AcmeDirectory> GetDirectoryAsync(IAcmeLog log, CancellationToken cancellationToken = default)
    {
        lock (_directoryLock)
        {
            if (_directory is null || _directory.IsFaulted || _directory.IsCanceled)
            {
                _directory = FetchDirectoryAsync(log, cancellationToken);
            }

            return _directory;
        }
    }

    /// <summary>Forgets the cached directory, so the next call fetches it again.</summary>
    public void RefreshDirectory()
    {
        lock (_directoryLock)
        {
            _directory = null;
        }
    }

    private async Task<AcmeDirectory> FetchDirectoryAsync(IAcmeLog log, CancellationToken cancellationToken)
    {
        AcmeResponse response = await GetAsync(Server.DirectoryUrl, log, cancellationToken).ConfigureAwait(false);
        return AcmeDirectory.FromJson(Server.DirectoryUrl, response.Json);
    }

    /// <summary>An unsigned GET (the directory, renewalInfo), retried after a 5xx or a dropped connection.</summary>
    internal async Task<AcmeResponse> GetAsync(Uri url, IAcmeLog log, CancellationToken cancellationToken)
    {
        int failures = 0;
        int rateLimits = 0;
        while (true)
        {
            try
            {
                AcmeResponse response = await SendAsync(HttpMethod.Get, url, null, log, failures + rateLimits, cancellationToken).ConfigureAwait(false);
                ThrowIfProblem(response);
                return response;
            }
            catch (AcmeRateLimitedException e) when (rateLimits < MaxRateLimitRetries && IsShortRateLimit(e))
            {
                rateLimits++;
                await WaitOutRateLimitAsync(e, url, log, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (failures < MaxReadRetries && IsTransient(e, out TimeSpan? wait))
            {
                await DelayBeforeRetryAsync(failures, wait, log, url, e, cancellationToken).ConfigureAwait(false);
                failures++;
            }
        }
    }

    /// <summary>
    /// A signed POST. badNonce is retried with the nonce the error carried (RFC 8555 section 6.5).
    /// A POST-as-GET (<paramref name="payload"/> null) is a read and is also retried after a 5xx or a
    /// dropped connection, with a new nonce and signature; a POST that changes state never is, since
    /// the server may have acted on it. A short rateLimited answer is waited out (see <see cref="MaxRateLimitWait"/>).
    /// </summary>
    internal async Task<AcmeResponse> PostAsync(Uri url, object? payload, AcmeKey key, Uri? kid, IAcmeLog log,
        CancellationToken cancellationToken)
    {
        int badNonces = 0;
        int failures = 0;
        int rateLimits = 0;
        while (true)
        {
            string nonce = await TakeNonceAsync(log, cancellationToken).ConfigureAwait(false);
            string body = JwsBuilder.Sign(key, url, nonce, kid, payload);
            if (log.IsDebugEnabled)
            {
                log.Debug($"POST {url.AbsoluteUri} payload: {(payload is null ? "(empty: POST-as-GET)" : Redact(JsonCodec.Serialize(payload)))}");
            }

            AcmeResponse response;
            try
            {
                response = await SendAsync(HttpMethod.Post, url, body, log, badNonces + failures + rateLimits, cancellationToken).ConfigureAwait(false);
                ThrowIfProblem(response);
                return response;
            }
            catch (AcmeBadNonceException) when (badNonces < MaxBadNonceRetries)
            {
                badNonces++;
            }
            catch (AcmeRateLimitedException e) when (rateLimits < MaxRateLimitRetries && IsShortRateLimit(e))
            {
                rateLimits++;
                await WaitOutRateLimitAsync(e, url, log, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (payload is null && failures < MaxReadRetries && IsTransient(e, out TimeSpan? wait))
            {
                await DelayBeforeRetryAsync(failures, wait, log, url, e, cancellationToken).ConfigureAwait(false);
                failures++;
            }
        }
    }

    /// <summary>HEAD newNonce (RFC 8555 section 7.2), only when no response has left a nonce to use.</summary>
    private async Task<string> TakeNonceAsync(IAcmeLog log, CancellationToken cancellationToken)
    {
        if (_nonces.TryPop(out string? nonce))
        {
            return nonce;
        }

        AcmeDirectory directory = await GetDirectoryAsync(log, cancellationToken).ConfigureAwait(false);
        if (_nonces.TryPop(out nonce))
        {
            // Fetching the directory may itself have left a nonce.
            return nonce;
        }

        int failures = 0;
        int rateLimits = 0;
        while (true)
        {
            try
            {
                AcmeResponse response = await SendAsync(HttpMethod.Head, directory.NewNonce, null, log, failures + rateLimits, cancellationToken).ConfigureAwait(false);
                if ((int)response.StatusCode >= 400)
                {
                    ThrowIfProblem(response);
                }

                if (response.ReplayNonce is string fresh)
                {
                    return fresh;
                }

                throw new AcmeProtocolException($"HEAD {directory.NewNonce} answered without a Replay-Nonce header.");
            }
            catch (AcmeRateLimitedException e) when (rateLimits < MaxRateLimitRetries && IsShortRateLimit(e))
            {
                rateLimits++;
                await WaitOutRateLimitAsync(e, directory.NewNonce, log, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (failures < MaxReadRetries && IsTransient(e, out TimeSpan? wait))
            {
                await DelayBeforeRetryAsync(failures, wait, log, directory.NewNonce, e, cancellationToken).ConfigureAwait(false);
                failures++;
            }
        }
    }

    private async Task<AcmeResponse> SendAsync(HttpMethod method, Uri url, string? jws, IAcmeLog log, int retry,
        CancellationToken cancellationToken)
    {
        if (url.Scheme != Uri.UriSchemeHttps)
        {
            // A URL from the server (directory, order, Location) that is not https is never requested:
            // "Each ACME function is accomplished by the client sending a sequence of HTTPS requests" (RFC 8555 section 6.1).
            throw new AcmeProtocolException($"The server pointed to {url.AbsoluteUri}, which is not an https URL; ACME is spoken over HTTPS only, so it was not requested.");
        }

        using var request = new HttpRequestMessage(method, url);
        if (jws is not null)
        {
            request.Content = new StringContent(jws, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(JoseContentType);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        var stopwatch = Stopwatch.StartNew();
        Interlocked.Increment(ref _requests);
        Interlocked.Increment(ref s_totalRequests);
        try
        {
            using HttpResponseMessage message = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token)
                .ConfigureAwait(false);

            // "The server MUST include a Replay-Nonce header field in every successful response to a
            // POST request and SHOULD provide it in error responses as well" (RFC 8555 section 6.5).
            // The nonce a HEAD newNonce fetched is handed straight to the request waiting for it, not to
            // the shared pool, where another thread could take it first.
            string? replayNonce = null;
            if (message.Headers.TryGetValues("Replay-Nonce", out IEnumerable<string>? nonces))
            {
                foreach (string n in nonces)
                {
                    if (!IsValidNonce(n))
                    {
                        continue;
                    }

                    if (method == HttpMethod.Head && replayNonce is null)
                    {
                        replayNonce = n;
                    }
                    else
                    {
                        _nonces.Push(n);
                    }
                }
            }

            byte[] body = await ReadBoundedAsync(message, url, timeout.Token).ConfigureAwait(false);
            stopwatch.Stop();
            string retryText = retry == 0 ? string.Empty : retry == 1 ? ", 1 retry" : $", {retry} retries";
            log.Verbose($"{method.Method} {url.AbsoluteUri} -> {(int)message.StatusCode} {message.ReasonPhrase} ({stopwatch.ElapsedMilliseconds} ms{retryText})");

            var response = new AcmeResponse(method.Method, url, message.StatusCode, message.Content?.Headers.ContentType?.MediaType, body,
                message.Headers.Location is Uri location ? (location.IsAbsoluteUri ? location : new Uri(url, location)) : null,
                AcmeHeaders.ParseRetryAfter(message.Headers.TryGetValues("Retry-After", out IEnumerable<string>? ra) ? ra.FirstOrDefault() : null, DateTimeOffset.UtcNow),
                message.Headers.TryGetValues("Link", out IEnumerable<string>? links) ? AcmeHeaders.ParseLinks(links, url) : Array.Empty<KeyValuePair<string, Uri>>())
            {
                ReplayNonce = replayNonce,
            };
            if (log.IsDebugEnabled && body.Length > 0)
            {
                log.Debug($"{method.Method} {url.AbsoluteUri} response ({response.ContentType}): {CaText.Clean(Redact(response.Text), 2 * MaxTracedChars)}");
            }

            int status = (int)message.StatusCode;
            if (status >= 300 && status < 400)
            {
                // A redirect is never followed: a signed request must reach the URL in its "url" header.
                throw new AcmeProtocolException($"{method.Method} {url.AbsoluteUri} answered with a redirect ({status}) to " +
                    $"{response.Location?.AbsoluteUri ?? "(no location)"}; ACME servers do not redirect, so it was not followed.");
            }

            return response;
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AcmeTimeoutException($"{method.Method} {url.AbsoluteUri} did not answer within {RequestTimeout.TotalSeconds:0.###} seconds " +
                "(the per-request timeout, which -TimeoutSec does not change).", RequestTimeout, e);
        }
        catch (HttpRequestException e)
        {
            throw new AcmeConnectionException($"{method.Method} {url.AbsoluteUri} failed: {Flatten(e)}", e);
        }
        catch (IOException e)
        {
            throw new AcmeConnectionException($"{method.Method} {url.AbsoluteUri} failed while reading the answer: {Flatten(e)}", e);
        }
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpResponseMessage message, Uri url, CancellationToken cancellationToken)
    {
        if (message.Content is null)
        {
            return Array.Empty<byte>();
        }

        if (message.Content.Headers.ContentLength is long declared && declared > MaxResponseBytes)
        {
            throw new AcmeProtocolException($"{url.AbsoluteUri} answered with {declared} bytes, more than the {MaxResponseBytes} an ACME response may have.");
        }

        using Stream stream = await message.Content.ReadAsStreamAsync().ConfigureAwait(false);
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[16 * 1024];
        while (true)
        {
            int read = await stream.ReadAsync(chunk, 0, chunk.Length, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            if (buffer.Length + read > MaxResponseBytes)
            {
                throw new AcmeProtocolException($"{url.AbsoluteUri} answered with more than the {MaxResponseBytes} bytes an ACME response may have.");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static void ThrowIfProblem(AcmeResponse response)
    {
        int status = (int)response.StatusCode;
        if (status < 400)
        {
            return;
        }

        AcmeProblem problem;
        JsonObject? json = null;
        try
        {
            json = JsonCodec.Parse(response.Text) as JsonObject;
        }
        catch (FormatException)
        {
        }

        if (json is not null && json.GetString("type") is not null)
        {
            problem = AcmeProblem.FromJson(json);
        }
        else
        {
            string text = response.Text;
            // A 429 means rateLimited even without its problem document (a HEAD answer has no body).
            problem = new AcmeProblem(status == 429 ? AcmeProblemTypes.RateLimited : "about:blank",
                $"HTTP {status} {response.StatusCode} without a problem document" + (text.Length == 0 ? "." : ": " + Shorten(text)));
        }

        problem.Status ??= status;
        problem.RequestMethod = response.Method;
        problem.RequestUri = response.RequestUri;
        if (problem.Type == "about:blank" && status >= 500)
        {
            throw new AcmeServerException(problem, response.RetryAfter);
        }

        throw AcmeProblemException.Create(problem, response.RetryAfter);
    }

    private static bool IsTransient(Exception e, out TimeSpan? wait)
    {
        wait = null;
        switch (e)
        {
            case AcmeProblemException p when p is AcmeServerException || p.Problem.Type == AcmeProblemTypes.ServerInternal || p.Problem.Status >= 500:
                // Retry-After counts with or without a problem document: a server that asks for a long
                // pause gets it, and the caller hears when to come back (the exception carries the time).
                wait = p.RetryAfter;
                return wait is null || wait <= MaxTransientWait;
            case AcmeConnectionException c:
                // A TLS certificate that does not validate will not validate on a retry either.
                for (Exception? inner = c.InnerException; inner is not null; inner = inner.InnerException)
                {
                    if (inner is AuthenticationException)
                    {
                        return false;
                    }
                }

                return true;
            default:
                return false;
        }
    }

    private static bool IsShortRateLimit(AcmeRateLimitedException e) => e.RetryAfter is TimeSpan wait && wait <= MaxRateLimitWait;

    private async Task WaitOutRateLimitAsync(AcmeRateLimitedException e, Uri url, IAcmeLog log, CancellationToken cancellationToken)
    {
        TimeSpan wait = e.RetryAfter ?? TimeSpan.Zero;
        log.Verbose($"Rate limited on {url.AbsoluteUri}; waiting {wait.TotalSeconds:0.0} s as the CA asked (Retry-After), then retrying: {e.Problem.Describe()}");
        await Delay(wait, cancellationToken).ConfigureAwait(false);
    }

    private async Task DelayBeforeRetryAsync(int attempt, TimeSpan? retryAfter, IAcmeLog log, Uri url, Exception e,
        CancellationToken cancellationToken)
    {
        // Back off 0.5 s, 1 s, 2 s, or as the server asked, but never longer than 30 s for one retry.
        TimeSpan delay = retryAfter ?? TimeSpan.FromMilliseconds(500 * Math.Pow(2, attempt));
        if (delay > TimeSpan.FromSeconds(30))
        {
            delay = TimeSpan.FromSeconds(30);
        }

        log.Verbose($"Retrying {url.AbsoluteUri} in {delay.TotalSeconds:0.0} s{(retryAfter is null ? string.Empty : " as the server asked (Retry-After)")} after: {e.Message}");
        await Delay(delay, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Replay-Nonce is base64url (RFC 8555 section 6.5.1); anything else is dropped, not echoed back.</summary>
    private static bool IsValidNonce(string nonce) => nonce.Length > 0 && nonce.Length <= 512 && AcmeChallenge.IsValidToken(nonce);

    /// <summary>Blanks JWS signatures and binding MACs in traced bodies; they are not secret, but they are noise.</summary>
    internal static string Redact(string json)
    {
        var sb = new StringBuilder(json);
        foreach (string field in new[] { "\"signature\":\"", "\"protected\":\"" })
        {
            int pos = 0;
            string current = sb.ToString();
            sb.Clear();
            while (true)
            {
                int i = current.IndexOf(field, pos, StringComparison.Ordinal);
                if (i < 0)
                {
                    sb.Append(current, pos, current.Length - pos);
                    break;
                }

                int start = i + field.Length;
                int end = current.IndexOf('"', start);
                if (end < 0)
                {
                    sb.Append(current, pos, current.Length - pos);
                    break;
                }

                sb.Append(current, pos, start - pos).Append("(redacted)");
                pos = end;
            }
        }

        string result = sb.ToString();
        return result.Length > MaxTracedChars ? result.Substring(0, MaxTracedChars) + "...(truncated)" : result;
    }

    private static string Shorten(string text) => CaText.Clean(text, 200);

    private static string Flatten(Exception e)
    {
        var parts = new List<string>();
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (!parts.Contains(x.Message))
            {
                parts.Add(x.Message);
            }
        }

        return string.Join(" ", parts);
    }

    private static HttpMessageHandler CreateHandler(AcmeServer server)
    {
        var handler = new HttpClientHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
        };

        if (RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.Ordinal))
        {
            // Windows PowerShell 5.1: .NET Framework may default to TLS 1.0; ACME CAs require 1.2.
            handler.SslProtocols = SslProtocols.Tls12;
        }

        if (server.SkipCertificateCheck)
        {
            handler.ServerCertificateCustomValidationCallback = (_, _, _, _) => true;
        }
        else if (server.TrustedRoot is X509Certificate2 root)
        {
            handler.ServerCertificateCustomValidationCallback = (_, certificate, chain, errors) =>
                ServerTrust.Validate(certificate, chain, errors, root);
        }

        return handler;
    }

    private static string BuildUserAgent()
    {
        string version = typeof(AcmeConnection).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? typeof(AcmeConnection).Assembly.GetName().Version?.ToString() ?? "0";
        int plus = version.IndexOf('+');
        if (plus > 0)
        {
            version = version.Substring(0, plus);
        }

        return $"Acme-PowerShell/{version} ({RuntimeInformation.OSDescription.Trim().Replace('(', '[').Replace(')', ']')}; {RuntimeInformation.FrameworkDescription.Trim()})";
    }

    public void Dispose() => _http.Dispose();
}
