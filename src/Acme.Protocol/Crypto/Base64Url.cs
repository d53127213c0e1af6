using System;
using System.Text;

namespace Acme.Protocol.Crypto;

/// <summary>
/// RFC 7515 section 2: "Base64url Encoding: Base64 encoding using the URL- and filename-safe
/// character set defined in Section 5 of RFC 4648, with all trailing '=' characters omitted".
/// </summary>
public static class Base64Url
{
    public static string Encode(byte[] data)
    {
        if (data is null)
        {
            throw new ArgumentNullException(nameof(data));
        }

        return Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static string Encode(string text) => Encode(Encoding.UTF8.GetBytes(text));

    public static byte[] Decode(string text)
    {
        if (text is null)
        {
            throw new ArgumentNullException(nameof(text));
        }

        string s = text.Replace('-', '+').Replace('_', '/');
        switch (s.Length % 4)
        {
            case 0: break;
            case 2: s += "=="; break;
            case 3: s += "="; break;
            default: throw new FormatException("The text is not valid base64url.");
        }

        foreach (char c in s)
        {
            if (!(char.IsLetterOrDigit(c) && c < 128) && c != '+' && c != '/' && c != '=')
            {
                throw new FormatException("The text is not valid base64url.");
            }
        }

        return Convert.FromBase64String(s);
    }
}
