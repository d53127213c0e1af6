using System;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Errors;

namespace Acme.Protocol.Challenges.Listening;

/// <summary>
/// The listening socket and accept loop of both challenge responders (http-01 and tls-alpn-01):
/// dual-stack by default, each connection handled asynchronously (no thread is held while a peer is
/// silent), errors that name the port. When more than the given number of connections are open at
/// once, the oldest one that has not yet started its exchange (see <see cref="Connection.Started"/>)
/// is dropped: a CA sends its request or ClientHello as soon as it connects, so under a flood of
/// idle or trickling connections it is the junk that goes, never the validation. Disposing stops
/// accepting and closes every connection.
/// </summary>
internal sealed class TcpAcceptLoop : IDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<Connection, Task> _handle;
    private readonly int _maxConnections;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, TcpClient> _waiting = new();
    private readonly Task _loop;
    private long _accepted;
    private int _connections;
    private long _dropped;

    private TcpAcceptLoop(TcpListener listener, int maxConnections, Func<Connection, Task> handle)
    {
        _listener = listener;
        _maxConnections = maxConnections;
        _handle = handle;
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _loop = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    /// <summary>The address the socket is bound to (the IPv6 or IPv4 "any" address when listening on all).</summary>
    public IPEndPoint LocalEndpoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>True when an IPv6 socket also accepts IPv4 connections.</summary>
    public bool DualMode => _listener.LocalEndpoint.AddressFamily == AddressFamily.InterNetworkV6 && _listener.Server.DualMode;

    /// <summary>Connections being handled now.</summary>
    public int OpenConnections => Volatile.Read(ref _connections);

    /// <summary>Connections dropped because too many were open at once.</summary>
    public long ConnectionsDropped => Interlocked.Read(ref _dropped);

    /// <param name="what">Names the listener in errors, such as "tls-alpn-01".</param>
    public static TcpAcceptLoop Start(int port, IPAddress? address, string what, int maxConnections, Func<Connection, Task> handle)
    {
        TcpListener listener = new(address ?? IPAddress.IPv6Any, port);
        try
        {
            if (address is null)
            {
                listener.Server.DualMode = true;
            }

            listener.Start(512);
        }
        catch (SocketException e) when (address is null && e.SocketErrorCode is SocketError.AddressFamilyNotSupported or SocketError.ProtocolNotSupported)
        {
            return Start(port, IPAddress.Any, what, maxConnections, handle);
        }
        catch (SocketException e)
        {
            throw e.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => new AcmeLocalException(AcmeErrorId.ListenerPortInUse,
                    $"Port {port} is already in use, so the {what} listener cannot start.", e),
                SocketError.AddressNotAvailable => new AcmeArgumentException(AcmeErrorId.ListenerAddressNotAvailable,
                    $"The address {address} is not one of this machine's, so the {what} listener cannot listen on it.", e),
                SocketError.AccessDenied => new AcmeLocalException(AcmeErrorId.ListenerAccessDenied,
                    $"Listening on port {port} is not permitted for this user (ports below 1024 need elevated rights).", e),
                _ => new AcmeLocalException(AcmeErrorId.ListenerFailed, $"The {what} listener could not start on port {port}: {e.Message}", e),
            };
        }

        return new TcpAcceptLoop(listener, maxConnections, handle);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (_stop.IsCancellationRequested || e is ObjectDisposedException || e is InvalidOperationException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            long id = Interlocked.Increment(ref _accepted);
            _waiting[id] = client;
            if (Interlocked.Increment(ref _connections) > _maxConnections)
            {
                DropOldestWaiting();
            }

            _ = Task.Run(() => RunAsync(new Connection(this, id, client)));
        }
    }

    private void DropOldestWaiting()
    {
        long oldest = long.MaxValue;
        foreach (long id in _waiting.Keys)
        {
            oldest = Math.Min(oldest, id);
        }

        if (oldest != long.MaxValue && _waiting.TryRemove(oldest, out TcpClient? victim))
        {
            Interlocked.Increment(ref _dropped);
            victim.Dispose();
        }
    }

    private async Task RunAsync(Connection connection)
    {
        try
        {
            using (connection.Client)
            using (_stop.Token.Register(connection.Client.Dispose))
            {
                connection.Client.NoDelay = true;
                await _handle(connection).ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // A peer that hangs up, sends junk or is too slow is simply dropped; the listener carries on.
        }
        finally
        {
            _waiting.TryRemove(connection.Id, out _);
            Interlocked.Decrement(ref _connections);
        }
    }

    /// <summary>Stops taking new connections; those open go on until they end or the loop is disposed.</summary>
    public void StopAccepting() => _listener.Stop();

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
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }

    /// <summary>One accepted connection, handed to the responder's handler.</summary>
    internal sealed class Connection
    {
        private readonly TcpAcceptLoop _loop;

        public Connection(TcpAcceptLoop loop, long id, TcpClient client)
        {
            _loop = loop;
            Id = id;
            Client = client;
        }

        public long Id { get; }

        public TcpClient Client { get; }

        /// <summary>Cancelled when the listener stops.</summary>
        public CancellationToken Stopping => _loop._stop.Token;

        /// <summary>
        /// The peer sent a whole request (or a ClientHello the responder accepted): from now on a flood
        /// no longer drops this connection.
        /// </summary>
        public void Started() => _loop._waiting.TryRemove(Id, out _);

        /// <summary>
        /// A token cancelled after <paramref name="deadline"/> or when the listener stops; cancelling it
        /// closes the socket, so a pending read ends at once.
        /// </summary>
        public CancellationTokenSource Deadline(TimeSpan deadline)
        {
            var timeout = CancellationTokenSource.CreateLinkedTokenSource(Stopping);
            timeout.CancelAfter(deadline);
            timeout.Token.Register(Client.Dispose);
            return timeout;
        }
    }
}
