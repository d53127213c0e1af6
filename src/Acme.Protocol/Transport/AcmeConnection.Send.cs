using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;
using Acme.Protocol.Model;

namespace Acme.Protocol.Transport;

/// <summary>
/// The one send loop of a connection and its rules: which answers are retried and how long to wait
/// (badNonce with the nonce from the error, 5xx and Retry-After on reads, short rate limits), bounded
/// reads, problem documents turned into exceptions, and what the trace may show of a body.
/// </summary>
public sealed partial class AcmeConnection
{
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
                "(the per-request timeout).", RequestTimeout, e);
        }
        catch (HttpRequestException e)
        {
            throw new AcmeConnectionException($"{method.Method} {url.AbsoluteUri} failed: {Flatten(e, url)}", e);
        }
        catch (IOException e)
        {
            throw new AcmeConnectionException($"{method.Method} {url.AbsoluteUri} failed while reading the answer: {Flatten(e, url)}", e);
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

    private void ThrowIfProblem(AcmeResponse response)
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
        if (problem.Type == AcmeProblemTypes.UserActionRequired && problem.Instance is null)
        {
            // RFC 8555 section 7.3.3: the URL to visit is "instance"; a CA that gives it only as a Link rel="help" still names it.
            foreach (Uri help in response.GetLinks("help"))
            {
                problem.Instance = help.AbsoluteUri;
                break;
            }
        }

        if (status == 501)
        {
            throw new AcmeNotImplementedException(problem, OperationName(response.Method, response.RequestUri));
        }
        if (problem.Type == "about:blank" && status >= 500)
        {
            throw new AcmeServerException(problem, response.RetryAfter);
        }

        throw AcmeProblemException.Create(problem, response.RetryAfter);
    }

    /// <summary>The directory resource a URL is, in words, for "the CA does not implement ..."; else the method and URL.</summary>
    private string OperationName(string method, Uri url)
    {
        Task<AcmeDirectory>? pending = _directory;
        if (pending is { Status: TaskStatus.RanToCompletion })
        {
            AcmeDirectory d = pending.Result;
            if (url == d.KeyChange) return "account key rollover (keyChange)";
            if (url == d.RevokeCert) return "revocation (revokeCert)";
            if (url == d.NewAuthz) return "pre-authorization (newAuthz)";
            if (url == d.NewOrder) return "ordering (newOrder)";
            if (url == d.NewAccount) return "account creation (newAccount)";
            if (d.RenewalInfo is not null && url.AbsoluteUri.StartsWith(d.RenewalInfo.AbsoluteUri, StringComparison.Ordinal)) return "renewal information (renewalInfo)";
        }

        return $"{method} {CaText.Clean(url.AbsoluteUri, CaText.MaxField * 4)}";
    }

    private static bool IsTransient(Exception e, out TimeSpan? wait)
    {
        wait = null;
        switch (e)
        {
            case AcmeNotImplementedException:
                return false;
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

    private static string Flatten(Exception e, Uri url)
    {
        var parts = new List<string>();
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.HostNotFound or System.Net.Sockets.SocketError.NoData })
            {
                // The resolver's text ("Name or service not known") comes at every level: say it once, with the host.
                return $"the host {url.Host} is not known (no DNS record for it); check its spelling.";
            }
        }

        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (!parts.Any(p => p.IndexOf(x.Message, StringComparison.Ordinal) >= 0))
            {
                parts.Add(x.Message);
            }
        }

        return string.Join(" ", parts);
    }
}
