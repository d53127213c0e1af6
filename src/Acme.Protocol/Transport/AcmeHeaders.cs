using System;
using System.Collections.Generic;
using System.Globalization;

namespace Acme.Protocol.Transport;

/// <summary>Parsers for the response headers ACME relies on.</summary>
public static class AcmeHeaders
{
    /// <summary>
    /// RFC 9110 section 10.2.3: "Retry-After = HTTP-date / delay-seconds". A date in the past, or a
    /// value that is neither, gives null. Negative or absurd values are clamped by the caller's policy.
    /// </summary>
    public static TimeSpan? ParseRetryAfter(string? value, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        string v = value!.Trim();
        if (long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds))
        {
            return TimeSpan.FromSeconds(Math.Min(seconds, (long)TimeSpan.FromDays(365).TotalSeconds));
        }

        if (DateTimeOffset.TryParseExact(v, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset date)
            || DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out date))
        {
            TimeSpan delta = date - now;
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        return null;
    }

    /// <summary>
    /// RFC 8288 Link headers: "&lt;uri&gt;; rel=\"name\"", several per header or in several headers.
    /// Relative references are resolved against <paramref name="baseUri"/>.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, Uri>> ParseLinks(IEnumerable<string> headerValues, Uri baseUri)
    {
        var links = new List<KeyValuePair<string, Uri>>();
        foreach (string header in headerValues)
        {
            int pos = 0;
            while (pos < header.Length)
            {
                int open = header.IndexOf('<', pos);
                if (open < 0)
                {
                    break;
                }

                int close = header.IndexOf('>', open + 1);
                if (close < 0)
                {
                    break;
                }

                string target = header.Substring(open + 1, close - open - 1).Trim();
                int next = FindNextLink(header, close + 1);
                string parameters = header.Substring(close + 1, next - close - 1);
                foreach (string rel in ReadRel(parameters))
                {
                    if (Uri.TryCreate(baseUri, target, out Uri? uri))
                    {
                        links.Add(new KeyValuePair<string, Uri>(rel, uri));
                    }
                }

                pos = next;
            }
        }

        return links;
    }

    private static int FindNextLink(string header, int from)
    {
        bool quoted = false;
        for (int i = from; i < header.Length; i++)
        {
            char c = header[i];
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == ',' && !quoted)
            {
                return i + 1 <= header.Length ? i : header.Length;
            }
        }

        return header.Length;
    }

    private static IEnumerable<string> ReadRel(string parameters)
    {
        foreach (string part in parameters.Split(';'))
        {
            string p = part.Trim().TrimEnd(',').Trim();
            int eq = p.IndexOf('=');
            if (eq < 0 || !p.Substring(0, eq).Trim().Equals("rel", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            string value = p.Substring(eq + 1).Trim().Trim('"');
            // "rel" may hold several space-separated relation types (RFC 8288 section 3.3).
            foreach (string rel in value.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries))
            {
                yield return rel.ToLowerInvariant();
            }
        }
    }
}
