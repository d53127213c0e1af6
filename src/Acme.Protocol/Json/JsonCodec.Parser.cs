using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Acme.Protocol.Json;

internal static partial class JsonCodec
{
    /// <summary>The reader: RFC 8259 text to the values <see cref="JsonObject"/> holds, bounded in depth.</summary>
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
