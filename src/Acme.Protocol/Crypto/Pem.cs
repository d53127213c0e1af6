using System;
using System.Collections.Generic;
using System.Text;

namespace Acme.Protocol.Crypto;

/// <summary>RFC 7468 textual encoding: "-----BEGIN label-----", base64 in 64-character lines, "-----END label-----".</summary>
public static class Pem
{
    public static string Encode(string label, byte[] der)
    {
        var sb = new StringBuilder();
        sb.Append("-----BEGIN ").Append(label).Append("-----\n");
        string b64 = Convert.ToBase64String(der);
        for (int i = 0; i < b64.Length; i += 64)
        {
            sb.Append(b64, i, Math.Min(64, b64.Length - i)).Append('\n');
        }

        sb.Append("-----END ").Append(label).Append("-----\n");
        return sb.ToString();
    }

    /// <summary>Every PEM block in the text, in order. Text outside blocks is ignored, as RFC 7468 allows.</summary>
    public static IReadOnlyList<PemBlock> Decode(string text)
    {
        var blocks = new List<PemBlock>();
        int pos = 0;
        while (true)
        {
            int begin = text.IndexOf("-----BEGIN ", pos, StringComparison.Ordinal);
            if (begin < 0)
            {
                break;
            }

            int labelEnd = text.IndexOf("-----", begin + 11, StringComparison.Ordinal);
            if (labelEnd < 0)
            {
                throw new FormatException("A PEM block has an unterminated BEGIN line.");
            }

            string label = text.Substring(begin + 11, labelEnd - begin - 11);
            string endMarker = "-----END " + label + "-----";
            int end = text.IndexOf(endMarker, labelEnd + 5, StringComparison.Ordinal);
            if (end < 0)
            {
                throw new FormatException($"The PEM block '{label}' has no END line: the file is truncated or damaged.");
            }

            string body = text.Substring(labelEnd + 5, end - labelEnd - 5);
            var b64 = new StringBuilder(body.Length);
            bool hasHeaders = false;
            foreach (string line in body.Split('\n'))
            {
                string trimmed = line.Trim();
                if (trimmed.IndexOf(':') >= 0)
                {
                    hasHeaders = true;
                    continue;
                }

                b64.Append(trimmed);
            }

            byte[] der;
            try
            {
                der = Convert.FromBase64String(b64.ToString());
            }
            catch (FormatException e)
            {
                throw new FormatException($"The PEM block '{label}' is not valid base64: the file is truncated or damaged.", e);
            }

            blocks.Add(new PemBlock(label, der, hasHeaders));
            pos = end + endMarker.Length;
        }

        return blocks;
    }
}

public sealed class PemBlock
{
    public PemBlock(string label, byte[] data, bool hasHeaders)
    {
        Label = label;
        Data = data;
        HasHeaders = hasHeaders;
    }

    public string Label { get; }

    public byte[] Data { get; }

    /// <summary>True for legacy OpenSSL blocks with "Proc-Type"/"DEK-Info" headers (encrypted traditional keys).</summary>
    public bool HasHeaders { get; }
}
