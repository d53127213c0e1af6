using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Errors;
using Acme.Protocol.FileSystem;
using Acme.Protocol.Model;

namespace Acme.Protocol.ChallengeStores;

/// <summary>
/// Answers as files in a directory: "&lt;root&gt;/.well-known/acme-challenge/&lt;token&gt;", exactly where a web
/// server whose document root is &lt;root&gt; serves them from (RFC 8555 section 8.3), so the same store
/// is a web root (Start-AcmeHttpChallenge -WebRoot) or a folder shared by several hosts that
/// responders serve. A file's last-write time is set to when the answer expires; responders treat
/// an older file as gone. Locks are files in "&lt;root&gt;/.acme-locks", created exclusively (an atomic
/// create-if-absent on local disks and SMB; NFS needs version 3 or later for it).
/// </summary>
public sealed class DirectoryChallengeStore : IChallengeStore
{
    private const string LockFolder = ".acme-locks";
    private static readonly UTF8Encoding s_utf8 = new(false);

    /// <summary>A break-in on a stale lock that has itself been left for this long is abandoned.</summary>
    private static readonly TimeSpan StaleBreaker = TimeSpan.FromSeconds(30);

    private readonly string _wellKnown;
    private readonly string _folder;
    private readonly string _locks;
    private readonly object _gate = new();
    private bool _createdWellKnown;
    private bool _createdFolder;

    private DirectoryChallengeStore(string root)
    {
        Root = root;
        _wellKnown = Path.Combine(root, ".well-known");
        _folder = Path.Combine(_wellKnown, "acme-challenge");
        _locks = Path.Combine(root, LockFolder);
    }

    public string Root { get; }

    public string Description => "directory " + Root;

    /// <summary>Opens a directory that exists; fails with AcmeStoreNotFound otherwise.</summary>
    public static DirectoryChallengeStore Open(string root, AcmeErrorId notFoundErrorId = AcmeErrorId.StoreNotFound)
    {
        if (string.IsNullOrWhiteSpace(root) || !Directory.Exists(root))
        {
            throw new AcmeArgumentException(notFoundErrorId, $"The folder '{root}' does not exist.");
        }

        return new DirectoryChallengeStore(Path.GetFullPath(root));
    }

    /// <summary>The file an answer is written to.</summary>
    public string PathFor(string token) => Path.Combine(_folder, CheckToken(token));

    public Task PublishAsync(string token, string keyAuthorization, DateTimeOffset expires, CancellationToken cancellationToken)
    {
        string path = PathFor(token);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                CreateFolders();
                // Written in place, not renamed over: a web server must be able to read it, and a token's
                // content never changes, so a reader cannot see a mix of two answers.
                File.WriteAllText(path, keyAuthorization, s_utf8);
                File.SetLastWriteTimeUtc(path, expires.UtcDateTime);
                return Task.CompletedTask;
            }
            catch (DirectoryNotFoundException) when (attempt < 3)
            {
                // Another host removed the emptied folder between our create and write: make it again.
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new AcmeLocalException(e is UnauthorizedAccessException ? AcmeErrorId.WebRootNotWritable : AcmeErrorId.StoreUnavailable,
                    $"The challenge file '{path}' could not be written: {e.Message}", e);
            }
        }
    }

    public Task<string?> GetKeyAuthorizationAsync(string token, CancellationToken cancellationToken)
    {
        string path = PathFor(token);
        try
        {
            var file = new FileInfo(path);
            if (!file.Exists || file.Length > 1024)
            {
                return Task.FromResult<string?>(null);
            }

            if (file.LastWriteTimeUtc < DateTime.UtcNow)
            {
                TryDelete(path);
                return Task.FromResult<string?>(null);
            }

            return Task.FromResult<string?>(File.ReadAllText(path, s_utf8).Trim());
        }
        catch (FileNotFoundException)
        {
            return Task.FromResult<string?>(null);
        }
        catch (DirectoryNotFoundException)
        {
            return Task.FromResult<string?>(null);
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            throw ChallengeStoreFactory.Unavailable(this, e.Message, e);
        }
    }

    public Task RemoveAsync(string token, CancellationToken cancellationToken)
    {
        TryDelete(PathFor(token));
        // Leave behind no empty folder this store made. Deleting a folder fails when another host has
        // just written a file into it, which is what keeps that file.
        lock (_gate)
        {
            if (_createdFolder && TryRemoveFolder(_folder))
            {
                _createdFolder = false;
            }

            if (_createdWellKnown && TryRemoveFolder(_wellKnown))
            {
                _createdWellKnown = false;
            }
        }

        return Task.CompletedTask;
    }

    private void CreateFolders()
    {
        lock (_gate)
        {
            if (!Directory.Exists(_wellKnown))
            {
                AtomicFile.CreateSharedFolder(_wellKnown);
                _createdWellKnown = true;
            }

            if (!Directory.Exists(_folder))
            {
                AtomicFile.CreateSharedFolder(_folder);
                _createdFolder = true;
            }
        }
    }

    public Task CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!Directory.Exists(Root))
            {
                throw ChallengeStoreFactory.Unavailable(this, "the folder is gone", null);
            }

            Directory.GetFileSystemEntries(Root);
            return Task.CompletedTask;
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            throw ChallengeStoreFactory.Unavailable(this, e.Message, e);
        }
    }

    public async Task<StoreLockAttempt> TryLockAsync(string name, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        string path = LockPath(name);
        for (int attempt = 0; attempt < 5; attempt++)
        {
            DateTimeOffset expires = DateTimeOffset.UtcNow + lease;
            try
            {
                AtomicFile.CreateSharedFolder(_locks);
                using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read))
                {
                    byte[] content = s_utf8.GetBytes(LockContent(owner, expires));
                    stream.Write(content, 0, content.Length);
                    stream.Flush(flushToDisk: true);
                }

                return StoreLockAttempt.Taken;
            }
            catch (IOException) when (File.Exists(path) || Directory.Exists(_locks))
            {
                // Held, or being written this very moment: read who holds it.
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw ChallengeStoreFactory.Unavailable(this, $"the lock file '{path}' could not be created: {e.Message}", e);
            }

            (string? holder, DateTimeOffset? until) = ReadLock(path);
            if (holder is null && until is null && !File.Exists(path))
            {
                continue;
            }

            if (until is DateTimeOffset u && u > DateTimeOffset.UtcNow)
            {
                return StoreLockAttempt.HeldBy(holder, u);
            }

            if (holder is null && File.Exists(path) && File.GetLastWriteTimeUtc(path) > DateTime.UtcNow.AddSeconds(-5))
            {
                // Created but not yet written by its taker: held.
                return StoreLockAttempt.HeldBy(null, null);
            }

            await BreakStaleLockAsync(path, holder, cancellationToken).ConfigureAwait(false);
        }

        return StoreLockAttempt.HeldBy(ReadLock(path).Holder, null);
    }

    public Task<bool> ReleaseLockAsync(string name, string owner, CancellationToken cancellationToken)
    {
        string path = LockPath(name);
        if (ReadLock(path).Holder != owner)
        {
            return Task.FromResult(false);
        }

        bool removed = TryDelete(path);
        TryRemoveFolder(_locks);
        return Task.FromResult(removed);
    }

    /// <summary>
    /// Removes a lapsed lock, under a breaker file taken exclusively, and only if it still holds what
    /// was read: two hosts that both found it stale cannot each delete a lock the other just took.
    /// </summary>
    private Task BreakStaleLockAsync(string path, string? staleHolder, CancellationToken cancellationToken)
    {
        string breaker = path + ".break";
        try
        {
            if (File.Exists(breaker) && File.GetLastWriteTimeUtc(breaker) < DateTime.UtcNow - StaleBreaker)
            {
                TryDelete(breaker);
            }

            using (new FileStream(breaker, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
            }
        }
        catch (IOException)
        {
            // Someone else is breaking it; look again shortly.
            return Task.Delay(100, cancellationToken);
        }

        try
        {
            (string? holder, DateTimeOffset? until) = ReadLock(path);
            if (holder == staleHolder && (until is null || until <= DateTimeOffset.UtcNow))
            {
                TryDelete(path);
            }
        }
        finally
        {
            TryDelete(breaker);
        }

        return Task.CompletedTask;
    }

    private string LockPath(string name)
    {
        var safe = new StringBuilder(name.Length);
        foreach (char c in name.ToLowerInvariant())
        {
            safe.Append((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ? c : '_');
        }

        return Path.Combine(_locks, safe + ".lock");
    }

    private static string LockContent(string owner, DateTimeOffset expires) =>
        owner + "\n" + expires.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) + "\n";

    private static (string? Holder, DateTimeOffset? Expires) ReadLock(string path)
    {
        try
        {
            string[] lines = File.ReadAllText(path, s_utf8).Split('\n');
            if (lines.Length < 2 || !long.TryParse(lines[1].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long ms))
            {
                return (null, null);
            }

            return (lines[0].Trim(), DateTimeOffset.FromUnixTimeMilliseconds(ms));
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            return (null, null);
        }
    }

    private static string CheckToken(string token)
    {
        if (token is null || !AcmeChallenge.IsValidToken(token))
        {
            // Only the base64url alphabet reaches the file system: no separators, no dot segments.
            throw new AcmeArgumentException(AcmeErrorId.InvalidToken, "A challenge token must be base64url (letters, digits, '-' and '_').");
        }

        return token;
    }

    private static bool TryDelete(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return false;
            }

            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool TryRemoveFolder(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: false);
            return true;
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            return !Directory.Exists(folder);
        }
    }
}
