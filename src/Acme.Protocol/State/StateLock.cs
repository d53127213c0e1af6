using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.FileSystem;

namespace Acme.Protocol.State;

/// <summary>
/// An exclusive lock on one item of a state folder: its ".lock" file opened with FileShare.None. On
/// Windows the share mode keeps every other opener out; on Unix .NET takes an flock on it. Either
/// way the operating system releases it when the process dies, so a crash never leaves a stale
/// lock, and a second process (or a second runspace of this one) waits for it. A folder nobody can
/// write here (a read-only file system, or one this user may not write) fails at once with
/// AcmeStateReadOnly instead: no other process holds anything there, so waiting cannot help.
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
    private IDisposable? _stream;

    private StateLock(string path, IDisposable? stream, HeldLocks? held, AcmeLocalException? readOnly = null)
    {
        _path = path;
        _stream = stream;
        _held = held;
        ReadOnlyError = readOnly;
    }

    /// <summary>
    /// Set (and no lock held) when the folder cannot be written and the caller asked to read anyway
    /// (allowReadOnly): the AcmeStateReadOnly error to throw before anything is written. Reading needs
    /// no lock: every write is a rename of a complete file, and none can happen here through this process.
    /// </summary>
    public AcmeLocalException? ReadOnlyError { get; }

    public bool IsReadOnly => ReadOnlyError is not null;

    /// <summary>
    /// Takes the lock of <paramref name="folder"/>, waiting up to <paramref name="timeout"/> for another
    /// holder; then fails with AcmeStateLocked. Not async itself, so the held set it may create belongs
    /// to the caller's flow.
    /// </summary>
    /// <param name="sweep">
    /// Also removes the temporary files and folders (".*.tmp") a process that died mid-write left in
    /// <paramref name="folder"/>: every write there happens under this lock, so none is in progress.
    /// </param>
    /// <param name="allowReadOnly">
    /// A folder that cannot be written gives a lock that holds nothing, with <see cref="ReadOnlyError"/>
    /// set, instead of failing: for a caller that may find it has nothing to write.
    /// </param>
    public static Task<StateLock> AcquireAsync(string folder, TimeSpan timeout, IAcmeLog log, CancellationToken cancellationToken, bool sweep = false,
        bool allowReadOnly = false)
    {
        HeldLocks held = s_held.Value ??= new HeldLocks();
        return AcquireCoreAsync(folder, timeout, log, held, sweep, allowReadOnly, cancellationToken);
    }

    /// <summary>
    /// The lock of <paramref name="folder"/> in a backend that locks by itself (<see cref="IStateFiles.LockAsync"/>,
    /// a database), re-entrant within the flow like a lock file; the state folder's backend locks through files.
    /// </summary>
    public static Task<StateLock> AcquireAsync(IStateFiles files, string folder, TimeSpan timeout, IAcmeLog log, CancellationToken cancellationToken,
        bool sweep = false, bool allowReadOnly = false)
    {
        if (files is FolderStateFiles)
        {
            return AcquireAsync(folder, timeout, log, cancellationToken, sweep, allowReadOnly);
        }

        HeldLocks held = s_held.Value ??= new HeldLocks();
        return AcquireBackendAsync(files, folder, timeout, held, sweep, cancellationToken);
    }

    private static async Task<StateLock> AcquireBackendAsync(IStateFiles files, string folder, TimeSpan timeout, HeldLocks held, bool sweep,
        CancellationToken cancellationToken)
    {
        string key = files.Root + "|" + folder.Replace('\\', '/');
        if (held.TryEnter(key))
        {
            return new StateLock(key, null, held);
        }

        IDisposable handle = await (files.LockAsync(folder, timeout, cancellationToken)
            ?? throw new InvalidOperationException("The backend does not lock.")).ConfigureAwait(false);
        held.Add(key);
        if (sweep)
        {
            files.SweepTemporary(folder);
        }

        return new StateLock(key, handle, held);
    }

    private static async Task<StateLock> AcquireCoreAsync(string folder, TimeSpan timeout, IAcmeLog log, HeldLocks held, bool sweep, bool allowReadOnly,
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
            AcmeLocalException failure = ReadOnly(folder, e) ?? new AcmeLocalException(AcmeErrorId.StateWriteFailed, $"Could not create the state folder {folder}: {e.Message}", e);
            return failure.Id == AcmeErrorId.StateReadOnly && allowReadOnly ? new StateLock(path, null, null, failure) : throw failure;
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
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or PathTooLongException)
            {
                throw new AcmeLocalException(AcmeErrorId.StateWriteFailed, $"Could not open the lock file {path}: {e.Message}", e);
            }
            catch (Exception e) when (ReadOnly(folder, e) is { } readOnly)
            {
                return allowReadOnly ? new StateLock(path, null, null, readOnly) : throw readOnly;
            }
            catch (IOException e) when (!IsHeldByAnother(e))
            {
                // Neither another holder nor a read-only folder (a disk error, say): waiting cannot help.
                throw new AcmeLocalException(AcmeErrorId.StateWriteFailed, $"Could not open the lock file {path}: {e.Message}", e);
            }
            catch (IOException e)
            {
                if (DateTimeOffset.UtcNow >= deadline)
                {
                    throw new AcmeLocalException(AcmeErrorId.StateLocked,
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


    // errno values .NET puts in HResult on Unix: EWOULDBLOCK (an flock another holds) is 11 on Linux
    // and 35 on macOS and the BSDs; EROFS is 30 on all of them. On Windows HResult is 0x8007xxxx
    // with the Win32 error: ERROR_SHARING_VIOLATION (32), ERROR_LOCK_VIOLATION (33), ERROR_WRITE_PROTECT (19).
    private const int UnixWouldBlockLinux = 11;
    private const int UnixWouldBlockBsd = 35;
    private const int UnixReadOnlyFileSystem = 30;
    private const int WindowsSharingViolation = unchecked((int)0x80070020);
    private const int WindowsLockViolation = unchecked((int)0x80070021);
    private const int WindowsWriteProtect = unchecked((int)0x80070013);

    /// <summary>The sharing violation (Windows) or refused flock (Unix) of a lock file another process holds.</summary>
    internal static bool IsHeldByAnother(IOException e) =>
        Environment.OSVersion.Platform == PlatformID.Win32NT
            ? e.HResult is WindowsSharingViolation or WindowsLockViolation
            : e.HResult is UnixWouldBlockLinux or UnixWouldBlockBsd;

    /// <summary>
    /// AcmeStateReadOnly when <paramref name="e"/> says nothing can be written in <paramref name="folder"/>:
    /// a read-only file system (EROFS, a write-protected volume), or access denied (EACCES, EPERM,
    /// which .NET raises as UnauthorizedAccessException). Null for anything else.
    /// </summary>
    internal static AcmeLocalException? ReadOnly(string folder, Exception e)
    {
        int readOnlyVolume = Environment.OSVersion.Platform == PlatformID.Win32NT ? WindowsWriteProtect : UnixReadOnlyFileSystem;
        string? why = e switch
        {
            UnauthorizedAccessException => "this user may not write there",
            IOException when e.HResult == readOnlyVolume
                || e.Message.IndexOf("Read-only file system", StringComparison.OrdinalIgnoreCase) >= 0 => "it is on a read-only file system",
            _ => null,
        };
        return why is null ? null
            : new AcmeLocalException(AcmeErrorId.StateReadOnly, $"The state folder {folder} cannot be written ({why}: {e.Message}).", e);
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
