using System;
using System.Collections.Generic;
using System.Globalization;

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
