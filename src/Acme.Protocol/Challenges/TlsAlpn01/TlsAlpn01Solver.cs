using System;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Issuance;
using Acme.Protocol.Model;

namespace Acme.Protocol.Challenges.TlsAlpn01;

/// <summary>
/// tls-alpn-01 (RFC 8737) answered by the process's shared <see cref="TlsAlpnServer"/> on the port
/// (<see cref="TlsAlpnPortLease"/>), so pipelines running at once do not fight over the CA's port.
/// </summary>
public sealed class TlsAlpn01Solver : IChallengeSolver
{
    private readonly int _port;
    private readonly IPAddress? _address;
    private readonly IAcmeLog _log;
    private readonly TimeSpan _portWait;
    private readonly IProgress<AcmeProgress>? _progress;
    private TlsAlpnPortLease? _listener;

    /// <param name="portWait">
    /// How long to wait while another process holds the port (another renewal on this machine), retrying
    /// the bind and reporting to <paramref name="progress"/>; zero fails at once with AcmeListenerPortInUse.
    /// </param>
    public TlsAlpn01Solver(int port, IPAddress? address = null, IAcmeLog? log = null, TimeSpan portWait = default, IProgress<AcmeProgress>? progress = null)
    {
        if (port < 1 || port > 65535)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidPort, $"The port {port} is not between 1 and 65535.");
        }

        _port = port;
        _address = address;
        _log = log ?? NullAcmeLog.Instance;
        _portWait = portWait;
        _progress = progress;
    }

    public string ChallengeType => AcmeChallenge.TlsAlpn01;

    /// <summary>This solver's lease on the listener, while answers are presented.</summary>
    public TlsAlpnPortLease? Listener => _listener;

    public async Task PresentAsync(IReadOnlyList<AcmeChallenge> challenges, CancellationToken cancellationToken)
    {
        _listener ??= await TlsAlpnPortLease.AcquireAsync(_port, _address, _portWait, _log, _progress, cancellationToken).ConfigureAwait(false);
        foreach (AcmeChallenge challenge in challenges)
        {
            _listener.Add(challenge.Identifier, challenge.KeyAuthorization!);
        }

        _log.Verbose($"The tls-alpn-01 listener answers for {challenges.Count} name(s) on port {_listener.Port}.");
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
