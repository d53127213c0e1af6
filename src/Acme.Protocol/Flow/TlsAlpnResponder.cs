using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using Acme.Protocol.Crypto;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Acme.Protocol.Flow;

/// <summary>
/// A TLS listener for tls-alpn-01 (RFC 8737) on a plain socket with BouncyCastle's TLS, because the
/// SslStream of netstandard2.0 (and so of Windows PowerShell 5.1) has no ALPN. It completes only
/// handshakes that offer the "acme-tls/1" protocol and name, in SNI, an identifier it holds a
/// challenge certificate for; every other handshake is aborted with an alert. After the handshake
/// the connection is closed: "Once the handshake is completed, the client MUST NOT exchange any
/// further data with the server and MUST immediately close the connection" (RFC 8737 section 3).
/// </summary>
public sealed class TlsAlpnResponder : IDisposable
{
    public const string AlpnProtocol = "acme-tls/1";

    private const int MaxConcurrentConnections = 512;

    private readonly TcpAcceptLoop _accept;
    private readonly IAcmeLog _log;
    private readonly AsymmetricCipherKeyPair _key = TlsAlpnCertificate.GenerateKey();
    private readonly BcTlsCrypto _crypto = new(new SecureRandom());
    private readonly ConcurrentDictionary<string, TlsCertificate> _certificates = new(StringComparer.Ordinal);
    private long _answered;
    private long _refused;

    private TlsAlpnResponder(int port, IPAddress? address, IAcmeLog log)
    {
        _log = log;
        _accept = TcpAcceptLoop.Start(port, address, "tls-alpn-01", MaxConcurrentConnections, Handle);
    }

    public int Port => _accept.Port;

    /// <summary>How long a client may take to complete its handshake.</summary>
    public static TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Handshakes completed with a challenge certificate.</summary>
    public long HandshakesAnswered => Interlocked.Read(ref _answered);

    /// <summary>Handshakes aborted (no acme-tls/1, unknown name, not TLS).</summary>
    public long HandshakesRefused => Interlocked.Read(ref _refused);

    public int Count => _certificates.Count;

    /// <summary>Starts listening on every IPv6 and IPv4 address (or only <paramref name="address"/>).</summary>
    public static TlsAlpnResponder Start(int port, IPAddress? address = null, IAcmeLog? log = null) =>
        new(port, address, log ?? NullAcmeLog.Instance);

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
            return string.Join(".", bytes.Reverse().Select(b => b.ToString(System.Globalization.CultureInfo.InvariantCulture))) + ".in-addr.arpa";
        }

        var nibbles = new List<string>();
        foreach (byte b in bytes.Reverse())
        {
            nibbles.Add((b & 0x0F).ToString("x", System.Globalization.CultureInfo.InvariantCulture));
            nibbles.Add((b >> 4).ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }

        return string.Join(".", nibbles) + ".ip6.arpa";
    }

    public void Add(AcmeIdentifier identifier, string keyAuthorization)
    {
        byte[] der = TlsAlpnCertificate.Build(identifier, keyAuthorization, _key).GetEncoded();
        _certificates[ServerNameFor(identifier)] = _crypto.CreateCertificate(der);
    }

    public void Remove(AcmeIdentifier identifier) => _certificates.TryRemove(ServerNameFor(identifier), out _);

    private void Handle(TcpClient client)
    {
        string peer = client.Client.RemoteEndPoint?.ToString() ?? "?";
        var server = new ChallengeServer(this);
        try
        {
            // BouncyCastle's blocking protocol reads on this thread; the socket timeouts bound a stalled peer.
            int timeout = (int)HandshakeTimeout.TotalMilliseconds;
            client.ReceiveTimeout = timeout;
            client.SendTimeout = timeout;
            var protocol = new TlsServerProtocol(client.GetStream());
            protocol.Accept(server);
            Interlocked.Increment(ref _answered);
            _log.Verbose($"Answered a tls-alpn-01 handshake for {server.ServerName} from {peer}.");
            protocol.Close();
        }
        catch (Exception e) when (e is IOException || e is SocketException || e is ObjectDisposedException || e is TlsException)
        {
            Interlocked.Increment(ref _refused);
            if (_accept is null || !_accept.Stopping.IsCancellationRequested)
            {
                _log.Verbose($"Refused a TLS handshake from {peer}{(server.ServerName is null ? string.Empty : " for " + server.ServerName)}: {e.Message}");
            }
        }
    }

    public void Dispose() => _accept.Dispose();

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

        private readonly TlsAlpnResponder _responder;
        private TlsCertificate? _certificate;

        public ChallengeServer(TlsAlpnResponder responder)
            : base(responder._crypto)
        {
            _responder = responder;
        }

        public string? ServerName { get; private set; }

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
            if (ServerName is null || !_responder._certificates.TryGetValue(ServerName, out _certificate))
            {
                throw new TlsFatalAlert(AlertDescription.unrecognized_name,
                    ServerName is null ? "the client sent no server name" : $"no challenge is held for {ServerName}");
            }
        }

        public override TlsCredentials GetCredentials()
        {
            TlsCertificate certificate = _certificate ?? throw new TlsFatalAlert(AlertDescription.internal_error);
            Certificate chain = TlsUtilities.IsTlsV13(m_context)
                ? new Certificate(TlsUtilities.EmptyBytes, new[] { new CertificateEntry(certificate, null) })
                : new Certificate(new[] { certificate });
            return new BcDefaultTlsCredentialedSigner(new TlsCryptoParameters(m_context), _responder._crypto, _responder._key.Private, chain,
                SignatureAndHashAlgorithm.GetInstance(HashAlgorithm.sha256, SignatureAlgorithm.ecdsa));
        }
    }
}
