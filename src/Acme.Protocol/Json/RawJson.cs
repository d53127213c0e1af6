namespace Acme.Protocol.Json;

/// <summary>Already-serialised JSON, written as is (a JWK whose member order is fixed by RFC 7638).</summary>
internal sealed class RawJson
{
    public RawJson(string text) => Text = text;

    public string Text { get; }
}
