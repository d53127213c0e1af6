using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
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
public sealed partial class AcmeConnection : IDisposable
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
        AcmeResponse response;
        try
        {
            response = await GetAsync(Server.DirectoryUrl, log, cancellationToken).ConfigureAwait(false);
        }
        catch (AcmeProblemException e) when (e.Problem.Status is 404 or 410)
        {
            // A newcomer's first mistake: the CA's web site, or a directory URL with a typo.
            throw new AcmeProtocolException(AcmeErrorId.NotADirectory,
                $"{Server.DirectoryUrl.AbsoluteUri} is not an ACME directory: it answered HTTP {e.Problem.Status} {(e.Problem.Status == 404 ? "Not Found" : "Gone")}.", e);
        }

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
