using System;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;

namespace Acme.Protocol.Model;

/// <summary>An identifier an order names: "dns" (RFC 8555 section 9.7.7) or "ip" (RFC 8738).</summary>
public sealed class AcmeIdentifier : IEquatable<AcmeIdentifier>
{
    public const string DnsType = "dns";
    public const string IpType = "ip";

    public AcmeIdentifier(string type, string value)
    {
        Type = type ?? throw new ArgumentNullException(nameof(type));
        Value = value ?? throw new ArgumentNullException(nameof(value));
    }

    public string Type { get; }

    public string Value { get; }

    public bool IsWildcard => Type == DnsType && Value.StartsWith("*.", StringComparison.Ordinal);

    internal static AcmeIdentifier FromJson(JsonObject json) =>
        new(json.GetString("type") ?? throw new AcmeProtocolException("An identifier has no type."),
            json.GetString("value") ?? throw new AcmeProtocolException("An identifier has no value."));

    internal JsonObject ToJson() => new() { ["type"] = Type, ["value"] = Value };

    public bool Equals(AcmeIdentifier? other) =>
        other is not null && Type == other.Type && string.Equals(Value, other.Value, StringComparison.OrdinalIgnoreCase);

    public override bool Equals(object? obj) => Equals(obj as AcmeIdentifier);

    public override int GetHashCode() => StringComparer.OrdinalIgnoreCase.GetHashCode(Value) ^ Type.GetHashCode();

    public override string ToString() => Type == DnsType ? Value : $"{Type}:{Value}";
}
