using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Challenges.Http01;
using Acme.Protocol.Challenges.Listening;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Model;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Acme.Protocol.Challenges.TlsAlpn01;

/// <summary>
/// A lease on the one tls-alpn-01 responder this process runs on a port, shared like
/// <see cref="Http01PortLease"/>: pipelines running at once join it instead of failing with
/// AcmeListenerPortInUse, and the port is free again when the last lease is disposed. Names a lease
/// added are withdrawn when it is disposed.
/// </summary>
public sealed class TlsAlpnPortLease : IDisposable
{
    private static readonly SharedPorts<TlsAlpnServer> s_listeners = new();

    private readonly SharedPorts<TlsAlpnServer>.Entry _shared;
    private readonly IAcmeLog _log;
    private readonly List<AcmeIdentifier> _identifiers = new();
    private bool _disposed;

    private TlsAlpnPortLease(SharedPorts<TlsAlpnServer>.Entry shared, IAcmeLog log)
    {
        _shared = shared;
        _log = log;
    }

    public int Port => _shared.Responder.Port;

    /// <summary>The responder this lease shares (its counters cover every lease).</summary>
    public TlsAlpnServer Responder => _shared.Responder;

    /// <summary>How many listeners this process runs now (one per port, however many solvers share it).</summary>
    public static int ActiveCount => s_listeners.Count;

    /// <summary>How many names this lease presents.</summary>
    public int Count
    {
        get
        {
            lock (_identifiers)
            {
                return _identifiers.Count;
            }
        }
    }

    /// <summary>Joins the tls-alpn-01 listener already running on <paramref name="port"/> in this process, or starts one.</summary>
    public static TlsAlpnPortLease Acquire(int port, IPAddress? address = null, IAcmeLog? log = null)
    {
        log ??= NullAcmeLog.Instance;
        SharedPorts<TlsAlpnServer>.Entry shared = s_listeners.Acquire(port, address, () => TlsAlpnServer.Start(port, address), out bool started);
        if (started)
        {
            log.Verbose($"Started the tls-alpn-01 listener on port {shared.Responder.Port}.");
        }

        return new TlsAlpnPortLease(shared, log);
    }

    /// <summary>
    /// <see cref="Acquire"/>, waiting up to <paramref name="portWait"/> while another process holds the
    /// port (another renewal's listener, say), with progress; AcmeListenerPortInUse when it stays held.
    /// </summary>
    public static Task<TlsAlpnPortLease> AcquireAsync(int port, IPAddress? address, TimeSpan portWait, IAcmeLog? log = null,
        IProgress<AcmeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        log ??= NullAcmeLog.Instance;
        return PortWait.BindAsync(() => Acquire(port, address, log), port, "tls-alpn-01", portWait, log, progress, cancellationToken);
    }

    public void Add(AcmeIdentifier identifier, string keyAuthorization)
    {
        lock (_identifiers)
        {
            if (_disposed)
            {
                throw new ObjectDisposedException(nameof(TlsAlpnPortLease));
            }

            _shared.Responder.Add(identifier, keyAuthorization, this, _log);
            _identifiers.Add(identifier);
        }
    }

    public void Remove(AcmeIdentifier identifier)
    {
        lock (_identifiers)
        {
            int index = _identifiers.FindIndex(i => i.Type == identifier.Type && i.Value == identifier.Value);
            if (index >= 0)
            {
                _identifiers.RemoveAt(index);
                _shared.Responder.Remove(identifier, this);
            }
        }
    }

    public void Dispose()
    {
        lock (_identifiers)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (AcmeIdentifier identifier in _identifiers)
            {
                _shared.Responder.Remove(identifier, this);
            }

            _identifiers.Clear();
        }

        TlsAlpnServer responder = _shared.Responder;
        if (s_listeners.Release(_shared))
        {
            _log.Verbose($"Stopped the tls-alpn-01 listener on port {responder.Port} ({responder.HandshakesAnswered} handshake(s) answered, " +
                $"{responder.HandshakesRefused} refused).");
        }
    }
}
