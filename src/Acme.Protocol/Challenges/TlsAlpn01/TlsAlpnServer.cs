using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Challenges.Listening;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Model;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Acme.Protocol.Challenges.TlsAlpn01;

/// <summary>
/// A TLS listener for tls-alpn-01 (RFC 8737) on a plain socket with BouncyCastle's TLS, because the
/// SslStream of netstandard2.0 (and so of Windows PowerShell 5.1) has no ALPN. It completes only
/// handshakes that offer the "acme-tls/1" protocol and name, in SNI, an identifier it holds a
/// challenge certificate for; every other handshake is aborted with an alert. After the handshake
/// the connection is closed: "Once the handshake is completed, the client MUST NOT exchange any
/// further data with the server and MUST immediately close the connection" (RFC 8737 section 3).
/// Handshakes run on BouncyCastle's non-blocking protocol fed by asynchronous socket reads, so a
/// silent peer holds no thread, and each has a deadline; under a flood the oldest connection whose
/// ClientHello has not been accepted yet is dropped (<see cref="TcpAcceptLoop"/>), so junk cannot
/// keep the CA out.
/// </summary>
public sealed class TlsAlpnServer : IDisposable
{
    public const string AlpnProtocol = "acme-tls/1";

    /// <summary>Open connections beyond which the oldest one still waiting in its handshake is dropped.</summary>
    public const int DefaultMaxConnections = 1024;

    private readonly TcpAcceptLoop _accept;
    private readonly IAcmeLog _log;
    private readonly AsymmetricCipherKeyPair _key = TlsAlpnCertificate.GenerateKey();
    private readonly BcTlsCrypto _crypto = new(new SecureRandom());

    // Per SNI name, the answers presented, latest last: two pipelines for the same name at once each
    // add their own; the latest is served, and withdrawing it brings back the one before.
    private readonly Dictionary<string, List<Held>> _certificates = new(StringComparer.Ordinal);
    private long _answered;
    private long _refused;

    private TlsAlpnServer(int port, IPAddress? address, IAcmeLog log, int maxConnections, TimeSpan handshakeTimeout)
    {
        _log = log;
        HandshakeTimeout = handshakeTimeout;
        _accept = TcpAcceptLoop.Start(port, address, "tls-alpn-01", maxConnections, HandleAsync);
    }

    public int Port => _accept.Port;

    /// <summary>How long a client may take to complete its handshake, unless the responder was started with another.</summary>
    internal static readonly TimeSpan DefaultHandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a client may take to complete its handshake.</summary>
    public TimeSpan HandshakeTimeout { get; }

    /// <summary>Handshakes completed with a challenge certificate.</summary>
    public long HandshakesAnswered => Interlocked.Read(ref _answered);

    /// <summary>Handshakes aborted (no acme-tls/1, unknown name, not TLS, too slow).</summary>
    public long HandshakesRefused => Interlocked.Read(ref _refused);

    /// <summary>Connections dropped because too many were open at once.</summary>
    public long ConnectionsDropped => _accept.ConnectionsDropped;

    /// <summary>How many names have an answer.</summary>
    public int Count
    {
        get
        {
            lock (_certificates)
            {
                return _certificates.Count;
            }
        }
    }

    /// <summary>Starts listening on every IPv6 and IPv4 address (or only <paramref name="address"/>).</summary>
    public static TlsAlpnServer Start(int port, IPAddress? address = null, IAcmeLog? log = null) =>
        Start(port, address, log, DefaultMaxConnections);

    /// <summary>Starts a responder with its own limits (tests shorten the handshake deadline); null takes the default.</summary>
    internal static TlsAlpnServer Start(int port, IPAddress? address, IAcmeLog? log, int maxConnections, TimeSpan? handshakeTimeout = null) =>
        new(port, address, log ?? NullAcmeLog.Instance, maxConnections, handshakeTimeout ?? DefaultHandshakeTimeout);

    /// <summary>
    /// The SNI name a CA sends for an identifier: the name itself, or for an IP address its reverse
    /// mapping name (RFC 8738 section 6: "the SNI extension ... MUST be set to the reverse DNS name").
    /// </summary>
    public static string ServerNameFor(AcmeIdentifier identifier)
    {
        if (identifier.Type != AcmeIdentifier.IpType)
        {
            return identifier.Value.ToLowerInvariant();
        }

        byte[] bytes = IPAddress.Parse(identifier.Value).GetAddressBytes();
        if (bytes.Length == 4)
        {
            return string.Join(".", Enumerable.Reverse(bytes).Select(b => b.ToString(System.Globalization.CultureInfo.InvariantCulture))) + ".in-addr.arpa";
        }

        var nibbles = new List<string>();
        foreach (byte b in Enumerable.Reverse(bytes))
        {
            nibbles.Add((b & 0x0F).ToString("x", System.Globalization.CultureInfo.InvariantCulture));
            nibbles.Add((b >> 4).ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }

        return string.Join(".", nibbles) + ".ip6.arpa";
    }

    public void Add(AcmeIdentifier identifier, string keyAuthorization) => Add(identifier, keyAuthorization, this, _log);

    public void Remove(AcmeIdentifier identifier) => Remove(identifier, this);

    /// <summary>Presents an answer on behalf of <paramref name="owner"/>; handshakes it answers are logged to <paramref name="log"/>.</summary>
    internal void Add(AcmeIdentifier identifier, string keyAuthorization, object owner, IAcmeLog log)
    {
        byte[] der = TlsAlpnCertificate.Build(identifier, keyAuthorization, _key).GetEncoded();
        var held = new Held(owner, _crypto.CreateCertificate(der), log);
        lock (_certificates)
        {
            string name = ServerNameFor(identifier);
            if (!_certificates.TryGetValue(name, out List<Held>? list))
            {
                _certificates[name] = list = new List<Held>();
            }

            list.Add(held);
        }
    }

    internal void Remove(AcmeIdentifier identifier, object owner)
    {
        lock (_certificates)
        {
            string name = ServerNameFor(identifier);
            if (_certificates.TryGetValue(name, out List<Held>? list))
            {
                list.RemoveAll(h => ReferenceEquals(h.Owner, owner));
                if (list.Count == 0)
                {
                    _certificates.Remove(name);
                }
            }
        }
    }

    private Held? Find(string serverName)
    {
        lock (_certificates)
        {
            return _certificates.TryGetValue(serverName, out List<Held>? list) && list.Count > 0 ? list[list.Count - 1] : null;
        }
    }

    private async Task HandleAsync(TcpAcceptLoop.Connection connection)
    {
        string peer = connection.Client.Client.RemoteEndPoint?.ToString() ?? "?";
        var server = new ChallengeServer(this);
        var protocol = new TlsServerProtocol();
        NetworkStream stream = connection.Client.GetStream();
        using CancellationTokenSource deadline = connection.Deadline(HandshakeTimeout);
        byte[] buffer = new byte[16 * 1024];
        try
        {
            protocol.Accept(server);
            while (protocol.IsHandshaking)
            {
                int read = await stream.ReadAsync(buffer, 0, buffer.Length, deadline.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new EndOfStreamException("the client closed the connection during the handshake");
                }

                protocol.OfferInput(buffer, 0, read);
                if (server.Held is not null)
                {
                    // A ClientHello for a name held here: a CA, not junk, so a flood no longer drops it.
                    connection.Started();
                }

                await SendOutputAsync(protocol, stream, deadline.Token).ConfigureAwait(false);
            }

            Interlocked.Increment(ref _answered);
            server.Held!.Log.Verbose($"Answered a tls-alpn-01 handshake for {server.ServerName} from {peer}.");
            protocol.Close();
            await SendOutputAsync(protocol, stream, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            Interlocked.Increment(ref _refused);
            if (!connection.Stopping.IsCancellationRequested)
            {
                // The alert BouncyCastle wrote for a refused handshake, if the peer still listens.
                try
                {
                    await SendOutputAsync(protocol, stream, deadline.Token).ConfigureAwait(false);
                }
                catch (Exception again) when (again is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
                {
                }

                string why = e is OperationCanceledException ? $"no handshake within {HandshakeTimeout.TotalSeconds:0} seconds" : e.Message;
                _log.Verbose($"Refused a TLS handshake from {peer}{(server.ServerName is null ? string.Empty : " for " + server.ServerName)}: {why}");
            }
        }
    }

    private static async Task SendOutputAsync(TlsServerProtocol protocol, Stream stream, CancellationToken cancellationToken)
    {
        int available = protocol.GetAvailableOutputBytes();
        if (available == 0)
        {
            return;
        }

        byte[] output = new byte[available];
        int length = protocol.ReadOutput(output, 0, available);
        await stream.WriteAsync(output, 0, length, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _accept.Dispose();

    private sealed class Held
    {
        public Held(object owner, TlsCertificate certificate, IAcmeLog log)
        {
            Owner = owner;
            Certificate = certificate;
            Log = log;
        }

        public object Owner { get; }

        public TlsCertificate Certificate { get; }

        public IAcmeLog Log { get; }
    }

    /// <summary>One handshake: ALPN must offer acme-tls/1 and SNI must name a held identifier.</summary>
    private sealed class ChallengeServer : DefaultTlsServer
    {
        private static readonly int[] s_cipherSuites =
        {
            CipherSuite.TLS_AES_128_GCM_SHA256,
            CipherSuite.TLS_AES_256_GCM_SHA384,
            CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
            CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        };

        private readonly TlsAlpnServer _responder;

        public ChallengeServer(TlsAlpnServer responder)
            : base(responder._crypto)
        {
            _responder = responder;
        }

        public string? ServerName { get; private set; }

        /// <summary>The answer for the name in SNI, once the ClientHello has been accepted.</summary>
        public Held? Held { get; private set; }

        protected override IList<ProtocolName> GetProtocolNames() => new List<ProtocolName> { ProtocolName.AsUtf8Encoding(AlpnProtocol) };

        protected override int[] GetSupportedCipherSuites() => TlsUtilities.GetSupportedCipherSuites(Crypto, s_cipherSuites);

        public override void ProcessClientExtensions(IDictionary<int, byte[]> clientExtensions)
        {
            // The base class selects the protocol and raises no_application_protocol when the client
            // offered ALPN without acme-tls/1 (RFC 7301 section 3.2).
            base.ProcessClientExtensions(clientExtensions);
            if (m_clientProtocolNames is null || !m_clientProtocolNames.Contains(ProtocolName.AsUtf8Encoding(AlpnProtocol)))
            {
                throw new TlsFatalAlert(AlertDescription.no_application_protocol, "the client did not offer acme-tls/1");
            }

            IList<Org.BouncyCastle.Tls.ServerName>? names = clientExtensions is null ? null : TlsExtensionsUtilities.GetServerNameExtensionClient(clientExtensions);
            Org.BouncyCastle.Tls.ServerName? host = names?.FirstOrDefault(n => n.NameType == NameType.host_name);
            ServerName = host is null ? null : System.Text.Encoding.ASCII.GetString(host.NameData).TrimEnd('.').ToLowerInvariant();
            Held = ServerName is null ? null : _responder.Find(ServerName);
            if (Held is null)
            {
                throw new TlsFatalAlert(AlertDescription.unrecognized_name,
                    ServerName is null ? "the client sent no server name" : $"no challenge is held for {ServerName}");
            }
        }

        public override TlsCredentials GetCredentials()
        {
            TlsCertificate certificate = Held?.Certificate ?? throw new TlsFatalAlert(AlertDescription.internal_error);
            Certificate chain = TlsUtilities.IsTlsV13(m_context)
                ? new Certificate(TlsUtilities.EmptyBytes, new[] { new CertificateEntry(certificate, null) })
                : new Certificate(new[] { certificate });
            return new BcDefaultTlsCredentialedSigner(new TlsCryptoParameters(m_context), _responder._crypto, _responder._key.Private, chain,
                SignatureAndHashAlgorithm.GetInstance(HashAlgorithm.sha256, SignatureAlgorithm.ecdsa));
        }
    }
}
