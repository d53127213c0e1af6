using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Acme.Protocol.Json;

/// <summary>
/// A JSON object as parsed from an ACME server: member names to values (string, long, double,
/// bool, null, <see cref="JsonObject"/> or <see cref="List{T}"/> of values).
/// </summary>
/// <remarks>
/// The module carries its own small JSON reader and writer instead of System.Text.Json: on
/// netstandard2.0 that package drags in seven assemblies whose versions clash with other modules
/// in Windows PowerShell 5.1, which loads module assemblies without binding redirects. ACME bodies
/// are small and flat, so a few hundred lines cover them.
/// </remarks>
internal sealed class JsonObject : Dictionary<string, object?>
{
    public JsonObject() : base(StringComparer.Ordinal) { }

    public string? GetString(string name) => TryGetValue(name, out object? v) ? v as string : null;

    public bool? GetBoolean(string name) => TryGetValue(name, out object? v) && v is bool b ? b : null;

    public long? GetInt64(string name) => TryGetValue(name, out object? v) ? v switch
    {
        long l => l,
        double d when d >= long.MinValue && d <= long.MaxValue => (long)d,
        _ => null,
    } : null;

    public JsonObject? GetObject(string name) => TryGetValue(name, out object? v) ? v as JsonObject : null;

    public List<object?>? GetArray(string name) => TryGetValue(name, out object? v) ? v as List<object?> : null;

    public string[] GetStringArray(string name)
    {
        List<object?>? array = GetArray(name);
        if (array is null)
        {
            return Array.Empty<string>();
        }

        var result = new List<string>(array.Count);
        foreach (object? item in array)
        {
            if (item is string s)
            {
                result.Add(s);
            }
        }

        return result.ToArray();
    }

    public Uri? GetUri(string name)
    {
        string? s = GetString(name);
        return s is not null && Uri.TryCreate(s, UriKind.Absolute, out Uri? uri) ? uri : null;
    }

    /// <summary>RFC 8555 section 7.1: timestamps are RFC 3339 strings.</summary>
    public DateTimeOffset? GetTimestamp(string name)
    {
        string? s = GetString(name);
        return s is not null && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset value)
            ? value
            : null;
    }
}

/// <summary>A bounded, strict JSON parser (RFC 8259) and a writer for the values above.</summary>
internal static class JsonCodec
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

    private sealed class Parser
    {
        private readonly string _text;
        private int _pos;

        public Parser(string text) => _text = text;

        public bool AtEnd => _pos >= _text.Length;

        public int Position => _pos;

        public void SkipWhitespace()
        {
            while (_pos < _text.Length && (_text[_pos] == ' ' || _text[_pos] == '\t' || _text[_pos] == '\n' || _text[_pos] == '\r'))
            {
                _pos++;
            }
        }

        public object? ReadValue(int depth)
        {
            if (depth > MaxDepth)
            {
                throw new FormatException("The JSON document nests too deeply.");
            }

            if (AtEnd)
            {
                throw new FormatException("The JSON document ends unexpectedly.");
            }

            char c = _text[_pos];
            switch (c)
            {
                case '{': return ReadObject(depth);
                case '[': return ReadArray(depth);
                case '"': return ReadString();
                case 't': Expect("true"); return true;
                case 'f': Expect("false"); return false;
                case 'n': Expect("null"); return null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9'))
                    {
                        return ReadNumber();
                    }

                    throw new FormatException($"Unexpected character '{c}' at offset {_pos}.");
            }
        }

        private void Expect(string literal)
        {
            if (string.CompareOrdinal(_text, _pos, literal, 0, literal.Length) != 0)
            {
                throw new FormatException($"Invalid literal at offset {_pos}.");
            }

            _pos += literal.Length;
        }

        private JsonObject ReadObject(int depth)
        {
            var obj = new JsonObject();
            _pos++;
            SkipWhitespace();
            if (!AtEnd && _text[_pos] == '}')
            {
                _pos++;
                return obj;
            }

            while (true)
            {
                SkipWhitespace();
                if (AtEnd || _text[_pos] != '"')
                {
                    throw new FormatException($"Expected a member name at offset {_pos}.");
                }

                string name = ReadString();
                SkipWhitespace();
                if (AtEnd || _text[_pos] != ':')
                {
                    throw new FormatException($"Expected ':' at offset {_pos}.");
                }

                _pos++;
                SkipWhitespace();
                obj[name] = ReadValue(depth + 1);
                SkipWhitespace();
                if (AtEnd)
                {
                    throw new FormatException("The JSON document ends inside an object.");
                }

                if (_text[_pos] == ',')
                {
                    _pos++;
                    continue;
                }

                if (_text[_pos] == '}')
                {
                    _pos++;
                    return obj;
                }

                throw new FormatException($"Expected ',' or '}}' at offset {_pos}.");
            }
        }

        private List<object?> ReadArray(int depth)
        {
            var list = new List<object?>();
            _pos++;
            SkipWhitespace();
            if (!AtEnd && _text[_pos] == ']')
            {
                _pos++;
                return list;
            }

            while (true)
            {
                SkipWhitespace();
                list.Add(ReadValue(depth + 1));
                SkipWhitespace();
                if (AtEnd)
                {
                    throw new FormatException("The JSON document ends inside an array.");
                }

                if (_text[_pos] == ',')
                {
                    _pos++;
                    continue;
                }

                if (_text[_pos] == ']')
                {
                    _pos++;
                    return list;
                }

                throw new FormatException($"Expected ',' or ']' at offset {_pos}.");
            }
        }

        private string ReadString()
        {
            _pos++;
            var sb = new StringBuilder();
            while (true)
            {
                if (AtEnd)
                {
                    throw new FormatException("The JSON document ends inside a string.");
                }

                char c = _text[_pos++];
                if (c == '"')
                {
                    return sb.ToString();
                }

                if (c < 0x20)
                {
                    throw new FormatException($"Unescaped control character in a string at offset {_pos - 1}.");
                }

                if (c != '\\')
                {
                    sb.Append(c);
                    continue;
                }

                if (AtEnd)
                {
                    throw new FormatException("The JSON document ends inside an escape sequence.");
                }

                char e = _text[_pos++];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (_pos + 4 > _text.Length || !int.TryParse(_text.Substring(_pos, 4), NumberStyles.HexNumber,
                            CultureInfo.InvariantCulture, out int code))
                        {
                            throw new FormatException($"Invalid \\u escape at offset {_pos}.");
                        }

                        sb.Append((char)code);
                        _pos += 4;
                        break;
                    default:
                        throw new FormatException($"Invalid escape '\\{e}' at offset {_pos - 1}.");
                }
            }
        }

        private object ReadNumber()
        {
            int start = _pos;
            if (_text[_pos] == '-')
            {
                _pos++;
            }

            bool integral = true;
            while (_pos < _text.Length)
            {
                char c = _text[_pos];
                if (c >= '0' && c <= '9')
                {
                    _pos++;
                }
                else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')
                {
                    integral = false;
                    _pos++;
                }
                else
                {
                    break;
                }
            }

            string token = _text.Substring(start, _pos - start);
            if (integral && long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
            {
                return l;
            }

            if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out double d))
            {
                return d;
            }

            throw new FormatException($"Invalid number '{token}' at offset {start}.");
        }
    }
}

/// <summary>Already-serialised JSON, written as is (a JWK whose member order is fixed by RFC 7638).</summary>
internal sealed class RawJson
{
    public RawJson(string text) => Text = text;

    public string Text { get; }
}
