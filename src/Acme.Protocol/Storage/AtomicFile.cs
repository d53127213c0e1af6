using System;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace Acme.Protocol.Storage;

/// <summary>
/// Writes files so that a reader sees the old content or the new, never a half-written file: the
/// bytes go to a temporary file in the same folder, are flushed to disk, then renamed over the
/// target. Key files are made owner-only before a byte of key material is written.
/// </summary>
public static class AtomicFile
{
    private static readonly MethodInfo? s_setUnixFileMode = typeof(File).GetMethod("SetUnixFileMode",
        BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string), Type.GetType("System.IO.UnixFileMode") ?? typeof(int) }, null);

    public static void WriteAllText(string path, string content, bool ownerOnly) =>
        WriteAllBytes(path, new UTF8Encoding(false).GetBytes(content), ownerOnly);

    public static void WriteAllBytes(string path, byte[] content, bool ownerOnly)
    {
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException("The path has no folder.", nameof(path));
        Directory.CreateDirectory(directory);
        string temp = Path.Combine(directory, "." + Path.GetFileName(fullPath) + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                if (ownerOnly)
                {
                    RestrictToOwner(temp);
                }

                stream.Write(content, 0, content.Length);
                stream.Flush(flushToDisk: true);
            }

            if (File.Exists(fullPath))
            {
                File.Replace(temp, fullPath, null, ignoreMetadataErrors: true);
                if (ownerOnly)
                {
                    // File.Replace keeps the target's permissions on some platforms; set them again.
                    RestrictToOwner(fullPath);
                }
            }
            else
            {
                File.Move(temp, fullPath);
            }
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Mode 0600 on Unix. On Windows the file inherits its folder's ACL (see about_Acme_Security).</summary>
    public static void RestrictToOwner(string path)
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            return;
        }

        if (s_setUnixFileMode is not null)
        {
            // UserRead | UserWrite = 0x100 | 0x80 (octal 0600).
            object mode = Enum.ToObject(s_setUnixFileMode.GetParameters()[1].ParameterType, 0x180);
            s_setUnixFileMode.Invoke(null, new[] { path, mode });
            return;
        }

        if (NativeMethods.chmod(path, 0x180) != 0)
        {
            throw new IOException($"Could not make '{path}' owner-only (errno {Marshal.GetLastWin32Error()}).");
        }
    }

    /// <summary>The Unix permission bits of a file (for checks and tests); null on Windows.</summary>
    public static int? GetUnixMode(string path)
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
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
