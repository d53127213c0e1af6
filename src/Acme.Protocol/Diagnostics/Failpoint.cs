using System.Threading;
using System.Threading.Tasks;
#if ACME_FAILPOINTS
using System;
using System.IO;
#endif

namespace Acme.Protocol.Diagnostics;

/// <summary>
/// Test-only: named points where a crash-safety test stops the process (tests/Pester/CrashSafety.Tests.ps1).
/// They work only in the test flavour of the module (built with -c Failpoints, which defines
/// ACME_FAILPOINTS; build.ps1 Test stages it to output/failpoints/); in the module a user installs
/// every point is an empty call and nothing reads ACME_TEST_FAILPOINT. In the test flavour, with
/// ACME_TEST_FAILPOINT set to a point's name, reaching it creates the file ACME_TEST_FAILPOINT_SIGNAL
/// names and waits there (Ctrl+C still ends the wait at the asynchronous points) until the test kills
/// the process. The points sit right after something the state folder must survive losing the process
/// for; "writing:&lt;file&gt;" stops inside a state file's write, after the temporary file is flushed and
/// before it replaces the file whose name starts with &lt;file&gt;.
/// </summary>
internal static class Failpoint
{
    /// <summary>The account key is saved; newAccount has not been sent.</summary>
    public const string AccountKeySaved = "account-key-saved";

    /// <summary>The CA created the account and account.json says so.</summary>
    public const string AccountSaved = "account-saved";

    /// <summary>The CA created the order and order.json says so; no challenge is answered yet.</summary>
    public const string OrderSaved = "order-saved";

    /// <summary>The solver presents the answers (listener up, records published); the CA has not been told to validate.</summary>
    public const string ChallengeReady = "challenge-ready";

    /// <summary>The certificate key is saved; finalize has not been sent.</summary>
    public const string OrderKeySaved = "order-key-saved";

    /// <summary>The CA accepted finalize and the state says so; the certificate is not downloaded yet.</summary>
    public const string Finalized = "finalized";

    /// <summary>A change of the key passphrase re-encrypted its N-th secret ("key-rotated:N"); the next is not written yet.</summary>
    public const string KeyRotated = "key-rotated";

#if ACME_FAILPOINTS
    private const string Variable = "ACME_TEST_FAILPOINT";
    private const string SignalVariable = "ACME_TEST_FAILPOINT_SIGNAL";

    /// <summary>Prefix of the points inside a file write: "writing:order-key", "writing:fullchain.pem".</summary>
    private const string WritingPrefix = "writing:";

    public static async Task HitAsync(string name, IAcmeLog log, CancellationToken cancellationToken)
    {
        if (Environment.GetEnvironmentVariable(Variable) != name)
        {
            return;
        }

        log.Verbose($"Stopped at the test failpoint '{name}'.");
        Signal(name);
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Inside a file write (synchronous, like the write): stops when the point is "writing:" and the start of the file's name.</summary>
    public static void HitWriting(string fileName)
    {
        if (Environment.GetEnvironmentVariable(Variable) is { } point && point.StartsWith(WritingPrefix, StringComparison.Ordinal)
            && point.Length > WritingPrefix.Length && fileName.StartsWith(point.Substring(WritingPrefix.Length), StringComparison.Ordinal))
        {
            Signal(point);
            Thread.Sleep(Timeout.Infinite);
        }
    }

    private static void Signal(string name)
    {
        if (Environment.GetEnvironmentVariable(SignalVariable) is { Length: > 0 } signal)
        {
            File.WriteAllText(signal, name);
        }
    }
#else
    /// <summary>Does nothing: this build has no failpoints.</summary>
    public static Task HitAsync(string name, IAcmeLog log, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Does nothing: this build has no failpoints.</summary>
    public static void HitWriting(string fileName)
    {
    }
#endif
}
