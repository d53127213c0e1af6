using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.ChallengeStores;
using Acme.Protocol.Challenges.Listening;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Model;

namespace Acme.Protocol.Challenges.Http01;

/// <summary>
/// A lease on the one http-01 responder this process runs on a port. Every solver that asks for the
/// same port (several pipelines at once, all validated on the CA's one http-01 port) shares that
/// responder and its store; the listener stops, and the port is free again, when the last lease is
/// disposed. Tokens a lease added are withdrawn when it is disposed.
/// </summary>
public sealed class Http01PortLease : IDisposable
{
    private static readonly SharedPorts<Http01Server> s_listeners = new();

    private readonly SharedPorts<Http01Server>.Entry _shared;
    private readonly InMemoryChallengeStore _store;
    private readonly IAcmeLog _log;
    private readonly List<string> _tokens = new();
    private bool _disposed;

    private Http01PortLease(SharedPorts<Http01Server>.Entry shared, IAcmeLog log)
    {
        _shared = shared;
        _store = (InMemoryChallengeStore)shared.Responder.Store;
        _log = log;
    }

    public int Port => _shared.Responder.Port;

    /// <summary>The listener's address, or null for every address.</summary>
    public IPAddress? Address => _shared.Address;

    /// <summary>How many listeners this process runs now (one per port, however many solvers share it).</summary>
    public static int ActiveCount => s_listeners.Count;

    /// <summary>
    /// Joins the listener already running on <paramref name="port"/> in this process, or starts one.
    /// A request for one address joins a listener on every address on that port, which answers it too.
    /// </summary>
    public static Http01PortLease Acquire(int port, IPAddress? address = null, IAcmeLog? log = null)
    {
        log ??= NullAcmeLog.Instance;
        SharedPorts<Http01Server>.Entry shared = s_listeners.Acquire(port, address,
            () => Http01Server.Start(port, new InMemoryChallengeStore(), address), out bool started);
        if (started)
        {
            log.Verbose($"Started the http-01 listener on port {shared.Responder.Port}.");
        }

        return new Http01PortLease(shared, log);
    }

    /// <summary>
    /// <see cref="Acquire"/>, waiting up to <paramref name="portWait"/> while another process holds the
    /// port (another renewal's listener, say), with progress; AcmeListenerPortInUse when it stays held.
    /// </summary>
    public static Task<Http01PortLease> AcquireAsync(int port, IPAddress? address, TimeSpan portWait, IAcmeLog? log = null,
        IProgress<AcmeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        log ??= NullAcmeLog.Instance;
        return PortWait.BindAsync(() => Acquire(port, address, log), port, "http-01", portWait, log, progress, cancellationToken);
    }

    public void Add(string token, string keyAuthorization)
    {
        lock (_tokens)
        {
            ThrowIfDisposed();
            _store.Add(token, keyAuthorization, _log);
            _tokens.Add(token);
        }
    }

    public void Remove(string token)
    {
        lock (_tokens)
        {
            if (_tokens.Remove(token))
            {
                _store.Remove(token);
            }
        }
    }

    /// <summary>Fetches a token's answer over loopback, as the CA would (see <see cref="Http01Server.SelfCheckAsync"/>).</summary>
    public Task<string?> SelfCheckAsync(string token, string hostHeader, CancellationToken cancellationToken) =>
        _shared.Responder.SelfCheckAsync(token, hostHeader, cancellationToken);

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            throw new ObjectDisposedException(nameof(Http01PortLease));
        }
    }

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
                _store.Remove(token);
            }

            _tokens.Clear();
        }

        if (s_listeners.Release(_shared))
        {
            _log.Verbose($"Stopped the http-01 listener on port {_shared.Responder.Port}.");
        }
    }
}
