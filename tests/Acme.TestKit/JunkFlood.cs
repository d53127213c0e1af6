using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Acme.TestKit;

/// <summary>
/// Opens many hostile connections to a listener at once and keeps them open until disposed: idle
/// ones, ones that trickle half a request, binary junk, oversized headers, and ones reset straight
/// away. For the http-01 listener's "a flood does not stop a real validation" test.
/// </summary>
public sealed class JunkFlood : IDisposable
{
    private readonly List<TcpClient> _clients = new();

    private JunkFlood()
    {
    }

    /// <summary>How many connections were opened (some the listener may already have closed).</summary>
    public int Opened { get; private set; }

    public static async Task<JunkFlood> OpenAsync(int port, int count, string host = "127.0.0.1")
    {
        var flood = new JunkFlood();
        IPAddress address = IPAddress.Parse(host);
        var tasks = new List<Task>();
        using var gate = new SemaphoreSlim(64);
        for (int i = 0; i < count; i++)
        {
            int kind = i % 5;
            await gate.WaitAsync().ConfigureAwait(false);
            tasks.Add(Task.Run(async () =>
            {
                try
                {
                    await flood.OpenOneAsync(address, port, kind).ConfigureAwait(false);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
        return flood;
    }

    /// <summary>The same, blocking: for PowerShell, which cannot await.</summary>
    public static JunkFlood Open(int port, int count, string host = "127.0.0.1") => OpenAsync(port, count, host).GetAwaiter().GetResult();

    private async Task OpenOneAsync(IPAddress address, int port, int kind)
    {
        var client = new TcpClient(address.AddressFamily);
        try
        {
            await client.ConnectAsync(address, port).ConfigureAwait(false);
            NetworkStream stream = client.GetStream();
            switch (kind)
            {
                case 0:
                    // Connects and says nothing.
                    break;
                case 1:
                    await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /.well-known/acme-challenge/")).ConfigureAwait(false);
                    break;
                case 2:
                    await stream.WriteAsync(new byte[] { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03 }).ConfigureAwait(false);
                    break;
                case 3:
                    await stream.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nX-Junk: " + new string('j', 12000))).ConfigureAwait(false);
                    break;
                default:
                    client.Client.LingerState = new LingerOption(true, 0);
                    client.Dispose();
                    break;
            }
        }
        catch (Exception e) when (e is SocketException or System.IO.IOException or ObjectDisposedException)
        {
            // The listener may refuse or cut a junk connection; that is its right.
        }

        lock (_clients)
        {
            _clients.Add(client);
            Opened++;
        }
    }

    public void Dispose()
    {
        lock (_clients)
        {
            foreach (TcpClient client in _clients)
            {
                client.Dispose();
            }

            _clients.Clear();
        }
    }
}
