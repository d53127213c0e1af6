using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Acme.Protocol.Flow;

/// <summary>Where an http-01 responder finds the key authorization for a token.</summary>
public interface IHttp01ChallengeStore
{
    /// <summary>The key authorization for <paramref name="token"/>, or null when it is not known.</summary>
    Task<string?> GetKeyAuthorizationAsync(string token, CancellationToken cancellationToken);
}

/// <summary>
/// Key authorizations held in this process: what a listener started by this module answers from.
/// Tokens are counted, so two orders that share a reused authorization (the same token) can each
/// add it and remove it without withdrawing the other's answer.
/// </summary>
public sealed class InMemoryHttp01Store : IHttp01ChallengeStore
{
    private readonly object _lock = new();
    private readonly Dictionary<string, Entry> _answers = new(StringComparer.Ordinal);

    public void Add(string token, string keyAuthorization) => Add(token, keyAuthorization, null);

    /// <summary>Adds an answer; <paramref name="log"/> hears when the CA fetches it.</summary>
    public void Add(string token, string keyAuthorization, IAcmeLog? log)
    {
        lock (_lock)
        {
            if (_answers.TryGetValue(token, out Entry? entry))
            {
                entry.Count++;
            }
            else
            {
                _answers[token] = new Entry(keyAuthorization, log ?? NullAcmeLog.Instance);
            }
        }
    }

    /// <summary>Withdraws one addition of the token; the answer goes when every adder has withdrawn it.</summary>
    public void Remove(string token)
    {
        lock (_lock)
        {
            if (_answers.TryGetValue(token, out Entry? entry) && --entry.Count == 0)
            {
                _answers.Remove(token);
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _answers.Count;
            }
        }
    }

    public Task<string?> GetKeyAuthorizationAsync(string token, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_answers.TryGetValue(token, out Entry? entry) ? entry.KeyAuthorization : null);
        }
    }

    internal IAcmeLog? LogFor(string token)
    {
        lock (_lock)
        {
            return _answers.TryGetValue(token, out Entry? entry) ? entry.Log : null;
        }
    }

    private sealed class Entry
    {
        public Entry(string keyAuthorization, IAcmeLog log)
        {
            KeyAuthorization = keyAuthorization;
            Log = log;
        }

        public string KeyAuthorization { get; }

        public IAcmeLog Log { get; }

        public int Count { get; set; } = 1;
    }
}

/// <summary>
/// A lease on the one http-01 responder this process runs on a port. Every solver that asks for the
/// same port (several pipelines at once, all validated on the CA's one http-01 port) shares that
/// responder and its store; the listener stops, and the port is free again, when the last lease is
/// disposed. Tokens a lease added are withdrawn when it is disposed.
/// </summary>
public sealed class Http01Listener : IDisposable
{
    private static readonly object s_lock = new();
    private static readonly Dictionary<string, Shared> s_listeners = new(StringComparer.Ordinal);

    private readonly Shared _shared;
    private readonly IAcmeLog _log;
    private readonly List<string> _tokens = new();
    private bool _disposed;

    private Http01Listener(Shared shared, IAcmeLog log)
    {
        _shared = shared;
        _log = log;
    }

    public int Port => _shared.Responder.Port;

    /// <summary>The listener's address, or null for every address.</summary>
    public IPAddress? Address => _shared.Address;

    /// <summary>How many listeners this process runs now (one per port, however many solvers share it).</summary>
    public static int ActiveCount
    {
        get
        {
            lock (s_lock)
            {
                return s_listeners.Count;
            }
        }
    }

    /// <summary>
    /// Joins the listener already running on <paramref name="port"/> in this process, or starts one.
    /// A request for one address joins a listener on every address on that port, which answers it too.
    /// </summary>
    public static Http01Listener Acquire(int port, IPAddress? address = null, IAcmeLog? log = null)
    {
        if (port < 1 || port > 65535)
        {
            // Port 0 (any free port) cannot be shared: each caller would mean a different port.
            throw new AcmeArgumentException("AcmeInvalidPort", $"The port {port} is not between 1 and 65535.");
        }

        lock (s_lock)
        {
            string key = Key(port, address);
            if (!s_listeners.TryGetValue(key, out Shared? shared) && !s_listeners.TryGetValue(Key(port, null), out shared))
            {
                shared = new Shared(key, address, Http01Responder.Start(port, new InMemoryHttp01Store(), address));
                s_listeners[key] = shared;
                (log ?? NullAcmeLog.Instance).Verbose($"Started the http-01 listener on port {shared.Responder.Port}.");
            }

            shared.Leases++;
            return new Http01Listener(shared, log ?? NullAcmeLog.Instance);
        }
    }

    public void Add(string token, string keyAuthorization)
    {
        lock (_tokens)
        {
            ThrowIfDisposed();
            _shared.Store.Add(token, keyAuthorization, _log);
            _tokens.Add(token);
        }
    }

    public void Remove(string token)
    {
        lock (_tokens)
        {
            if (_tokens.Remove(token))
            {
                _shared.Store.Remove(token);
            }
        }
    }

    /// <summary>Fetches a token's answer over loopback, as the CA would (see <see cref="Http01Responder.SelfCheckAsync"/>).</summary>
    public Task<string?> SelfCheckAsync(string token, string hostHeader, CancellationToken cancellationToken) =>
        _shared.Responder.SelfCheckAsync(token, hostHeader, cancellationToken);

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            throw new ObjectDisposedException(nameof(Http01Listener));
        }
    }

    private static string Key(int port, IPAddress? address) => port.ToString(CultureInfo.InvariantCulture) + "|" + (address?.ToString() ?? "*");

    public void Dispose()
    {
        lock (_tokens)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (string token in _tokens)
            {
                _shared.Store.Remove(token);
            }

            _tokens.Clear();
        }

        lock (s_lock)
        {
            if (--_shared.Leases > 0)
            {
                return;
            }

            s_listeners.Remove(_shared.Key);
            _shared.Responder.Dispose();
        }

        _log.Verbose($"Stopped the http-01 listener on port {_shared.Responder.Port}.");
    }

    private sealed class Shared
    {
        public Shared(string key, IPAddress? address, Http01Responder responder)
        {
            Key = key;
            Address = address;
            Responder = responder;
            Store = (InMemoryHttp01Store)responder.Store;
        }

        public string Key { get; }

        public IPAddress? Address { get; }

        public Http01Responder Responder { get; }

        public InMemoryHttp01Store Store { get; }

        public int Leases { get; set; }
    }
}

/// <summary>
/// A minimal HTTP/1.1 server for http-01 (RFC 8555 section 8.3) on a plain socket, so it needs no
/// URL reservation on Windows and behaves the same in Windows PowerShell and PowerShell 7. It answers
/// GET and HEAD of "/.well-known/acme-challenge/&lt;token&gt;" for tokens in its store and nothing else:
/// unknown tokens and other paths get 404, other methods 405, malformed or oversized requests 400, all
/// with an empty body; slow requests are cut off. Every response closes the connection. When more
/// than <see cref="DefaultMaxConnections"/> connections are open at once, the oldest one that has not
/// yet sent its request is dropped, so a flood of idle or trickling connections cannot keep the CA's
/// validation request (which arrives whole at once) out.
/// </summary>
public sealed class Http01Responder : IDisposable
{
    public const string PathPrefix = "/.well-known/acme-challenge/";

    private const int MaxRequestHeaderBytes = 8 * 1024;
    /// <summary>Open connections beyond which the oldest one still waiting for its request is dropped.</summary>
    public const int DefaultMaxConnections = 1024;

    private readonly TcpListener _listener;
    private readonly IAcmeLog _log;
    private readonly int _maxConnections;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, TcpClient> _waiting = new();
    private readonly Task _acceptLoop;
    private long _accepted;
    private int _connections;
    private long _served;
    private long _evicted;

    private Http01Responder(TcpListener listener, IHttp01ChallengeStore store, IAcmeLog log, int maxConnections)
    {
        _listener = listener;
        Store = store;
        _log = log;
        _maxConnections = maxConnections;
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    internal IHttp01ChallengeStore Store { get; }

    /// <summary>Connections dropped because too many were open at once.</summary>
    public long ConnectionsDropped => Interlocked.Read(ref _evicted);

    /// <summary>How long a client may take to send its request line and headers.</summary>
    public static TimeSpan RequestReadTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many challenge answers (200 responses) this responder has sent.</summary>
    public long AnswersServed => Interlocked.Read(ref _served);

    /// <summary>
    /// Starts listening. Without an address it listens on every IPv6 and IPv4 address (dual mode),
    /// falling back to IPv4 only when the machine has no IPv6.
    /// </summary>
    public static Http01Responder Start(int port, IHttp01ChallengeStore store, IPAddress? address = null, IAcmeLog? log = null) =>
        Start(port, store, address, log, DefaultMaxConnections);

    internal static Http01Responder Start(int port, IHttp01ChallengeStore store, IPAddress? address, IAcmeLog? log, int maxConnections)
    {
        if (port < 0 || port > 65535)
        {
            throw new AcmeArgumentException("AcmeInvalidPort", $"The port {port} is not between 1 and 65535.");
        }

        TcpListener listener;
        try
        {
            if (address is null)
            {
                try
                {
                    listener = new TcpListener(IPAddress.IPv6Any, port);
                    listener.Server.DualMode = true;
                    listener.Start(512);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressFamilyNotSupported || e.SocketErrorCode == SocketError.ProtocolNotSupported)
                {
                    listener = new TcpListener(IPAddress.Any, port);
                    listener.Start(512);
                }
            }
            else
            {
                listener = new TcpListener(address, port);
                listener.Start(512);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new AcmeLocalException("AcmeListenerPortInUse",
                $"Port {port} is already in use, so the http-01 listener cannot start. Stop what holds it, choose another -Port, or use -WebRoot.", e);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            throw new AcmeArgumentException("AcmeListenerAddressNotAvailable",
                $"The address {address} is not one of this machine's, so the http-01 listener cannot listen on it. Give a local address to -ListenAddress, or leave it out to listen on all.", e);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new AcmeLocalException("AcmeListenerAccessDenied",
                $"Listening on port {port} is not permitted for this user (ports below 1024 need elevated rights).", e);
        }
        catch (SocketException e)
        {
            throw new AcmeLocalException("AcmeListenerFailed", $"The http-01 listener could not start on port {port}: {e.Message}", e);
        }

        return new Http01Responder(listener, store, log ?? NullAcmeLog.Instance, maxConnections);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync().ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            long id = Interlocked.Increment(ref _accepted);
            _waiting[id] = client;
            if (Interlocked.Increment(ref _connections) > _maxConnections)
            {
                DropOldestWaiting();
            }

            _ = Task.Run(() => HandleAsync(id, client));
        }
    }

    /// <summary>
    /// Closes the connection that has waited longest without sending a whole request. A CA sends its
    /// request as soon as it connects, so under a flood it is the junk that goes, not the validation.
    /// </summary>
    private void DropOldestWaiting()
    {
        long oldest = long.MaxValue;
        foreach (long id in _waiting.Keys)
        {
            oldest = Math.Min(oldest, id);
        }

        if (oldest != long.MaxValue && _waiting.TryRemove(oldest, out TcpClient? victim))
        {
            Interlocked.Increment(ref _evicted);
            victim.Dispose();
        }
    }

    private async Task HandleAsync(long id, TcpClient client)
    {
        try
        {
            using (client)
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                timeout.CancelAfter(RequestReadTimeout);
                client.NoDelay = true;
                NetworkStream stream = client.GetStream();
                using CancellationTokenRegistration closeOnTimeout = timeout.Token.Register(() => client.Dispose());
                string? head = await ReadRequestHeadAsync(stream, timeout.Token).ConfigureAwait(false);
                _waiting.TryRemove(id, out _);
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
                bool head_ = method == "HEAD";
                if (method != "GET" && !head_)
                {
                    await WriteAsync(stream, 405, "Method Not Allowed", null, false, timeout.Token, "Allow: GET, HEAD\r\n").ConfigureAwait(false);
                    return;
                }

                string? token = ExtractToken(parts[1]);
                string? answer = token is null ? null : await Store.GetKeyAuthorizationAsync(token, timeout.Token).ConfigureAwait(false);
                if (answer is null)
                {
                    await WriteAsync(stream, 404, "Not Found", null, head_, timeout.Token).ConfigureAwait(false);
                    return;
                }

                await WriteAsync(stream, 200, "OK", answer, head_, timeout.Token).ConfigureAwait(false);
                Interlocked.Increment(ref _served);
                IAcmeLog log = (Store as InMemoryHttp01Store)?.LogFor(token!) ?? _log;
                log.Verbose($"Answered the http-01 challenge for token {token} to {client.Client.RemoteEndPoint}.");
            }
        }
        catch (Exception)
        {
            // A client that hangs up, sends junk or is too slow is simply dropped; the listener carries on.
        }
        finally
        {
            _waiting.TryRemove(id, out _);
            Interlocked.Decrement(ref _connections);
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
        bool v6Only = _listener.LocalEndpoint is IPEndPoint ep && ep.AddressFamily == AddressFamily.InterNetworkV6 && !_listener.Server.DualMode;
        IPAddress target = _listener.LocalEndpoint is IPEndPoint bound && !bound.Address.Equals(IPAddress.Any) && !bound.Address.Equals(IPAddress.IPv6Any)
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

    public void Dispose()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        _stop.Cancel();
        _listener.Stop();
        try
        {
            _acceptLoop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
    }
}
