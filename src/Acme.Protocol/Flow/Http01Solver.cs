using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Acme.Protocol.Flow;

/// <summary>
/// http-01 (RFC 8555 section 8.3) answered either by a listener this process runs, or by files
/// written into a web server's root. Solvers on the same port share one listener
/// (<see cref="Http01Listener"/>), so pipelines running at once do not fight over the CA's port.
/// </summary>
public sealed class Http01Solver : IChallengeSolver
{
    private readonly int _port;
    private readonly IPAddress? _address;
    private readonly string? _webRoot;
    private readonly bool _selfCheck;
    private readonly IAcmeLog _log;
    private readonly List<string> _writtenFiles = new();
    private readonly List<string> _createdDirectories = new();
    private readonly HashSet<string> _tokens = new(StringComparer.Ordinal);
    private Http01Listener? _listener;

    private Http01Solver(int port, IPAddress? address, string? webRoot, bool selfCheck, IAcmeLog? log)
    {
        _port = port;
        _address = address;
        _webRoot = webRoot;
        _selfCheck = selfCheck;
        _log = log ?? NullAcmeLog.Instance;
    }

    public string ChallengeType => AcmeChallenge.Http01;

    /// <summary>Answers from a listener on <paramref name="port"/>, started on first use and stopped by cleanup.</summary>
    public static Http01Solver WithListener(int port, IPAddress? address = null, bool selfCheck = true, IAcmeLog? log = null)
    {
        if (port < 1 || port > 65535)
        {
            throw new AcmeArgumentException("AcmeInvalidPort", $"The port {port} is not between 1 and 65535.");
        }

        return new Http01Solver(port, address, null, selfCheck, log);
    }

    /// <summary>Answers by writing "&lt;webRoot&gt;/.well-known/acme-challenge/&lt;token&gt;" files, removed by cleanup.</summary>
    public static Http01Solver WithWebRoot(string webRoot, IAcmeLog? log = null)
    {
        if (string.IsNullOrWhiteSpace(webRoot) || !Directory.Exists(webRoot))
        {
            throw new AcmeArgumentException("AcmeWebRootNotFound", $"The web root '{webRoot}' does not exist.");
        }

        return new Http01Solver(0, null, Path.GetFullPath(webRoot), false, log);
    }

    public async Task PresentAsync(IReadOnlyList<AcmeChallenge> challenges, CancellationToken cancellationToken)
    {
        if (_webRoot is not null)
        {
            PresentInWebRoot(challenges);
            return;
        }

        _listener ??= Http01Listener.Acquire(_port, _address, _log);
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
                throw new AcmeLocalException("AcmeSelfCheckFailed",
                    $"The http-01 listener on port {_listener.Port} did not answer its own check for {challenge.Identifier.Value}; the CA was not asked to validate.");
            }
        }
    }

    private void PresentInWebRoot(IReadOnlyList<AcmeChallenge> challenges)
    {
        string wellKnown = Path.Combine(_webRoot!, ".well-known");
        string folder = Path.Combine(wellKnown, "acme-challenge");
        foreach (string dir in new[] { wellKnown, folder })
        {
            if (!Directory.Exists(dir))
            {
                Directory.CreateDirectory(dir);
                _createdDirectories.Insert(0, dir);
            }
        }

        foreach (AcmeChallenge challenge in challenges)
        {
            string path = Path.Combine(folder, challenge.Token!);
            try
            {
                File.WriteAllText(path, challenge.KeyAuthorization, new UTF8Encoding(false));
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new AcmeLocalException("AcmeWebRootNotWritable", $"The challenge file '{path}' could not be written: {e.Message}", e);
            }

            _writtenFiles.Add(path);
            _log.Verbose($"Wrote the http-01 answer for {challenge.Identifier.Value} to {path}.");
        }
    }

    public Task CleanupAsync(IReadOnlyList<AcmeChallenge> challenges, CancellationToken cancellationToken)
    {
        foreach (AcmeChallenge challenge in challenges)
        {
            if (challenge.Token is not null && _tokens.Remove(challenge.Token))
            {
                _listener?.Remove(challenge.Token);
            }
        }

        if (_tokens.Count == 0 && _listener is not null)
        {
            // Lets go of the shared listener; it stops, freeing the port, when no other solver uses it.
            _listener.Dispose();
            _listener = null;
        }

        foreach (string file in _writtenFiles)
        {
            try
            {
                File.Delete(file);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                _log.Verbose($"Could not remove the challenge file '{file}': {e.Message}");
            }
        }

        _writtenFiles.Clear();
        foreach (string dir in _createdDirectories)
        {
            try
            {
                if (Directory.GetFileSystemEntries(dir).Length == 0)
                {
                    Directory.Delete(dir);
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
            }
        }

        _createdDirectories.Clear();
        return Task.CompletedTask;
    }
}
