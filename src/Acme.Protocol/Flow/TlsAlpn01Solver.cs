using System.Collections.Generic;
using System.Net;
using System.Threading;
using System.Threading.Tasks;

namespace Acme.Protocol.Flow;

/// <summary>
/// tls-alpn-01 (RFC 8737) answered by the process's shared <see cref="TlsAlpnResponder"/> on the port
/// (<see cref="TlsAlpnListener"/>), so pipelines running at once do not fight over the CA's port.
/// </summary>
public sealed class TlsAlpn01Solver : IChallengeSolver
{
    private readonly int _port;
    private readonly IPAddress? _address;
    private readonly IAcmeLog _log;
    private TlsAlpnListener? _listener;

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

    /// <summary>This solver's lease on the listener, while answers are presented.</summary>
    public TlsAlpnListener? Listener => _listener;

    public Task PresentAsync(IReadOnlyList<AcmeChallenge> challenges, CancellationToken cancellationToken)
    {
        _listener ??= TlsAlpnListener.Acquire(_port, _address, _log);
        foreach (AcmeChallenge challenge in challenges)
        {
            _listener.Add(challenge.Identifier, challenge.KeyAuthorization!);
        }

        _log.Verbose($"The tls-alpn-01 listener answers for {challenges.Count} name(s) on port {_listener.Port}.");
        return Task.CompletedTask;
    }

    public Task CleanupAsync(IReadOnlyList<AcmeChallenge> challenges, CancellationToken cancellationToken)
    {
        if (_listener is null)
        {
            return Task.CompletedTask;
        }

        foreach (AcmeChallenge challenge in challenges)
        {
            _listener.Remove(challenge.Identifier);
        }

        if (_listener.Count == 0)
        {
            _listener.Dispose();
            _listener = null;
        }

        return Task.CompletedTask;
    }
}
