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

            Flow.Failpoint.HitWriting(Path.GetFileName(fullPath));

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

    /// <summary>
    /// Mode 0600 on Unix. On Windows a protected DACL with one entry, full control for the current
    /// user, replaces what the file inherited from its folder (so SYSTEM and Administrators lose their
    /// inherited access too; an administrator can still take ownership).
    /// </summary>
    public static void RestrictToOwner(string path)
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            WindowsAcl.RestrictToCurrentUser(path);
            return;
        }

        SetUnixMode(path, 0x180);
    }

    /// <summary>Mode 0700 for a folder this module creates for keys (Unix only; Windows folders keep their ACL).</summary>
    public static void RestrictFolderToOwner(string path)
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            SetUnixMode(path, 0x1C0);
        }
    }

    private static void SetUnixMode(string path, int mode)
    {
        if (s_setUnixFileMode is not null)
        {
            // 0x180 is UserRead | UserWrite (octal 0600); 0x1C0 adds UserExecute (0700).
            object value = Enum.ToObject(s_setUnixFileMode.GetParameters()[1].ParameterType, mode);
            s_setUnixFileMode.Invoke(null, new[] { path, value });
            return;
        }

        if (NativeMethods.chmod(path, (uint)mode) != 0)
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

    /// <summary>
    /// The owner-only ACL on Windows without System.IO.FileSystem.AccessControl (whose netstandard2.0
    /// package brings a chain of assemblies that Windows PowerShell 5.1 loads without binding
    /// redirects): the current user's SID from the process token, an SDDL string, SetFileSecurity.
    /// Not exercised by the Linux test run; see about_Acme_State.
    /// </summary>
    private static class WindowsAcl
    {
        private const uint TokenQuery = 0x0008;
        private const int TokenUser = 1;

        // DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION: set the DACL and stop inheritance.
        private const uint ProtectedDacl = 0x00000004 | 0x80000000;

        public static void RestrictToCurrentUser(string path)
        {
            // "D:P" a protected DACL; "(A;;FA;;;<sid>)" allow FILE_ALL_ACCESS to that SID, and nothing else.
            string sddl = "D:P(A;;FA;;;" + CurrentUserSid() + ")";
            if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, 1, out IntPtr descriptor, out _))
            {
                throw Failure("build the owner-only security descriptor for", path);
            }

            try
            {
                if (!SetFileSecurityW(path, ProtectedDacl, descriptor))
                {
                    throw Failure("make owner-only", path);
                }
            }
            finally
            {
                LocalFree(descriptor);
            }
        }

        private static string CurrentUserSid()
        {
            if (!OpenProcessToken(GetCurrentProcess(), TokenQuery, out IntPtr token))
            {
                throw Failure("open the process token to find the current user of", "this process");
            }

            try
            {
                // The first call only reports the size TOKEN_USER needs.
                GetTokenInformation(token, TokenUser, IntPtr.Zero, 0, out int length);
                IntPtr buffer = Marshal.AllocHGlobal(length);
                try
                {
                    if (!GetTokenInformation(token, TokenUser, buffer, length, out _))
                    {
                        throw Failure("read the current user from the token of", "this process");
                    }

                    // TOKEN_USER starts with SID_AND_ATTRIBUTES, which starts with the PSID.
                    if (!ConvertSidToStringSidW(Marshal.ReadIntPtr(buffer), out IntPtr text))
                    {
                        throw Failure("format the current user's SID for", "this process");
                    }

                    try
                    {
                        return Marshal.PtrToStringUni(text) ?? throw Failure("format the current user's SID for", "this process");
                    }
                    finally
                    {
                        LocalFree(text);
                    }
                }
                finally
                {
                    Marshal.FreeHGlobal(buffer);
                }
            }
            finally
            {
                CloseHandle(token);
            }
        }

        private static IOException Failure(string what, string path) =>
            new($"Could not {what} '{path}' (Windows error {Marshal.GetLastWin32Error()}).");

#pragma warning disable SA1300, IDE1006 // the Win32 functions' own names
        [DllImport("kernel32.dll")]
        private static extern IntPtr GetCurrentProcess();

        [DllImport("kernel32.dll", SetLastError = true)]
        private static extern bool CloseHandle(IntPtr handle);

        [DllImport("kernel32.dll")]
        private static extern IntPtr LocalFree(IntPtr memory);

        [DllImport("advapi32.dll", SetLastError = true)]
        private static extern bool OpenProcessToken(IntPtr process, uint desiredAccess, out IntPtr token);

        [DllImport("advapi32.dll", SetLastError = true)]
        private static extern bool GetTokenInformation(IntPtr token, int informationClass, IntPtr information, int length, out int returnLength);

        [DllImport("advapi32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        private static extern bool ConvertSidToStringSidW(IntPtr sid, out IntPtr text);

        [DllImport("advapi32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        private static extern bool ConvertStringSecurityDescriptorToSecurityDescriptorW(string sddl, uint revision, out IntPtr descriptor, out uint size);

        [DllImport("advapi32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        private static extern bool SetFileSecurityW(string fileName, uint securityInformation, IntPtr descriptor);
#pragma warning restore SA1300, IDE1006
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
#pragma warning disable IDE1006, SA1300 // the C function's own name
        public static extern int chmod(string path, uint mode);
#pragma warning restore IDE1006, SA1300
    }
}
