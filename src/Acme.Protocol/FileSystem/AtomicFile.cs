using System;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Acme.Protocol.Diagnostics;

namespace Acme.Protocol.FileSystem;

/// <summary>
/// Writes files so that a reader sees the old content or the new, never a half-written file: the
/// bytes go to a temporary file in the same folder, are flushed to disk, then renamed over the
/// target. Every file and folder gets its permissions when it is created, never afterwards, so no
/// other local user can open it in between: key files 0600 (on Windows an owner-only ACL given to
/// CreateFile), other files 0644, state folders 0700 and export folders 0755, whatever the umask
/// (which can only take bits away).
/// </summary>
public static class AtomicFile
{
    private const int OwnerReadWrite = 0x180;          // 0600
    private const int OwnerReadWriteOthersRead = 0x1A4; // 0644
    private const int OwnerOnlyFolder = 0x1C0;          // 0700
    private const int SharedFolder = 0x1ED;             // 0755

    private static readonly bool s_windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

    // .NET 7 and later (PowerShell 7.4+) create files and folders with a Unix mode; netstandard2.0
    // cannot name these members, so they are found once by reflection.
    private static readonly Type? s_unixFileMode = Type.GetType("System.IO.UnixFileMode");
    private static readonly Type? s_fileStreamOptions = Type.GetType("System.IO.FileStreamOptions");
    private static readonly MethodInfo? s_createDirectoryWithMode = s_unixFileMode is null ? null
        : typeof(Directory).GetMethod("CreateDirectory", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string), s_unixFileMode }, null);
    private static readonly ConstructorInfo? s_fileStreamWithOptions = s_fileStreamOptions is null ? null
        : typeof(FileStream).GetConstructor(new[] { typeof(string), s_fileStreamOptions });
    private static readonly MethodInfo? s_setUnixFileMode = s_unixFileMode is null ? null
        : typeof(File).GetMethod("SetUnixFileMode", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string), s_unixFileMode }, null);

    public static void WriteAllText(string path, string content, bool ownerOnly) =>
        WriteAllBytes(path, new UTF8Encoding(false).GetBytes(content), ownerOnly);

    /// <summary>
    /// Writes <paramref name="content"/> to <paramref name="path"/> atomically. Missing folders are
    /// created 0755; a caller that keeps secrets in a folder creates it first with
    /// <see cref="CreateOwnerOnlyFolder"/>. A failure is an IOException that names the file.
    /// </summary>
    public static void WriteAllBytes(string path, byte[] content, bool ownerOnly)
    {
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException("The path has no folder.", nameof(path));
        string temp = Path.Combine(directory, "." + Path.GetFileName(fullPath) + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp");
        try
        {
            CreateFolder(directory, ownerOnly: false);
            using (FileStream stream = CreateNew(temp, ownerOnly))
            {
                stream.Write(content, 0, content.Length);
                stream.Flush(flushToDisk: true);
            }

            Failpoint.HitWriting(Path.GetFileName(fullPath));

            if (File.Exists(fullPath))
            {
                File.Replace(temp, fullPath, null, ignoreMetadataErrors: true);
                if (ownerOnly && s_windows)
                {
                    // ReplaceFile merges the replaced file's security into the result; set it again.
                    WindowsAcl.RestrictToCurrentUser(fullPath);
                }
            }
            else
            {
                File.Move(temp, fullPath);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new IOException($"Could not write {fullPath}: {e.Message}", e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Creates <paramref name="path"/> and any missing parent, each 0700 on Unix (Windows folders keep
    /// the ACL they inherit). An existing folder is left as it is.
    /// </summary>
    public static void CreateOwnerOnlyFolder(string path) => CreateFolder(path, ownerOnly: true);

    /// <summary>Creates <paramref name="path"/> and any missing parent, each 0755 on Unix, not wider whatever the umask.</summary>
    public static void CreateSharedFolder(string path) => CreateFolder(path, ownerOnly: false);

    private static void CreateFolder(string path, bool ownerOnly)
    {
        if (Directory.Exists(path))
        {
            return;
        }

        if (s_windows || s_createDirectoryWithMode is null)
        {
            Directory.CreateDirectory(path);
            if (!s_windows)
            {
                // Runtimes before .NET 7 (PowerShell 7.2 and 7.3): the mode right after creation.
                SetUnixMode(path, ownerOnly ? OwnerOnlyFolder : SharedFolder);
            }

            return;
        }

        // Directory.CreateDirectory(path, mode) gives the mode to the last folder only: create each
        // missing one from the top, so parents made here are no wider than the folder itself.
        string? parent = Path.GetDirectoryName(Path.GetFullPath(path));
        if (parent is not null && !Directory.Exists(parent))
        {
            CreateFolder(parent, ownerOnly);
        }

        try
        {
            s_createDirectoryWithMode.Invoke(null, new object[] { path, Enum.ToObject(s_unixFileMode!, ownerOnly ? OwnerOnlyFolder : SharedFolder) });
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
        }
    }

    /// <summary>
    /// Opens (creating it 0600 if missing) a state folder's lock file for reading and writing, shared
    /// with nobody: on Unix .NET takes an flock on it.
    /// </summary>
    public static FileStream OpenLockFile(string path) =>
        Open(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, OwnerReadWrite);

    /// <summary>A new file (it must not exist) open for writing, with its final permissions from the start.</summary>
    private static FileStream CreateNew(string path, bool ownerOnly)
    {
        if (s_windows && ownerOnly)
        {
            return WindowsAcl.CreateOwnerOnly(path);
        }

        return Open(path, FileMode.CreateNew, FileAccess.Write, ownerOnly ? OwnerReadWrite : OwnerReadWriteOthersRead);
    }

    private static FileStream Open(string path, FileMode fileMode, FileAccess access, int mode)
    {
        if (s_windows)
        {
            return new FileStream(path, fileMode, access, FileShare.None, 1, FileOptions.None);
        }

        if (s_fileStreamWithOptions is null)
        {
            // Runtimes before .NET 7: the file is created with the umask's mode and narrowed at once.
            bool existed = File.Exists(path);
            var fallback = new FileStream(path, fileMode, access, FileShare.None, 1, FileOptions.None);
            if (!existed)
            {
                SetUnixMode(path, mode);
            }

            return fallback;
        }

        object options = Activator.CreateInstance(s_fileStreamOptions!)!;
        s_fileStreamOptions!.GetProperty("Mode")!.SetValue(options, fileMode);
        s_fileStreamOptions.GetProperty("Access")!.SetValue(options, access);
        s_fileStreamOptions.GetProperty("Share")!.SetValue(options, FileShare.None);
        s_fileStreamOptions.GetProperty("BufferSize")!.SetValue(options, 1);
        s_fileStreamOptions.GetProperty("UnixCreateMode")!.SetValue(options, Enum.ToObject(s_unixFileMode!, mode));
        try
        {
            return (FileStream)s_fileStreamWithOptions.Invoke(new[] { path, options });
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    private static void SetUnixMode(string path, int mode)
    {
        if (s_setUnixFileMode is not null)
        {
            s_setUnixFileMode.Invoke(null, new[] { path, Enum.ToObject(s_unixFileMode!, mode) });
            return;
        }

        if (NativeMethods.chmod(path, (uint)mode) != 0)
        {
            throw new IOException($"Could not set the permissions of '{path}' (errno {Marshal.GetLastWin32Error()}).");
        }
    }

    /// <summary>The Unix permission bits of a file (for checks and tests); null on Windows.</summary>
    public static int? GetUnixMode(string path)
    {
        if (s_windows)
        {
            return null;
        }

        MethodInfo? get = typeof(File).GetMethod("GetUnixFileMode", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string) }, null);
        return get is null ? null : Convert.ToInt32(get.Invoke(null, new object[] { path }));
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
#pragma warning disable IDE1006, SA1300 // the C function's own name
        public static extern int chmod(string path, uint mode);
#pragma warning restore IDE1006, SA1300
    }
}
