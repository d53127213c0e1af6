using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Errors;

namespace Acme.Protocol.Challenges.Dns01;

/// <summary>A DNS server given as "host", "host:port", "[IPv6]:port" or a bare IPv6 address (port 53 by default).</summary>
public sealed class DnsServerAddress
{
    public DnsServerAddress(string host, int port = 53)
    {
        Host = host;
        Port = port;
    }

    public string Host { get; }

    public int Port { get; }

    public static DnsServerAddress Parse(string text)
    {
        string value = (text ?? string.Empty).Trim();
        string host = value;
        int port = 53;
        if (value.StartsWith("[", StringComparison.Ordinal))
        {
            int close = value.IndexOf(']');
            if (close < 0)
            {
                throw Invalid(text);
            }

            host = value.Substring(1, close - 1);
            string rest = value.Substring(close + 1);
            if (rest.Length > 0 && (!rest.StartsWith(":", StringComparison.Ordinal) || !TryPort(rest.Substring(1), out port)))
            {
                throw Invalid(text);
            }
        }
        else if (value.Count(c => c == ':') == 1)
        {
            int colon = value.IndexOf(':');
            host = value.Substring(0, colon);
            if (!TryPort(value.Substring(colon + 1), out port))
            {
                throw Invalid(text);
            }
        }

        if (host.Length == 0 || (host.Contains(":") && !IPAddress.TryParse(host, out _)))
        {
            throw Invalid(text);
        }

        return new DnsServerAddress(host, port);
    }

    /// <summary>The addresses to send to: the host itself when it is an IP address, else what the system resolves it to.</summary>
    public async Task<IReadOnlyList<IPEndPoint>> ResolveAsync(CancellationToken cancellationToken = default)
    {
        if (IPAddress.TryParse(Host, out IPAddress? ip))
        {
            return new[] { new IPEndPoint(ip, Port) };
        }

        cancellationToken.ThrowIfCancellationRequested();
        IPAddress[] addresses;
        try
        {
            addresses = await System.Net.Dns.GetHostAddressesAsync(Host).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new AcmeConnectionException($"The DNS server name '{Host}' does not resolve: {e.Message}", e);
        }

        // IPv4 first: a machine without IPv6 routes would otherwise wait on every v6 address.
        return addresses.OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1).Select(a => new IPEndPoint(a, Port)).ToList();
    }

    public override string ToString() => Port == 53 ? Host : (Host.Contains(":") ? $"[{Host}]:{Port}" : $"{Host}:{Port}");

    private static bool TryPort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;

    private static AcmeArgumentException Invalid(string? text) =>
        new(AcmeErrorId.InvalidDnsServer, $"'{text}' is not a DNS server: give a host name or IP address, optionally with ':port' ('[address]:port' for IPv6).");
}

/// <summary>
/// Sends one DNS query over UDP and, when the answer comes back truncated, again over TCP (RFC 7766
/// section 5: "the client ... SHOULD retry the query over TCP"). Answers whose id or source does not
/// match the query are ignored.
/// </summary>
public static class DnsQueryClient
{
    private const int MaxUdpAttempts = 2;

    /// <summary>How long one attempt waits for an answer.</summary>
    public static TimeSpan DefaultTimeout { get; } = TimeSpan.FromSeconds(2);

    public static async Task<DnsResponse> QueryAsync(IPEndPoint server, string name, DnsRecordType type, bool recursionDesired,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        TimeSpan wait = timeout ?? DefaultTimeout;
        ushort id = NewId();
        byte[] query = DnsMessage.BuildQuery(id, name, type, recursionDesired);
        for (int attempt = 1; ; attempt++)
        {
            byte[]? answer = await QueryUdpAsync(server, query, id, wait, cancellationToken).ConfigureAwait(false);
            if (answer is not null)
            {
                DnsResponse response = Parse(server, answer);
                if (!response.Truncated)
                {
                    return response;
                }

                return Parse(server, await QueryTcpAsync(server, query, id, wait, cancellationToken).ConfigureAwait(false));
            }

            if (attempt >= MaxUdpAttempts)
            {
                throw new AcmeConnectionException($"The DNS server {Describe(server)} did not answer a {type} query for {name} within {wait.TotalSeconds:0.#} seconds.");
            }
        }
    }

    /// <summary>
    /// Sends a whole message (a dynamic UPDATE, say) over UDP and returns the raw answer with the same id,
    /// sending it again over TCP when the answer is truncated (TC). Throws AcmeConnectionException when no answer comes.
    /// </summary>
    public static async Task<byte[]> ExchangeAsync(IPEndPoint server, byte[] message, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        TimeSpan wait = timeout ?? DefaultTimeout;
        ushort id = (ushort)DnsMessage.ReadId(message);
        for (int attempt = 1; ; attempt++)
        {
            byte[]? answer = await QueryUdpAsync(server, message, id, wait, cancellationToken).ConfigureAwait(false);
            if (answer is not null)
            {
                bool truncated = answer.Length >= 4 && (answer[2] & 0x02) != 0;
                return truncated ? await QueryTcpAsync(server, message, id, wait, cancellationToken).ConfigureAwait(false) : answer;
            }

            if (attempt >= MaxUdpAttempts)
            {
                throw new AcmeConnectionException($"The DNS server {Describe(server)} did not answer within {wait.TotalSeconds:0.#} seconds.");
            }
        }
    }

    /// <summary>The recursive resolvers this machine is configured with (resolv.conf on Linux and macOS, the adapters' settings on Windows).</summary>
    public static IReadOnlyList<IPEndPoint> GetSystemResolvers()
    {
        var result = new List<IPEndPoint>();
        try
        {
            foreach (NetworkInterface nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.OperationalStatus != OperationalStatus.Up && nic.NetworkInterfaceType != NetworkInterfaceType.Loopback)
                {
                    continue;
                }

                foreach (IPAddress address in nic.GetIPProperties().DnsAddresses)
                {
                    // fec0::/10 are Windows' unconfigured IPv6 placeholders, never a real resolver.
                    bool placeholder = address.AddressFamily == AddressFamily.InterNetworkV6 && address.IsIPv6SiteLocal;
                    var endpoint = new IPEndPoint(address, 53);
                    if (!placeholder && !result.Contains(endpoint))
                    {
                        result.Add(endpoint);
                    }
                }
            }
        }
        catch (NetworkInformationException)
        {
        }

        return result;
    }

    internal static string Describe(IPEndPoint server) =>
        server.Port == 53 ? server.Address.ToString()
            : server.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{server.Address}]:{server.Port}" : $"{server.Address}:{server.Port}";

    private static DnsResponse Parse(IPEndPoint server, byte[] answer)
    {
        try
        {
            return DnsMessage.Parse(answer);
        }
        catch (FormatException e)
        {
            throw new AcmeConnectionException($"The DNS server {Describe(server)} sent a malformed answer: {e.Message}", e);
        }
    }

    private static async Task<byte[]?> QueryUdpAsync(IPEndPoint server, byte[] query, ushort id, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var udp = new UdpClient(server.AddressFamily);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using CancellationTokenRegistration _ = deadline.Token.Register(() => udp.Dispose());
        try
        {
            udp.Connect(server);
            await udp.SendAsync(query, query.Length).ConfigureAwait(false);
            while (true)
            {
                UdpReceiveResult received = await udp.ReceiveAsync().ConfigureAwait(false);
                if (received.RemoteEndPoint.Equals(server) && DnsMessage.ReadId(received.Buffer) == id)
                {
                    return received.Buffer;
                }
            }
        }
        catch (Exception e) when (deadline.IsCancellationRequested && (e is ObjectDisposedException || e is SocketException))
        {
            cancellationToken.ThrowIfCancellationRequested();
            return null;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset or SocketError.HostUnreachable
            or SocketError.NetworkUnreachable)
        {
            throw new AcmeConnectionException($"The DNS server {Describe(server)} cannot be reached: {e.Message}", e);
        }
    }

    private static async Task<byte[]> QueryTcpAsync(IPEndPoint server, byte[] query, ushort id, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var tcp = new TcpClient(server.AddressFamily);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using CancellationTokenRegistration _ = deadline.Token.Register(() => tcp.Dispose());
        try
        {
            await tcp.ConnectAsync(server.Address, server.Port).ConfigureAwait(false);
            NetworkStream stream = tcp.GetStream();

            // RFC 1035 section 4.2.2: over TCP "the message is prefixed with a two byte length field".
            var framed = new byte[query.Length + 2];
            framed[0] = (byte)(query.Length >> 8);
            framed[1] = (byte)query.Length;
            Buffer.BlockCopy(query, 0, framed, 2, query.Length);
            await stream.WriteAsync(framed, 0, framed.Length, deadline.Token).ConfigureAwait(false);
            byte[] lengthBytes = await ReadExactlyAsync(stream, 2, deadline.Token).ConfigureAwait(false);
            byte[] answer = await ReadExactlyAsync(stream, (lengthBytes[0] << 8) | lengthBytes[1], deadline.Token).ConfigureAwait(false);
            if (DnsMessage.ReadId(answer) != id)
            {
                throw new AcmeConnectionException($"The DNS server {Describe(server)} answered over TCP with another query's id.");
            }

            return answer;
        }
        catch (Exception e) when (e is ObjectDisposedException || e is SocketException || e is System.IO.IOException || e is OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new AcmeConnectionException($"The DNS server {Describe(server)} did not answer over TCP: {e.Message}", e);
        }
    }

    private static async Task<byte[]> ReadExactlyAsync(NetworkStream stream, int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        int read = 0;
        while (read < count)
        {
            int n = await stream.ReadAsync(buffer, read, count - read, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new System.IO.IOException("The connection closed before the whole answer arrived.");
            }

            read += n;
        }

        return buffer;
    }

    private static ushort NewId()
    {
        // A random id (RFC 5452 section 9.2) so a stray or spoofed answer is not taken for ours.
        var bytes = new byte[2];
        using (var rng = RandomNumberGenerator.Create())
        {
            rng.GetBytes(bytes);
        }

        return (ushort)((bytes[0] << 8) | bytes[1]);
    }
}
