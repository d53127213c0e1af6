using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Acme.Protocol.FileSystem;

/// <summary>
/// The owner-only ACL on Windows without System.IO.FileSystem.AccessControl (whose netstandard2.0
/// package brings a chain of assemblies that Windows PowerShell 5.1 loads without binding
/// redirects): the current user's SID from the process token, an SDDL string, SetFileSecurity.
/// Not exercised by the Linux test run; see about_Acme_State.
/// </summary>
internal static class WindowsAcl
{
    private const uint TokenQuery = 0x0008;
    private const int TokenUser = 1;

    // DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION: set the DACL and stop inheritance.
    private const uint ProtectedDacl = 0x00000004 | 0x80000000;

    private const uint GenericWrite = 0x40000000;
    private const uint CreateNewDisposition = 1;
    private const uint FileAttributeNormal = 0x80;

    public static void RestrictToCurrentUser(string path)
    {
        IntPtr descriptor = OwnerOnlyDescriptor(path);
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

    /// <summary>
    /// A new file whose owner-only DACL is part of its creation (CreateFileW with
    /// SECURITY_ATTRIBUTES), so no moment exists in which it carries what it would inherit.
    /// </summary>
    public static FileStream CreateOwnerOnly(string path)
    {
        IntPtr descriptor = OwnerOnlyDescriptor(path);
        try
        {
            var attributes = new SecurityAttributes
            {
                Length = Marshal.SizeOf(typeof(SecurityAttributes)),
                SecurityDescriptor = descriptor,
                InheritHandle = false,
            };
            var handle = CreateFileW(path, GenericWrite, 0, ref attributes, CreateNewDisposition, FileAttributeNormal, IntPtr.Zero);
            if (handle.IsInvalid)
            {
                int error = Marshal.GetLastWin32Error();
                handle.Dispose();
                throw new IOException($"Could not create '{path}' (Windows error {error}).", error == 80 ? unchecked((int)0x80070050) : error);
            }

            return new FileStream(handle, FileAccess.Write);
        }
        finally
        {
            LocalFree(descriptor);
        }
    }

    private static IntPtr OwnerOnlyDescriptor(string path)
    {
        // "D:P" a protected DACL; "(A;;FA;;;<sid>)" allow FILE_ALL_ACCESS to that SID, and nothing else.
        string sddl = "D:P(A;;FA;;;" + CurrentUserSid() + ")";
        if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, 1, out IntPtr descriptor, out _))
        {
            throw Failure("build the owner-only security descriptor for", path);
        }

        return descriptor;
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

    [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
    private static extern Microsoft.Win32.SafeHandles.SafeFileHandle CreateFileW(string fileName, uint desiredAccess, uint shareMode,
        ref SecurityAttributes securityAttributes, uint creationDisposition, uint flagsAndAttributes, IntPtr templateFile);

    [StructLayout(LayoutKind.Sequential)]
    private struct SecurityAttributes
    {
        public int Length;
        public IntPtr SecurityDescriptor;
        [MarshalAs(UnmanagedType.Bool)]
        public bool InheritHandle;
    }
#pragma warning restore SA1300, IDE1006
}
