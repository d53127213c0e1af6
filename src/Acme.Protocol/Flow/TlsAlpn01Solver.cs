using System.Collections.Generic;
using System.Net;
using System.Threading;
using System.Threading.Tasks;

namespace Acme.Protocol.Flow;

/// <summary>tls-alpn-01 (RFC 8737) answered by a <see cref="TlsAlpnResponder"/> this process starts and stops.</summary>
public sealed class TlsAlpn01Solver : IChallengeSolver
{
    private readonly int _port;
    private readonly IPAddress? _address;
    private readonly IAcmeLog _log;
    private TlsAlpnResponder? _responder;

    public TlsAlpn01Solver(int port, IPAddress? address = null, IAcmeLog? log = null)
    {
        if (port < 1 || port > 65535)
        {
            throw new AcmeArgumentException("AcmeInvalidPort", $"The port {port} is not between 1 and 65535.");
        }

        _port = port;
        _address = address;
        _log = log ?? NullAcmeLog.Instance;
    }

    public string ChallengeType => AcmeChallenge.TlsAlpn01;

    /// <summary>The running responder, while answers are presented.</summary>
    public TlsAlpnResponder? Responder => _responder;

    public Task PresentAsync(IReadOnlyList<AcmeChallenge> challenges, CancellationToken cancellationToken)
    {
        _responder ??= TlsAlpnResponder.Start(_port, _address, _log);
        foreach (AcmeChallenge challenge in challenges)
        {
            _responder.Add(challenge.Identifier, challenge.KeyAuthorization!);
        }

        _log.Verbose($"The tls-alpn-01 listener answers for {challenges.Count} name(s) on port {_responder.Port}.");
        return Task.CompletedTask;
    }

    public Task CleanupAsync(IReadOnlyList<AcmeChallenge> challenges, CancellationToken cancellationToken)
    {
        if (_responder is null)
        {
            return Task.CompletedTask;
        }

        foreach (AcmeChallenge challenge in challenges)
        {
            _responder.Remove(challenge.Identifier);
        }

        if (_responder.Count == 0)
        {
            _log.Verbose($"Stopped the tls-alpn-01 listener on port {_port} ({_responder.HandshakesAnswered} handshake(s) answered, {_responder.HandshakesRefused} refused).");
            _responder.Dispose();
            _responder = null;
        }

        return Task.CompletedTask;
    }
}
