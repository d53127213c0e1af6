using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Acme.Protocol.Json;

/// <summary>A bounded, strict JSON parser (RFC 8259) and a writer for the values above.</summary>
internal static partial class JsonCodec
{
    private const int MaxDepth = 64;

    public static object? Parse(string text)
    {
        var parser = new Parser(text);
        parser.SkipWhitespace();
        object? value = parser.ReadValue(0);
        parser.SkipWhitespace();
        if (!parser.AtEnd)
        {
            throw new FormatException($"Unexpected content after the JSON value at offset {parser.Position}.");
        }

        return value;
    }

    public static JsonObject ParseObject(string text) =>
        Parse(text) as JsonObject ?? throw new FormatException("The JSON document is not an object.");

    public static string Serialize(object? value)
    {
        var sb = new StringBuilder();
        Write(sb, value, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? value, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidOperationException("The value nests too deeply to serialise.");
        }

        switch (value)
        {
            case null:
                sb.Append("null");
                break;
            case string s:
                WriteString(sb, s);
                break;
            case bool b:
                sb.Append(b ? "true" : "false");
                break;
            case int i:
                sb.Append(i.ToString(CultureInfo.InvariantCulture));
                break;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                sb.Append(d.ToString("R", CultureInfo.InvariantCulture));
                break;
            case Uri u:
                WriteString(sb, u.AbsoluteUri);
                break;
            case DateTimeOffset t:
                WriteString(sb, t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
                break;
            case RawJson raw:
                sb.Append(raw.Text);
                break;
            case IEnumerable<KeyValuePair<string, object?>> obj:
                sb.Append('{');
                bool first = true;
                foreach (KeyValuePair<string, object?> pair in obj)
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }

                    first = false;
                    WriteString(sb, pair.Key);
                    sb.Append(':');
                    Write(sb, pair.Value, depth + 1);
                }

                sb.Append('}');
                break;
            case IEnumerable list:
                sb.Append('[');
                bool firstItem = true;
                foreach (object? item in list)
                {
                    if (!firstItem)
                    {
                        sb.Append(',');
                    }

                    firstItem = false;
                    Write(sb, item, depth + 1);
                }

                sb.Append(']');
                break;
            default:
                throw new InvalidOperationException($"Cannot serialise a value of type {value.GetType().Name}.");
        }
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }
}
