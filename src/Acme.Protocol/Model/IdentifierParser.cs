using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Acme.Protocol.Errors;

namespace Acme.Protocol.Model;

/// <summary>
/// Turns what a user typed into ACME identifiers, refusing what no CA would accept before any request
/// is made: names are lower-cased, stripped of a trailing dot, converted to punycode (IDNA), and checked
/// against the DNS rules (RFC 1035, RFC 5890); IP addresses become "ip" identifiers (RFC 8738).
/// </summary>
public static class IdentifierParser
{
    private const int MaxNameLength = 253;
    private const int MaxLabelLength = 63;

    private static string LabelTooLong(string label) =>
        $"the label '{Shorten(label)}' is {label.Length} characters long; a DNS label (the part between dots) has at most {MaxLabelLength} characters";

    private static readonly IdnMapping s_idn = new() { AllowUnassigned = false, UseStd3AsciiRules = true };

    /// <summary>Parses and de-duplicates, keeping the first spelling of each identifier.</summary>
    public static IReadOnlyList<AcmeIdentifier> Parse(IEnumerable<string> names, IEnumerable<string>? ipAddresses = null)
    {
        var result = new List<AcmeIdentifier>();
        var seen = new HashSet<AcmeIdentifier>();
        foreach (string name in names ?? Array.Empty<string>())
        {
            AcmeIdentifier identifier = Parse(name);
            if (seen.Add(identifier))
            {
                result.Add(identifier);
            }
        }

        foreach (string ip in ipAddresses ?? Array.Empty<string>())
        {
            AcmeIdentifier identifier = ParseIpAddress(ip);
            if (seen.Add(identifier))
            {
                result.Add(identifier);
            }
        }

        if (result.Count == 0)
        {
            throw new AcmeArgumentException(AcmeErrorId.NoIdentifier, "No identifier was given: name at least one DNS name or IP address.");
        }

        return result;
    }

    /// <summary>A DNS name (with an optional leading "*.") or an IP address literal.</summary>
    public static AcmeIdentifier Parse(string input)
    {
        if (input is null || input.Trim().Length == 0)
        {
            throw Invalid(input ?? string.Empty, "it is empty");
        }

        string value = input.Trim();
        if (LooksLikeIpAddress(value))
        {
            return ParseIpAddress(value);
        }

        return ParseDnsName(value);
    }

    public static AcmeIdentifier ParseIpAddress(string input)
    {
        string value = (input ?? string.Empty).Trim();
        if (value.StartsWith("[", StringComparison.Ordinal) && value.EndsWith("]", StringComparison.Ordinal))
        {
            value = value.Substring(1, value.Length - 2);
        }

        if (value.IndexOf('%') >= 0)
        {
            throw Invalid(input ?? string.Empty, "an IPv6 zone id (after '%') only means something on this machine; give the address without it");
        }

        if (value.IndexOfAny(new[] { '[', ']' }) >= 0)
        {
            // "[::1]:80" parses as ::1 in .NET; the port would be dropped without a word.
            throw Invalid(input ?? string.Empty, "give the address alone, without a port or stray brackets");
        }

        if (!IPAddress.TryParse(value, out IPAddress? address)
            || (address.AddressFamily == AddressFamily.InterNetwork && value.Split('.').Length != 4))
        {
            throw Invalid(input ?? string.Empty, "it is not a valid IPv4 or IPv6 address");
        }

        // RFC 8738 section 3: "the value field ... MUST contain the textual form of the address as
        // defined in RFC 1123 Section 2.1 for IPv4 and in RFC 5952 Section 4 for IPv6".
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return new AcmeIdentifier(AcmeIdentifier.IpType, address.ToString().ToLowerInvariant());
    }

    public static AcmeIdentifier ParseDnsName(string input)
    {
        string value = input.Trim();
        if (value.IndexOf("://", StringComparison.Ordinal) >= 0 || value.IndexOf('/') >= 0)
        {
            throw Invalid(input, "it looks like a URL; give only the host name, such as 'www.example.com'");
        }

        if (value.IndexOf(':') >= 0)
        {
            throw Invalid(input, "a name cannot hold ':' (a port or a malformed IPv6 address?)");
        }

        foreach (char c in value)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                throw Invalid(input, "it contains white space or control characters");
            }
        }

        if (value.EndsWith(".", StringComparison.Ordinal))
        {
            value = value.Substring(0, value.Length - 1);
        }

        bool wildcard = false;
        if (value.StartsWith("*.", StringComparison.Ordinal))
        {
            wildcard = true;
            value = value.Substring(2);
        }

        if (value.IndexOf('*') >= 0)
        {
            throw Invalid(input, "'*' is allowed only as the whole leftmost label ('*.example.com'), once");
        }

        if (value.Length == 0)
        {
            throw Invalid(input, "it has no name after the wildcard");
        }

        string ascii;
        try
        {
            ascii = s_idn.GetAscii(value).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            ascii = string.Empty;
            foreach (char c in value)
            {
                if (c == '_')
                {
                    throw Invalid(input, "'_' is not allowed in a host name, and CAs do not issue for it");
                }
            }

            // The IDN mapping refuses over-long labels too: say which rule, not just "not valid".
            foreach (string label in value.Split('.'))
            {
                if (label.Length > MaxLabelLength)
                {
                    throw Invalid(input, LabelTooLong(label));
                }
            }

            throw Invalid(input, "it is not a valid host name: use letters, digits and '-', with labels separated by '.'");
        }

        if (ascii.Length > MaxNameLength - (wildcard ? 2 : 0))
        {
            throw Invalid(input, $"it is longer than {MaxNameLength} characters");
        }

        foreach (string label in ascii.Split('.'))
        {
            if (label.Length == 0)
            {
                throw Invalid(input, "it has an empty label ('..')");
            }

            if (label.Length > MaxLabelLength)
            {
                throw Invalid(input, LabelTooLong(label));
            }

            if (label[0] == '-' || label[label.Length - 1] == '-')
            {
                throw Invalid(input, $"the label '{Shorten(label)}' starts or ends with '-'");
            }

            foreach (char c in label)
            {
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
                {
                    throw Invalid(input, c == '_'
                        ? "'_' is not allowed in a host name, and CAs do not issue for it"
                        : $"it holds the character '{c}', which a host name cannot have");
                }
            }
        }

        string last = ascii.Substring(ascii.LastIndexOf('.') + 1);
        bool allDigits = true;
        foreach (char c in last)
        {
            allDigits &= c >= '0' && c <= '9';
        }

        if (allDigits)
        {
            throw Invalid(input, "its last label is all digits: it is neither a host name nor a valid IP address");
        }

        return new AcmeIdentifier(AcmeIdentifier.DnsType, wildcard ? "*." + ascii : ascii);
    }

    private static bool LooksLikeIpAddress(string value)
    {
        if (value.IndexOf(':') >= 0 && value.IndexOf("://", StringComparison.Ordinal) < 0)
        {
            return true;
        }

        foreach (char c in value)
        {
            if (!((c >= '0' && c <= '9') || c == '.'))
            {
                return false;
            }
        }

        return value.IndexOf('.') > 0;
    }

    private static string Shorten(string s) => s.Length <= 20 ? s : s.Substring(0, 20) + "...";

    private static AcmeArgumentException Invalid(string input, string reason)
    {
        string shown = input.Length > 80 ? input.Substring(0, 80) + "..." : input;
        return new AcmeArgumentException(AcmeErrorId.InvalidIdentifier, $"'{shown}' is not a valid identifier: {reason}.");
    }
}
