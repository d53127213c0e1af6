using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;

namespace Acme.Protocol.Challenges.Listening;

/// <summary>
/// Starting a challenge listener on a port another process holds. Within one process pipelines share
/// the listener (<see cref="SharedPorts{TResponder}"/>); across processes (two scheduled renewals on
/// one host, validated on the CA's one port) the second cannot join the first, so it waits for the
/// port: it retries the bind with backoff until the port is free or the wait is over, reporting
/// progress, and Ctrl+C ends the wait at once. A port that stays held (a web server, or anything that
/// is not ours) still ends in AcmeListenerPortInUse, naming the port and how long it waited.
/// </summary>
internal static class PortWait
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(2);

    /// <param name="bind">Starts or joins the listener; throws AcmeListenerPortInUse while the port is held.</param>
    /// <param name="wait">How long to wait for the port; zero fails at once.</param>
    public static async Task<T> BindAsync<T>(Func<T> bind, int port, string what, TimeSpan wait, IAcmeLog log, IProgress<AcmeProgress>? progress,
        CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        TimeSpan delay = FirstDelay;
        for (bool first = true; ; first = false)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                T bound = bind();
                if (!first)
                {
                    log.Verbose($"Port {port} is free after waiting {watch.Elapsed.TotalSeconds:0.0} seconds; the {what} listener started.");
                }

                return bound;
            }
            catch (AcmeLocalException e) when (e.Id == AcmeErrorId.ListenerPortInUse)
            {
                TimeSpan left = wait - watch.Elapsed;
                if (wait <= TimeSpan.Zero)
                {
                    throw;
                }

                if (left <= TimeSpan.Zero)
                {
                    throw new AcmeLocalException(AcmeErrorId.ListenerPortInUse,
                        $"Port {port} was still in use after waiting {wait.TotalSeconds:0} seconds for it. {e.Message}", e);
                }

                if (first)
                {
                    log.Verbose($"Port {port} is in use, perhaps by another renewal on this machine; waiting up to {wait.TotalSeconds:0} seconds for it to be free.");
                }

                int percent = (int)Math.Min(99, 100 * watch.Elapsed.TotalMilliseconds / wait.TotalMilliseconds);
                progress?.Report(new AcmeProgress("Answering challenges",
                    $"Waiting for port {port}, held by another process ({Math.Ceiling(left.TotalSeconds):0} seconds left)", percent, (int)Math.Ceiling(left.TotalSeconds)));
                await Task.Delay(left < delay ? left : delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(MaxDelay.TotalMilliseconds, delay.TotalMilliseconds * 1.5));
            }
        }
    }
}
