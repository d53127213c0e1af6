using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.ChallengeStores;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Issuance;
using Acme.Protocol.Model;

namespace Acme.Protocol.Challenges.Http01;

/// <summary>
/// http-01 (RFC 8555 section 8.3) answered either by a listener this process runs, or by publishing
/// into a challenge store that something else serves: files in a web server's root
/// (<see cref="DirectoryChallengeStore"/>), or a store shared by responders behind a load balancer
/// (Start-AcmeChallengeResponder). Solvers on the same port share one listener
/// (<see cref="Http01PortLease"/>), so pipelines running at once do not fight over the CA's port.
/// </summary>
public sealed class Http01Solver : IChallengeSolver
{
    /// <summary>How long a self-check through a balancer retries: a shared store may take a moment to show a write everywhere.</summary>
    private static readonly TimeSpan CheckUrlPatience = TimeSpan.FromSeconds(10);

    private readonly int _port;
    private readonly IPAddress? _address;
    private readonly IChallengeStore? _store;
    private readonly Uri? _checkUrl;
    private readonly bool _selfCheck;
    private readonly IAcmeLog _log;
    private readonly TimeSpan _portWait;
    private readonly IProgress<AcmeProgress>? _progress;
    private readonly HashSet<string> _tokens = new(StringComparer.Ordinal);
    private Http01PortLease? _listener;

    private Http01Solver(int port, IPAddress? address, IChallengeStore? store, Uri? checkUrl, bool selfCheck, IAcmeLog? log,
        TimeSpan portWait = default, IProgress<AcmeProgress>? progress = null)
    {
        _portWait = portWait;
        _progress = progress;
        _port = port;
        _address = address;
        _store = store;
        _checkUrl = checkUrl;
        _selfCheck = selfCheck;
        _log = log ?? NullAcmeLog.Instance;
    }

    public string ChallengeType => AcmeChallenge.Http01;

    /// <summary>Answers from a listener on <paramref name="port"/>, started on first use and stopped by cleanup.</summary>
    /// <param name="portWait">
    /// How long to wait while another process holds the port (another renewal on this machine), retrying
    /// the bind and reporting to <paramref name="progress"/>; zero fails at once with AcmeListenerPortInUse.
    /// </param>
    public static Http01Solver WithListener(int port, IPAddress? address = null, bool selfCheck = true, IAcmeLog? log = null,
        TimeSpan portWait = default, IProgress<AcmeProgress>? progress = null)
    {
        if (port < 1 || port > 65535)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidPort, $"The port {port} is not between 1 and 65535.");
        }

        return new Http01Solver(port, address, null, null, selfCheck, log, portWait, progress);
    }

    /// <summary>Answers by writing "&lt;webRoot&gt;/.well-known/acme-challenge/&lt;token&gt;" files, removed by cleanup.</summary>
    public static Http01Solver WithWebRoot(string webRoot, IAcmeLog? log = null) =>
        WithStore(DirectoryChallengeStore.Open(webRoot, AcmeErrorId.WebRootNotFound), null, log);

    /// <summary>
    /// Publishes the answers into <paramref name="store"/> and runs no listener. With
    /// <paramref name="checkUrl"/> (an http:// URL of a responder or of the load balancer in front of
    /// them), each answer is fetched from there, as the CA would, before the CA is told to validate.
    /// </summary>
    public static Http01Solver WithStore(IChallengeStore store, Uri? checkUrl = null, IAcmeLog? log = null)
    {
        if (store is null)
        {
            throw new ArgumentNullException(nameof(store));
        }

        if (checkUrl is not null && (!checkUrl.IsAbsoluteUri || checkUrl.Scheme != Uri.UriSchemeHttp || !string.IsNullOrEmpty(checkUrl.Query)))
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidCheckUrl,
                $"The check URL '{checkUrl}' must be an http:// URL (the CA validates http-01 over plain HTTP on port 80), such as http://balancer.example.");
        }

        return new Http01Solver(0, null, store, checkUrl, checkUrl is not null, log);
    }

    public async Task PresentAsync(IReadOnlyList<AcmeChallenge> challenges, CancellationToken cancellationToken)
    {
        if (_store is not null)
        {
            await PresentInStoreAsync(challenges, cancellationToken).ConfigureAwait(false);
            return;
        }

        _listener ??= await Http01PortLease.AcquireAsync(_port, _address, _portWait, _log, _progress, cancellationToken).ConfigureAwait(false);
        foreach (AcmeChallenge challenge in challenges)
        {
            if (_tokens.Add(challenge.Token!))
            {
                _listener.Add(challenge.Token!, challenge.KeyAuthorization!);
            }
        }

        _log.Verbose($"The http-01 listener answers on port {_listener.Port}.");
        if (!_selfCheck)
        {
            return;
        }

        foreach (AcmeChallenge challenge in challenges)
        {
            string? answer = await _listener.SelfCheckAsync(challenge.Token!, challenge.Identifier.Value, cancellationToken).ConfigureAwait(false);
            if (answer != challenge.KeyAuthorization)
            {
                throw new AcmeLocalException(AcmeErrorId.SelfCheckFailed,
                    $"The http-01 listener on port {_listener.Port} did not answer its own check for {challenge.Identifier.Value}; the CA was not asked to validate.");
            }
        }
    }

    private async Task PresentInStoreAsync(IReadOnlyList<AcmeChallenge> challenges, CancellationToken cancellationToken)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        foreach (AcmeChallenge challenge in challenges)
        {
            // Recorded first, so cleanup withdraws even an answer whose write failed half-way.
            _tokens.Add(challenge.Token!);
            DateTimeOffset expires = ChallengeStoreFactory.ExpiryFor(challenge, now);
            await _store!.PublishAsync(challenge.Token!, challenge.KeyAuthorization!, expires, cancellationToken).ConfigureAwait(false);
            _log.Verbose(_store is DirectoryChallengeStore directory
                ? $"Wrote the http-01 answer for {challenge.Identifier.Value} to {directory.PathFor(challenge.Token!)}."
                : $"Published the http-01 answer for {challenge.Identifier.Value} to {_store.Description} until {expires.ToLocalTime():u}.");
        }

        if (_checkUrl is null)
        {
            return;
        }

        foreach (AcmeChallenge challenge in challenges)
        {
            await CheckThroughUrlAsync(challenge, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>GETs the answer from the check URL with the identifier as Host, retrying for a few seconds.</summary>
    private async Task CheckThroughUrlAsync(AcmeChallenge challenge, CancellationToken cancellationToken)
    {
        Uri url = _checkUrl!;
        string path = url.AbsolutePath.TrimEnd('/') + "/.well-known/acme-challenge/" + challenge.Token;
        DateTimeOffset deadline = DateTimeOffset.UtcNow + CheckUrlPatience;
        string? answer = null;
        for (TimeSpan delay = TimeSpan.FromMilliseconds(100); ; delay = TimeSpan.FromMilliseconds(Math.Min(1000, delay.TotalMilliseconds * 2)))
        {
            IPAddress[] addresses;
            try
            {
                addresses = url.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6
                    ? new[] { IPAddress.Parse(url.IdnHost.Trim('[', ']')) }
                    : await System.Net.Dns.GetHostAddressesAsync(url.IdnHost).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new AcmeLocalException(AcmeErrorId.SelfCheckFailed, $"The check URL's host {url.Host} does not resolve: {e.Message}; the CA was not asked to validate.", e);
            }

            foreach (IPAddress address in addresses)
            {
                answer = await Http01Server.HttpGetAsync(address, url.Port, path, challenge.Identifier.Value, cancellationToken).ConfigureAwait(false);
                if (answer == challenge.KeyAuthorization)
                {
                    _log.Verbose($"{url.GetLeftPart(UriPartial.Authority)} answers the http-01 challenge for {challenge.Identifier.Value}.");
                    return;
                }
            }

            if (DateTimeOffset.UtcNow + delay > deadline)
            {
                break;
            }

            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }

        throw new AcmeLocalException(AcmeErrorId.SelfCheckFailed,
            $"{url.GetLeftPart(UriPartial.Authority)} did not answer the http-01 challenge for {challenge.Identifier.Value} from {_store!.Description} " +
            $"({(answer is null ? "no 200 response" : "a different answer")} within {CheckUrlPatience.TotalSeconds:0} seconds); the CA was not asked to validate.");
    }

    public async Task CleanupAsync(IReadOnlyList<AcmeChallenge> challenges, CancellationToken cancellationToken)
    {
        foreach (AcmeChallenge challenge in challenges)
        {
            if (challenge.Token is null || !_tokens.Remove(challenge.Token))
            {
                continue;
            }

            if (_store is null)
            {
                _listener?.Remove(challenge.Token);
                continue;
            }

            try
            {
                await _store.RemoveAsync(challenge.Token, cancellationToken).ConfigureAwait(false);
            }
            catch (AcmeException e)
            {
                // The answer expires with its authorization anyway.
                _log.Verbose($"Could not remove the http-01 answer for {challenge.Identifier.Value} from {_store.Description}: {e.Message}");
            }
        }

        if (_tokens.Count == 0 && _listener is not null)
        {
            // Lets go of the shared listener; it stops, freeing the port, when no other solver uses it.
            _listener.Dispose();
            _listener = null;
        }
    }
}
