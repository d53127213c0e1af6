using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Acme.Protocol.Flow;

/// <summary>
/// A listening socket and its accept loop for a challenge responder: dual-stack by default, a bounded
/// number of connections in flight, each handed to the handler on the thread pool, and errors that
/// name the port. Disposing stops accepting and cancels <see cref="Stopping"/> for the handlers.
/// </summary>
internal sealed class TcpAcceptLoop : IDisposable
{
    private readonly TcpListener _listener;
    private readonly Action<TcpClient> _handle;
    private readonly int _maxConnections;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _connections;

    private TcpAcceptLoop(TcpListener listener, int maxConnections, Action<TcpClient> handle)
    {
        _listener = listener;
        _maxConnections = maxConnections;
        _handle = handle;
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _loop = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    public CancellationToken Stopping => _stop.Token;

    /// <param name="what">Names the listener in errors, such as "tls-alpn-01".</param>
    public static TcpAcceptLoop Start(int port, IPAddress? address, string what, int maxConnections, Action<TcpClient> handle)
    {
        TcpListener listener = new(address ?? IPAddress.IPv6Any, port);
        try
        {
            if (address is null)
            {
                listener.Server.DualMode = true;
            }

            listener.Start(128);
        }
        catch (SocketException e) when (address is null && e.SocketErrorCode is SocketError.AddressFamilyNotSupported or SocketError.ProtocolNotSupported)
        {
            return Start(port, IPAddress.Any, what, maxConnections, handle);
        }
        catch (SocketException e)
        {
            throw e.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => new AcmeLocalException("AcmeListenerPortInUse",
                    $"Port {port} is already in use, so the {what} listener cannot start. Stop what holds it or choose another -Port.", e),
                SocketError.AccessDenied => new AcmeLocalException("AcmeListenerAccessDenied",
                    $"Listening on port {port} is not permitted for this user (ports below 1024 need elevated rights).", e),
                _ => new AcmeLocalException("AcmeListenerFailed", $"The {what} listener could not start on port {port}: {e.Message}", e),
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
            catch (Exception e) when (_stop.IsCancellationRequested || e is ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            if (Interlocked.Increment(ref _connections) > _maxConnections)
            {
                Interlocked.Decrement(ref _connections);
                client.Dispose();
                continue;
            }

            _ = Task.Run(() =>
            {
                try
                {
                    using (client)
                    using (_stop.Token.Register(client.Dispose))
                    {
                        _handle(client);
                    }
                }
                finally
                {
                    Interlocked.Decrement(ref _connections);
                }
            });
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
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }
}
