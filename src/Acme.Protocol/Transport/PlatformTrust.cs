using System;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace Acme.Protocol.Transport;

/// <summary>
/// A head start on the platform's certificate trust store for a fresh process.
/// </summary>
/// <remarks>
/// On Linux, .NET reads the whole system trust store (the CA bundle and every file in the certificate
/// directory: about 150 roots on Debian) the first time it builds a chain, and SslStream builds one for
/// every server certificate, with a private root (<see cref="ServerTrust"/>) as with a public CA. In a
/// fresh PowerShell that load took 100-150 ms of the first request to the directory (bench/NOTES.md,
/// issue 19). <see cref="WarmUp"/> does it on a thread-pool thread, started as a cmdlet that asks a CA is
/// created (AcmeServerCmdlet), while that cmdlet binds its parameters and reads the state folder, so that
/// the handshake finds the store cached; a handshake that comes first waits on .NET's own lock around the
/// load, as it would without this. Not at import: a process that only imports, or only reads saved state,
/// would wait for the load at its exit for nothing. Nothing is trusted or changed here: the store is read
/// and a chain is built for one of its own roots. Other platforms keep their trust in the operating system
/// and are left alone.
/// </remarks>
public static class PlatformTrust
{
    private static int s_started;

    /// <summary>Whether <see cref="WarmUp"/> has started the load in this process (once at most).</summary>
    public static bool WarmUpStarted => Volatile.Read(ref s_started) != 0;

    /// <summary>Starts loading the trust store in the background, once per process, on Linux; returns at once.</summary>
    public static void WarmUp()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux) || Interlocked.Exchange(ref s_started, 1) != 0)
        {
            return;
        }

        Task load = Task.Run(Load);
        // A process that exits before the load is done waits for it rather than tearing OpenSSL down under it;
        // the load reads files only, so the wait is bounded by the store's size.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => load.Wait(TimeSpan.FromSeconds(5));
    }

    private static void Load()
    {
        try
        {
            using var store = new X509Store(StoreName.Root, StoreLocation.LocalMachine);
            store.Open(OpenFlags.ReadOnly);
            X509Certificate2Collection roots = store.Certificates;
            try
            {
                if (roots.Count > 0)
                {
                    // The chain code and OpenSSL's verifier are first used here too, off the pipeline's thread.
                    using var chain = new X509Chain();
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
#if NET
                    chain.ChainPolicy.DisableCertificateDownloads = true;
#endif
                    _ = chain.Build(roots[0]);
                }
            }
            finally
            {
                foreach (X509Certificate2 root in roots)
                {
                    root.Dispose();
                }
            }
        }
        catch (Exception)
        {
            // Only a head start: the first handshake reads the store itself and reports any error there.
        }
    }
}
