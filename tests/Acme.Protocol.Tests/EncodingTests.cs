using System;
using System.Linq;
using Acme.Protocol.Crypto;
using Acme.Protocol.Json;
using Xunit;

namespace Acme.Protocol.Tests;

public class EncodingTests
{
    [Theory]
    [InlineData(new byte[0], "")]
    [InlineData(new byte[] { 0xfb }, "-w")]
    [InlineData(new byte[] { 0xff, 0xff }, "__8")]
    [InlineData(new byte[] { 0x03, 0xe0, 0x00 }, "A-AA")]
    public void Base64UrlEncodesWithoutPaddingAndWithUrlAlphabet(byte[] data, string expected)
    {
        Assert.Equal(expected, Base64Url.Encode(data));
        Assert.Equal(data, Base64Url.Decode(expected));
    }

    [Fact]
    public void Base64UrlMatchesRfc7515AppendixCExample()
    {
        // RFC 7515 appendix C: the octets 3, 236, 255, 224, 193 encode as "A-z_4ME".
        Assert.Equal("A-z_4ME", Base64Url.Encode(new byte[] { 3, 236, 255, 224, 193 }));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("ab$c")]
    [InlineData("ab=c")]
    public void Base64UrlRefusesInvalidText(string text)
    {
        Assert.Throws<FormatException>(() => Base64Url.Decode(text));
    }

    [Fact]
    public void Rfc7638ThumbprintExample()
    {
        // RFC 7638 section 3.1: the RSA key and its SHA-256 thumbprint.
        const string n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        string jwk = AcmeKey.RsaCanonicalJwk(Base64Url.Decode("AQAB"), Base64Url.Decode(n));
        Assert.Equal("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", AcmeKey.ComputeThumbprint(jwk));
    }

    [Fact]
    public void JsonRoundTripsAcmeShapes()
    {
        JsonObject parsed = JsonCodec.ParseObject("{\"status\":\"valid\",\"n\":42,\"f\":1.5,\"ok\":true,\"none\":null,\"list\":[\"a\",\"b\\u00e9\\n\"]}");
        Assert.Equal("valid", parsed.GetString("status"));
        Assert.Equal(42L, parsed.GetInt64("n"));
        Assert.Equal(1.5, parsed["f"]);
        Assert.True(parsed.GetBoolean("ok"));
        Assert.Null(parsed["none"]);
        Assert.Equal(new[] { "a", "b\u00e9\n" }, parsed.GetStringArray("list"));
        string again = JsonCodec.Serialize(parsed);
        Assert.Equal(JsonCodec.Serialize(JsonCodec.ParseObject(again)), again);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"a\":}")]
    [InlineData("{\"a\":1,}")]
    [InlineData("[1,2")]
    [InlineData("{\"a\":\"unterminated}")]
    [InlineData("{\"a\":tru}")]
    [InlineData("{\"a\":1} trailing")]
    [InlineData("{\"a\":\"\u0001\"}")]
    public void JsonRefusesMalformedInput(string text)
    {
        Assert.Throws<FormatException>(() => JsonCodec.Parse(text));
    }

    [Fact]
    public void JsonRefusesDeepNesting()
    {
        string deep = new string('[', 1000) + new string(']', 1000);
        Assert.Throws<FormatException>(() => JsonCodec.Parse(deep));
    }

    [Fact]
    public void PemRoundTripsAndReportsTruncation()
    {
        byte[] data = Enumerable.Range(0, 200).Select(i => (byte)i).ToArray();
        string pem = Pem.Encode("CERTIFICATE", data);
        Assert.All(pem.Split('\n').Where(l => l.Length > 0), l => Assert.True(l.Length <= 64));
        Assert.Equal(data, Pem.Decode(pem).Single().Data);
        var e = Assert.Throws<FormatException>(() => Pem.Decode(pem.Substring(0, pem.Length - 30)));
        Assert.Contains("truncated", e.Message);
    }
}
