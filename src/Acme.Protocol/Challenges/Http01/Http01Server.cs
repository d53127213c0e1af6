using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.ChallengeStores;
using Acme.Protocol.Challenges.Listening;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.Protocol.Challenges.Http01;

/// <summary>
/// A minimal HTTP/1.1 server for http-01 (RFC 8555 section 8.3) on a plain socket, so it needs no
/// URL reservation on Windows and behaves the same in Windows PowerShell and PowerShell 7. It answers
/// GET and HEAD of "/.well-known/acme-challenge/&lt;token&gt;" for tokens in its store and nothing else:
/// unknown tokens and other paths get 404, other methods 405, malformed or oversized requests 400, all
/// with an empty body; slow requests are cut off. Every response closes the connection. When more
/// than <see cref="DefaultMaxConnections"/> connections are open at once, the oldest one that has not
/// yet sent its request is dropped, so a flood of idle or trickling connections cannot keep the CA's
/// validation request (which arrives whole at once) out. A responder started with a health endpoint
/// (Start-AcmeChallengeResponder behind a load balancer) also answers GET and HEAD of
/// <see cref="HealthPath"/>: 200 while its store can be read, 503 when it cannot or the responder is stopping.
/// </summary>
public sealed class Http01Server : IDisposable
{
    public const string PathPrefix = "/.well-known/acme-challenge/";

    /// <summary>Where a load balancer asks whether this responder can answer (only with the health endpoint on).</summary>
    public const string HealthPath = "/.well-known/acme-responder/health";

    private const int MaxRequestHeaderBytes = 8 * 1024;
    /// <summary>Open connections beyond which the oldest one still waiting for its request is dropped.</summary>
    public const int DefaultMaxConnections = 1024;

    private readonly TcpAcceptLoop _accept;
    private readonly IAcmeLog _log;
    private long _served;

    private readonly bool _health;
    private long _notFound;
    private volatile bool _draining;

    private Http01Server(int port, IPAddress? address, IChallengeStore store, IAcmeLog log, int maxConnections, bool health,
        TimeSpan requestReadTimeout, TimeSpan healthCheckTimeout)
    {
        Store = store;
        _log = log;
        _health = health;
        RequestReadTimeout = requestReadTimeout;
        HealthCheckTimeout = healthCheckTimeout;
        _accept = TcpAcceptLoop.Start(port, address, "http-01", maxConnections, HandleAsync);
    }

    public int Port => _accept.Port;

    internal IChallengeStore Store { get; }

    /// <summary>Connections dropped because too many were open at once.</summary>
    public long ConnectionsDropped => _accept.ConnectionsDropped;

    /// <summary>How long a client may take to send its request line and headers, unless the responder was started with another.</summary>
    internal static readonly TimeSpan DefaultRequestReadTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long the health endpoint waits for the store before it says 503, unless the responder was started with another.</summary>
    internal static readonly TimeSpan DefaultHealthCheckTimeout = TimeSpan.FromSeconds(3);

    /// <summary>How long a client may take to send its request line and headers.</summary>
    public TimeSpan RequestReadTimeout { get; }

    /// <summary>How many challenge answers (200 responses) this responder has sent.</summary>
    public long AnswersServed => Interlocked.Read(ref _served);

    /// <summary>How many requests for a well-formed token found no answer in the store (404).</summary>
    public long TokensNotFound => Interlocked.Read(ref _notFound);

    /// <summary>How long the health endpoint waits for the store before it says 503.</summary>
    public TimeSpan HealthCheckTimeout { get; }

    /// <summary>
    /// Starts listening. Without an address it listens on every IPv6 and IPv4 address (dual mode),
    /// falling back to IPv4 only when the machine has no IPv6.
    /// </summary>
    public static Http01Server Start(int port, IChallengeStore store, IPAddress? address = null, IAcmeLog? log = null) =>
        Start(port, store, address, log, DefaultMaxConnections);

    /// <summary>
    /// Starts a responder that serves a shared store, with the health endpoint on, logging each answer
    /// and each unknown token to <paramref name="log"/>.
    /// </summary>
    public static Http01Server StartWithHealth(int port, IChallengeStore store, IPAddress? address, IAcmeLog log) =>
        Start(port, store, address, log, DefaultMaxConnections, health: true);

    /// <summary>Starts a responder with its own limits (tests shorten the timeouts); null takes the default.</summary>
    internal static Http01Server Start(int port, IChallengeStore store, IPAddress? address, IAcmeLog? log, int maxConnections, bool health = false,
        TimeSpan? requestReadTimeout = null, TimeSpan? healthCheckTimeout = null)
    {
        if (port < 0 || port > 65535)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidPort, $"The port {port} is not between 1 and 65535.");
        }

        return new Http01Server(port, address, store, log ?? NullAcmeLog.Instance, maxConnections, health,
            requestReadTimeout ?? DefaultRequestReadTimeout, healthCheckTimeout ?? DefaultHealthCheckTimeout);
    }

    private async Task HandleAsync(TcpAcceptLoop.Connection connection)
    {
        TcpClient client = connection.Client;
        using CancellationTokenSource timeout = connection.Deadline(RequestReadTimeout);
        NetworkStream stream = client.GetStream();
        string? head = await ReadRequestHeadAsync(stream, timeout.Token).ConfigureAwait(false);
        connection.Started();
        if (head is null)
        {
            await WriteAsync(stream, 400, "Bad Request", null, false, timeout.Token).ConfigureAwait(false);
            return;
        }

        string requestLine = head.Substring(0, head.IndexOf("\r\n", StringComparison.Ordinal) is int n && n >= 0 ? n : head.Length);
        string[] parts = requestLine.Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            await WriteAsync(stream, 400, "Bad Request", null, false, timeout.Token).ConfigureAwait(false);
            return;
        }

        string method = parts[0];
        bool headOnly = method == "HEAD";
        if (method != "GET" && !headOnly)
        {
            await WriteAsync(stream, 405, "Method Not Allowed", null, false, timeout.Token, "Allow: GET, HEAD\r\n").ConfigureAwait(false);
            return;
        }

        if (_health && parts[1] == HealthPath)
        {
            bool healthy = await IsHealthyAsync(timeout.Token).ConfigureAwait(false);
            await WriteAsync(stream, healthy ? 200 : 503, healthy ? "OK" : "Service Unavailable", healthy ? "ok" : "store unavailable", headOnly,
                timeout.Token).ConfigureAwait(false);
            return;
        }

        string? token = ExtractToken(parts[1]);
        string? answer;
        try
        {
            answer = token is null ? null : await Store.GetKeyAuthorizationAsync(token, timeout.Token).ConfigureAwait(false);
        }
        catch (AcmeException e)
        {
            // The store is down: say so (503), so it is not mistaken for a wrong answer.
            _log.Verbose($"Could not look up token {token} for {client.Client.RemoteEndPoint}: {e.Message}");
            await WriteAsync(stream, 503, "Service Unavailable", null, headOnly, timeout.Token).ConfigureAwait(false);
            return;
        }

        if (answer is null)
        {
            await WriteAsync(stream, 404, "Not Found", null, headOnly, timeout.Token).ConfigureAwait(false);
            if (token is not null)
            {
                Interlocked.Increment(ref _notFound);
                _log.Verbose($"No answer for token {token} in {Store.Description} (404 to {client.Client.RemoteEndPoint}).");
            }

            return;
        }

        await WriteAsync(stream, 200, "OK", answer, headOnly, timeout.Token).ConfigureAwait(false);
        Interlocked.Increment(ref _served);
        IAcmeLog log = (Store as InMemoryChallengeStore)?.LogFor(token!) ?? _log;
        log.Verbose($"Answered the http-01 challenge for token {token} to {client.Client.RemoteEndPoint}.");
    }

    private async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        if (_draining)
        {
            return false;
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(HealthCheckTimeout);
        try
        {
            await Store.CheckAsync(limit.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is AcmeException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>
    /// Stops gracefully: the health endpoint says 503 at once, no new connection is taken after
    /// <paramref name="drain"/> has passed, and requests under way may finish within a second more.
    /// </summary>
    public async Task StopAsync(TimeSpan drain)
    {
        _draining = true;
        try
        {
            if (drain > TimeSpan.Zero)
            {
                await Task.Delay(drain).ConfigureAwait(false);
            }

            _accept.StopAccepting();
            DateTime deadline = DateTime.UtcNow.AddSeconds(1);
            while (_accept.OpenConnections > 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20).ConfigureAwait(false);
            }
        }
        finally
        {
            Dispose();
        }
    }

    /// <summary>Only "/.well-known/acme-challenge/" followed by a base64url token; no query, no dot segments, no encoding.</summary>
    internal static string? ExtractToken(string target)
    {
        if (target.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            int slash = target.IndexOf('/', 7);
            target = slash < 0 ? "/" : target.Substring(slash);
        }

        if (!target.StartsWith(PathPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        string token = target.Substring(PathPrefix.Length);
        return AcmeChallenge.IsValidToken(token) ? token : null;
    }

    private static async Task<string?> ReadRequestHeadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[MaxRequestHeaderBytes];
        int filled = 0;
        while (filled < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer, filled, buffer.Length - filled, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            filled += read;
            for (int i = Math.Max(0, filled - read - 3); i + 3 < filled; i++)
            {
                if (buffer[i] == '\r' && buffer[i + 1] == '\n' && buffer[i + 2] == '\r' && buffer[i + 3] == '\n')
                {
                    return Encoding.ASCII.GetString(buffer, 0, i + 2);
                }
            }
        }

        return null;
    }

    private static async Task WriteAsync(Stream stream, int status, string reason, string? body, bool headOnly,
        CancellationToken cancellationToken, string extraHeaders = "")
    {
        byte[] content = Encoding.ASCII.GetBytes(body ?? string.Empty);
        string head = $"HTTP/1.1 {status} {reason}\r\nContent-Type: {(body is null ? "text/plain" : "application/octet-stream")}\r\n" +
            $"Content-Length: {content.Length}\r\n{extraHeaders}Connection: close\r\nCache-Control: no-store\r\n\r\n";
        byte[] headBytes = Encoding.ASCII.GetBytes(head);
        await stream.WriteAsync(headBytes, 0, headBytes.Length, cancellationToken).ConfigureAwait(false);
        if (!headOnly && content.Length > 0)
        {
            await stream.WriteAsync(content, 0, content.Length, cancellationToken).ConfigureAwait(false);
        }

        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Fetches a token's answer from this responder over loopback, as the CA would, and returns what
    /// came back (null on anything but 200). Proves the listener answers before the CA is asked.
    /// </summary>
    public async Task<string?> SelfCheckAsync(string token, string hostHeader, CancellationToken cancellationToken)
    {
        IPEndPoint bound = _accept.LocalEndpoint;
        bool v6Only = bound.AddressFamily == AddressFamily.InterNetworkV6 && !_accept.DualMode;
        IPAddress target = !bound.Address.Equals(IPAddress.Any) && !bound.Address.Equals(IPAddress.IPv6Any)
            ? bound.Address
            : (v6Only ? IPAddress.IPv6Loopback : IPAddress.Loopback);
        return await HttpGetAsync(target, Port, PathPrefix + token, hostHeader, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A one-shot HTTP GET on a raw socket (no proxy settings apply), returning the body of a 200.</summary>
    public static async Task<string?> HttpGetAsync(IPAddress address, int port, string path, string hostHeader, CancellationToken cancellationToken)
    {
        using var client = new TcpClient(address.AddressFamily);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        using CancellationTokenRegistration _ = timeout.Token.Register(() => client.Dispose());
        try
        {
            await client.ConnectAsync(address, port).ConfigureAwait(false);
            NetworkStream stream = client.GetStream();
            byte[] request = Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {hostHeader}\r\nConnection: close\r\nUser-Agent: Acme-PowerShell self-check\r\n\r\n");
            await stream.WriteAsync(request, 0, request.Length, timeout.Token).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            byte[] chunk = new byte[4096];
            int read;
            while ((read = await stream.ReadAsync(chunk, 0, chunk.Length, timeout.Token).ConfigureAwait(false)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > 64 * 1024)
                {
                    return null;
                }
            }

            string response = Encoding.ASCII.GetString(buffer.ToArray());
            int split = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (!response.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) || split < 0)
            {
                return null;
            }

            return response.Substring(split + 4);
        }
        catch (Exception e) when (e is SocketException || e is IOException || e is ObjectDisposedException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return null;
        }
    }

    public void Dispose() => _accept.Dispose();
}
