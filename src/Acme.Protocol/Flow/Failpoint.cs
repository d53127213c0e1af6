using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Acme.Protocol.Flow;

/// <summary>
/// Named points where a crash-safety test stops the process: with ACME_TEST_FAILPOINT set to a point's
/// name, reaching it creates the file ACME_TEST_FAILPOINT_SIGNAL names and waits there (Ctrl+C still
/// ends the wait) until the test kills the process. Unset, a point costs one environment read. The
/// points sit right after something the state folder must survive losing the process for.
/// </summary>
internal static class Failpoint
{
    public const string Variable = "ACME_TEST_FAILPOINT";
    public const string SignalVariable = "ACME_TEST_FAILPOINT_SIGNAL";

    /// <summary>The account key is saved; newAccount has not been sent.</summary>
    public const string AccountKeySaved = "account-key-saved";

    /// <summary>The certificate key is saved; finalize has not been sent.</summary>
    public const string OrderKeySaved = "order-key-saved";

    /// <summary>The CA accepted finalize and the state says so; the certificate is not downloaded yet.</summary>
    public const string Finalized = "finalized";

    public static async Task HitAsync(string name, IAcmeLog log, CancellationToken cancellationToken)
    {
        if (Environment.GetEnvironmentVariable(Variable) != name)
        {
            return;
        }

        log.Verbose($"Stopped at the test failpoint '{name}'.");
        if (Environment.GetEnvironmentVariable(SignalVariable) is { Length: > 0 } signal)
        {
            File.WriteAllText(signal, name);
        }

        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
    }
}
