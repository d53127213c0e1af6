using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Acme.Protocol.Storage;

/// <summary>
/// An exclusive lock on one item of a state folder: its ".lock" file opened with FileShare.None. On
/// Windows the share mode keeps every other opener out; on Unix .NET takes an flock on it. Either
/// way the operating system releases it when the process dies, so a crash never leaves a stale
/// lock, and a second process (or a second runspace of this one) waits for it.
/// </summary>
/// <remarks>
/// The lock is re-entrant within one asynchronous flow: a flow that holds a certificate's lock (the
/// whole of New-AcmeCertificate) can call steps that take it again. The set of held locks travels in
/// an AsyncLocal, so other pipelines and threads never share it.
/// </remarks>
internal sealed class StateLock : IDisposable
{
    public const string FileName = ".lock";

    private static readonly AsyncLocal<HeldLocks?> s_held = new();

    private readonly HeldLocks? _held;
    private readonly string _path;
    private FileStream? _stream;

    private StateLock(string path, FileStream? stream, HeldLocks? held)
    {
        _path = path;
        _stream = stream;
        _held = held;
    }

    /// <summary>
    /// Takes the lock of <paramref name="folder"/>, waiting up to <paramref name="timeout"/> for another
    /// holder; then fails with AcmeStateLocked. Not async itself, so the held set it may create belongs
    /// to the caller's flow.
    /// </summary>
    /// <param name="sweep">
    /// Also removes the temporary files and folders (".*.tmp") a process that died mid-write left in
    /// <paramref name="folder"/>: every write there happens under this lock, so none is in progress.
    /// </param>
    public static Task<StateLock> AcquireAsync(string folder, TimeSpan timeout, IAcmeLog log, CancellationToken cancellationToken, bool sweep = false)
    {
        HeldLocks held = s_held.Value ??= new HeldLocks();
        return AcquireCoreAsync(folder, timeout, log, held, sweep, cancellationToken);
    }

    private static async Task<StateLock> AcquireCoreAsync(string folder, TimeSpan timeout, IAcmeLog log, HeldLocks held, bool sweep,
        CancellationToken cancellationToken)
    {
        string path = Path.Combine(Path.GetFullPath(folder), FileName);
        if (held.TryEnter(path))
        {
            return new StateLock(path, null, held);
        }

        try
        {
            AtomicFile.CreateOwnerOnlyFolder(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file where a folder belongs, a read-only or missing volume.
            throw new AcmeLocalException("AcmeStateWriteFailed", $"Could not create the state folder {folder}: {e.Message}", e);
        }

        DateTimeOffset deadline = DateTimeOffset.UtcNow + timeout;
        TimeSpan delay = TimeSpan.FromMilliseconds(50);
        bool told = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var stream = AtomicFile.OpenLockFile(path);
                held.Add(path);
                if (sweep)
                {
                    SweepTemporary(folder, log);
                }

                return new StateLock(path, stream, held);
            }
            catch (Exception e) when (e is UnauthorizedAccessException or FileNotFoundException or DirectoryNotFoundException or PathTooLongException)
            {
                throw new AcmeLocalException("AcmeStateWriteFailed", $"Could not open the lock file {path}: {e.Message}", e);
            }
            catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException and not PathTooLongException)
            {
                if (DateTimeOffset.UtcNow >= deadline)
                {
                    throw new AcmeLocalException("AcmeStateLocked",
                        $"'{folder}' is in use by another process (it holds {path}); gave up after {timeout.TotalSeconds:0} seconds.", e);
                }

                if (!told)
                {
                    told = true;
                    log.Verbose($"Waiting for another process to release {path} (up to {timeout.TotalSeconds:0} seconds).");
                }

                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(500, delay.TotalMilliseconds * 2));
            }
        }
    }

    internal static void SweepTemporary(string folder, IAcmeLog log)
    {
        int removed = 0;
        foreach (string entry in Directory.GetFileSystemEntries(folder, ".*.tmp"))
        {
            try
            {
                if (Directory.Exists(entry))
                {
                    Directory.Delete(entry, recursive: true);
                }
                else
                {
                    File.Delete(entry);
                }

                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.Verbose($"Could not remove {entry}, left by an interrupted write: {e.Message}");
            }
        }

        if (removed > 0)
        {
            log.Verbose($"Removed {removed} temporary file(s) an interrupted write left in {folder}.");
        }
    }

    public void Dispose()
    {
        if (_stream is null)
        {
            _held?.Exit(_path);
            return;
        }

        _held?.Remove(_path);
        _stream.Dispose();
        _stream = null;
    }

    /// <summary>The lock files one flow holds, with how many times each was entered again.</summary>
    private sealed class HeldLocks
    {
        private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

        public bool TryEnter(string path)
        {
            lock (_counts)
            {
                if (!_counts.TryGetValue(path, out int count))
                {
                    return false;
                }

                _counts[path] = count + 1;
                return true;
            }
        }

        public void Add(string path)
        {
            lock (_counts)
            {
                _counts[path] = 1;
            }
        }

        public void Exit(string path)
        {
            lock (_counts)
            {
                if (_counts.TryGetValue(path, out int count) && count > 1)
                {
                    _counts[path] = count - 1;
                }
            }
        }

        public void Remove(string path)
        {
            lock (_counts)
            {
                _counts.Remove(path);
            }
        }
    }
}
