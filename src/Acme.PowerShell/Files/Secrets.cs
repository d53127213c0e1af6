using System;
using System.Runtime.InteropServices;
using System.Security;
using Acme.Protocol.Errors;

namespace Acme.PowerShell.Files;

/// <summary>
/// Secrets taken as SecureString (passwords, HMAC keys) are copied into char and byte arrays that
/// the caller clears after use, never into strings, so they do not linger in managed memory.
/// </summary>
internal static class Secrets
{
    public static char[] ToChars(SecureString secure)
    {
        IntPtr ptr = Marshal.SecureStringToGlobalAllocUnicode(secure);
        try
        {
            char[] chars = new char[secure.Length];
            Marshal.Copy(ptr, chars, 0, chars.Length);
            return chars;
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(ptr);
        }
    }

    /// <summary>Runs <paramref name="use"/> with the secret's characters, cleared as soon as it returns.</summary>
    public static T WithChars<T>(SecureString secure, Func<char[], T> use)
    {
        char[] chars = ToChars(secure);
        try
        {
            return use(chars);
        }
        finally
        {
            Array.Clear(chars, 0, chars.Length);
        }
    }

    /// <summary>
    /// Decodes base64url (or plain base64) text such as a CA's external account HMAC key. The error
    /// never quotes the text.
    /// </summary>
    public static byte[] DecodeBase64Url(char[] text)
    {
        int length = text.Length;
        while (length > 0 && (char.IsWhiteSpace(text[length - 1]) || text[length - 1] == '='))
        {
            length--;
        }

        int start = 0;
        while (start < length && char.IsWhiteSpace(text[start]))
        {
            start++;
        }

        int count = length - start;
        int padded = count + ((4 - count % 4) % 4);
        char[] buffer = new char[padded];
        try
        {
            for (int i = 0; i < count; i++)
            {
                char c = text[start + i];
                buffer[i] = c == '-' ? '+' : c == '_' ? '/' : c;
                bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '-' || c == '_';
                if (!ok)
                {
                    throw new AcmeArgumentException(AcmeErrorId.InvalidBinding, "The external account HMAC key is not base64url text.");
                }
            }

            for (int i = count; i < padded; i++)
            {
                buffer[i] = '=';
            }

            if (count == 0 || count % 4 == 1)
            {
                throw new AcmeArgumentException(AcmeErrorId.InvalidBinding, "The external account HMAC key is empty or not base64url text.");
            }

            return Convert.FromBase64CharArray(buffer, 0, buffer.Length);
        }
        finally
        {
            Array.Clear(buffer, 0, buffer.Length);
        }
    }
}
