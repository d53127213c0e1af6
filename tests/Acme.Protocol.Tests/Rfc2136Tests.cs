using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using Acme.Protocol.Challenges.Dns01.Providers;
using Acme.Protocol.Errors;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>The RFC 2136 UPDATE message and its TSIG (RFC 8945) signature; the Pester tests run the provider against a real BIND.</summary>
public class Rfc2136Tests
{
    private static readonly byte[] s_secret = Encoding.ASCII.GetBytes("0123456789abcdef0123456789abcdef");

    [Fact]
    public void Update_message_has_opcode_5_the_zone_section_and_class_NONE_deletes()
    {
        var records = new[] { new KeyValuePair<string, string>("_acme-challenge.Example.Test.", "abc") };
        byte[] add = Rfc2136Provider.BuildUpdate(0x1234, "example.test", records, adding: true, ttl: 60);
        Assert.Equal(new byte[] { 0x12, 0x34, 0x28, 0x00, 0, 1, 0, 0, 0, 1, 0, 0 }, add.Take(12).ToArray());
        byte[] zone = Wire("example.test").Concat(new byte[] { 0, 6, 0, 1 }).ToArray();
        Assert.Equal(zone, add.Skip(12).Take(zone.Length).ToArray());
        byte[] rr = Wire("_acme-challenge.example.test").Concat(new byte[] { 0, 16, 0, 1, 0, 0, 0, 60, 0, 4, 3, (byte)'a', (byte)'b', (byte)'c' }).ToArray();
        Assert.Equal(rr, add.Skip(12 + zone.Length).ToArray());

        byte[] delete = Rfc2136Provider.BuildUpdate(1, "example.test", records, adding: false, ttl: 60);
        byte[] deleteRr = Wire("_acme-challenge.example.test").Concat(new byte[] { 0, 16, 0, 254, 0, 0, 0, 0, 0, 4, 3, (byte)'a', (byte)'b', (byte)'c' }).ToArray();
        Assert.Equal(deleteRr, delete.Skip(12 + zone.Length).ToArray());
    }

    [Fact]
    public void A_long_value_is_split_into_character_strings_of_255_bytes()
    {
        string value = new('x', 300);
        byte[] message = Rfc2136Provider.BuildUpdate(1, "t", new[] { new KeyValuePair<string, string>("a.t", value) }, true, 60);
        int rdataAt = 12 + Wire("t").Length + 4 + Wire("a.t").Length + 10;
        Assert.Equal(302, (message[rdataAt - 2] << 8) | message[rdataAt - 1]);
        Assert.Equal(255, message[rdataAt]);
        Assert.Equal(45, message[rdataAt + 256]);
    }

    [Fact]
    public void Tsig_mac_is_the_hmac_of_the_message_and_the_tsig_variables_of_RFC8945_section_4_3()
    {
        var key = new TsigKey("Update-Key.", "HMAC-SHA256", s_secret);
        byte[] message = Rfc2136Provider.BuildUpdate(0xBEEF, "example.test", new[] { new KeyValuePair<string, string>("a.example.test", "v") }, true, 60);
        byte[] signed = Tsig.Sign(message, key, 0x0000_6553_F100, out byte[] mac);

        // The variables spelled out: key name, class ANY, TTL 0, algorithm, time (48 bits), fudge 300, error 0, other length 0.
        byte[] variables = Wire("update-key").Concat(new byte[] { 0, 255, 0, 0, 0, 0 }).Concat(Wire("hmac-sha256"))
            .Concat(new byte[] { 0x00, 0x00, 0x65, 0x53, 0xF1, 0x00, 0x01, 0x2C, 0, 0, 0, 0 }).ToArray();
        using var hmac = new HMACSHA256(s_secret);
        Assert.Equal(hmac.ComputeHash(message.Concat(variables).ToArray()), mac);

        Assert.Equal(1, (signed[10] << 8) | signed[11]);
        TsigRecord record = Tsig.Read(signed)!;
        Assert.Equal(message.Length, record.Offset);
        Assert.Equal("update-key", record.KeyName);
        Assert.Equal("hmac-sha256", record.Algorithm);
        Assert.Equal(0x0000_6553_F100, record.TimeSigned);
        Assert.Equal(300, record.Fudge);
        Assert.Equal(0xBEEF, record.OriginalId);
        Assert.Equal(mac, record.Mac);
    }

    [Theory]
    [InlineData("hmac-sha512", 64)]
    [InlineData("hmac-md5", 16)]
    [InlineData("hmac-sha1", 20)]
    public void Other_algorithms_sign_with_their_mac_size(string algorithm, int macSize)
    {
        var key = new TsigKey("k", algorithm, s_secret);
        Tsig.Sign(new byte[12], key, 1, out byte[] mac);
        Assert.Equal(macSize, mac.Length);
        Assert.Equal(algorithm == "hmac-md5" ? "hmac-md5.sig-alg.reg.int" : algorithm, key.Algorithm);
    }

    [Fact]
    public void An_unknown_algorithm_is_refused()
    {
        var e = Assert.Throws<AcmeArgumentException>(() => new TsigKey("k", "hmac-whirlpool", s_secret));
        Assert.Equal(AcmeErrorId.DnsProviderParameterInvalid, e.Id);
    }

    [Fact]
    public void A_response_signature_covers_the_request_mac_and_is_checked()
    {
        var key = new TsigKey("k", "hmac-sha256", s_secret);
        Tsig.Sign(Rfc2136Provider.BuildUpdate(7, "t", Array.Empty<KeyValuePair<string, string>>(), true, 60), key, 1000, out byte[] requestMac);

        // The server's answer: the header with QR set, the zone section echoed, signed over the request's MAC.
        byte[] response = Rfc2136Provider.BuildUpdate(7, "t", Array.Empty<KeyValuePair<string, string>>(), true, 60);
        response[2] |= 0x80;
        byte[] answer = SignResponse(response, key, requestMac, 1010);
        TsigRecord record = Tsig.Read(answer)!;
        Assert.Null(Tsig.Verify(answer, record, key, requestMac, 1010));

        Assert.Equal("its MAC does not verify with the key", Tsig.Verify(answer, record, key, new byte[32], 1010));
        byte[] tampered = (byte[])answer.Clone();
        tampered[3] = 5;
        Assert.Equal("its MAC does not verify with the key", Tsig.Verify(tampered, Tsig.Read(tampered)!, key, requestMac, 1010));
        Assert.Contains("off this machine's clock", Tsig.Verify(answer, record, key, requestMac, 1010 + 301));
        Assert.Contains("not k (hmac-sha512)", Tsig.Verify(answer, record, new TsigKey("k", "hmac-sha512", s_secret), requestMac, 1010));
    }

    [Fact]
    public void Key_ToString_names_no_secret()
    {
        var key = new TsigKey("k", "hmac-sha256", s_secret);
        Assert.DoesNotContain(Convert.ToBase64String(s_secret), key.ToString());
        Assert.Equal("k (hmac-sha256)", key.ToString());
    }

    private static byte[] SignResponse(byte[] response, TsigKey key, byte[] requestMac, long time)
    {
        // RFC 8945 section 5.3: the digest of a response starts with the request's MAC (length-prefixed).
        byte[] prefix = new byte[] { (byte)(requestMac.Length >> 8), (byte)requestMac.Length }.Concat(requestMac).ToArray();
        byte[] variables = Wire(key.Name).Concat(new byte[] { 0, 255, 0, 0, 0, 0 }).Concat(Wire(key.Algorithm))
            .Concat(new byte[] { 0, 0, (byte)(time >> 24), (byte)(time >> 16), (byte)(time >> 8), (byte)time, 0x01, 0x2C, 0, 0, 0, 0 }).ToArray();
        using var hmac = new HMACSHA256(s_secret);
        byte[] mac = hmac.ComputeHash(prefix.Concat(response).Concat(variables).ToArray());
        var rdata = Wire(key.Algorithm).Concat(new byte[] { 0, 0, (byte)(time >> 24), (byte)(time >> 16), (byte)(time >> 8), (byte)time, 0x01, 0x2C, 0, (byte)mac.Length })
            .Concat(mac).Concat(new byte[] { response[0], response[1], 0, 0, 0, 0 }).ToArray();
        byte[] tsig = Wire(key.Name).Concat(new byte[] { 0, 250, 0, 255, 0, 0, 0, 0, (byte)(rdata.Length >> 8), (byte)rdata.Length }).Concat(rdata).ToArray();
        byte[] result = response.Concat(tsig).ToArray();
        result[11] = 1;
        return result;
    }

    private static byte[] Wire(string name)
    {
        var bytes = new List<byte>();
        foreach (string label in name.Trim('.').ToLowerInvariant().Split('.'))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.Add(0);
        return bytes.ToArray();
    }
}
