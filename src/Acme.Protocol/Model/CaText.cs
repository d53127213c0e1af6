using System;
using System.Text;

namespace Acme.Protocol.Model;

/// <summary>
/// Text a CA sent (a problem's detail, a subproblem's identifier, a body without a problem document)
/// made fit for an error message, a log line or a terminal: control characters removed and the length
/// bounded. RFC 8555 section 6.7 says "Clients SHOULD display the 'detail' field of all errors", but
/// the detail is the server's free text: an ESC sequence in it would reach the console (it can move
/// the cursor, rewrite earlier lines or set the window title) and a log file, and 500 subproblems made
/// half a megabyte of message. The raw text stays on <see cref="AcmeProblem"/>.
/// </summary>
internal static class CaText
{
    /// <summary>The most a problem's description (detail and subproblems) may hold in a message.</summary>
    public const int MaxDescription = 4096;

    /// <summary>The most of one detail kept.</summary>
    public const int MaxDetail = 2048;

    /// <summary>The most of one subproblem's line kept.</summary>
    public const int MaxSubproblem = 512;

    /// <summary>The most of a short field (a type, an identifier, a URL) kept.</summary>
    public const int MaxField = 256;

    /// <summary>
    /// The text without C0 controls, DEL, C1 controls or the Unicode bidirectional overrides and
    /// isolates (which can make a terminal show text in another order than it is); tabs and line
    /// breaks become one space so a detail stays readable on one line. Longer than <paramref name="max"/>
    /// characters, it is cut and says how much was left out.
    /// </summary>
    public static string Clean(string? text, int max)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        var sb = new StringBuilder(Math.Min(text!.Length, max + 64));
        int kept = 0;
        int dropped = 0;
        bool lastWasSpace = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c is '\t' or '\r' or '\n')
            {
                c = ' ';
            }
            else if (IsUnsafe(c))
            {
                continue;
            }

            if (c == ' ' && lastWasSpace)
            {
                continue;
            }

            if (kept >= max)
            {
                dropped++;
                continue;
            }

            if (char.IsHighSurrogate(c) && kept + 1 >= max)
            {
                // Never cut a surrogate pair in half.
                kept = max;
                dropped++;
                continue;
            }

            sb.Append(c);
            kept++;
            lastWasSpace = c == ' ';
        }

        string result = sb.ToString().Trim();
        return dropped == 0 ? result : $"{result}... ({dropped} more characters)";
    }

    /// <summary>True for characters that are never shown: C0 (other than tab and line breaks, handled apart), DEL, C1, bidi controls.</summary>
    internal static bool IsUnsafe(char c) =>
        c < 0x20 || (c >= 0x7F && c <= 0x9F) || (c >= '\u202A' && c <= '\u202E') || (c >= '\u2066' && c <= '\u2069');
}
