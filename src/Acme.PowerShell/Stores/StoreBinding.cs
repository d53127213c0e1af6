using System;
using System.Management.Automation;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.ChallengeStores;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Locking;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Stores;

/// <summary>
/// What the cmdlets share about -Store and -LockStore: binding the parameter to a challenge store (opening
/// one, redacting it for display), and letting go of an order's lock.
/// </summary>
internal static class StoreBinding
{
    /// <summary>
    /// Opens a store from a redis:// or rediss:// connection string or a path; a relative path (or a
    /// PowerShell drive path) is resolved against the current location first.
    /// </summary>
    public static IChallengeStore Open(string connection, Func<string, string> resolvePath, IAcmeLog? log = null)
    {
        string text = connection?.Trim() ?? string.Empty;
        bool isUrl = text.IndexOf("://", StringComparison.Ordinal) > 0;
        string path = text;
        if (!isUrl && text.Length > 0)
        {
            try
            {
                path = resolvePath(text);
            }
            catch (Exception e) when (e is SessionStateException or ArgumentException or NotSupportedException)
            {
                // "host:6379,password=..." (a StackExchange.Redis configuration string) reads as a path on a drive "host".
                throw new AcmeArgumentException(AcmeErrorId.InvalidStore,
                    $"The store '{Redact(text)}' is neither a redis:// or rediss:// URL nor a folder path ({e.Message}). " +
                    "Give Redis as redis://[[user]:password@]host[:port][/database].", e);
            }
        }

        return ChallengeStoreFactory.Open(path, log);
    }

    /// <summary>
    /// The store as it may be shown (error targets, messages): a password in a URL's user information
    /// or in a "password=" option replaced by ***, even when the rest does not parse.
    /// </summary>
    public static string Redact(string? connection)
    {
        string text = connection ?? string.Empty;
        text = Regex.Replace(text, @"(://[^/@:\s]*):[^/@\s]*@", "$1:***@");
        return Regex.Replace(text, @"(password\s*=\s*)[^,;&\s]*", "$1***", RegexOptions.IgnoreCase);
    }

    /// <summary>
    /// Releases the order's certificate lock, if it has one, waiting a few seconds at most. A failure
    /// is only reported: the lock lapses by itself.
    /// </summary>
    public static void ReleaseLock(AcmeOrder order, Action<string> verbose)
    {
        AcmeCertificateLock? held = CertificateLocks.Of(order);
        if (held is null || held.IsReleased)
        {
            return;
        }

        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            bool released = Task.Run(() => held.ReleaseAsync(limit.Token)).GetAwaiter().GetResult();
            verbose(released
                ? $"Released the lock on {held.Name} in {held.Store.Description}."
                : $"The lock on {held.Name} had lapsed before it was released.");
        }
        catch (Exception e) when (e is AcmeException || e is OperationCanceledException)
        {
            verbose($"Could not release the lock on {held.Name} ({e.Message}); it lapses at {held.Expires.ToLocalTime():u}.");
        }
    }
}
