using System;
using System.Collections.Generic;
using System.Security.Cryptography;
using Acme.Protocol.Errors;

namespace Acme.Protocol.Challenges.Dns01.Providers;

/// <summary>A TSIG key (RFC 8945): its name, algorithm and secret. <see cref="ToString"/> names no secret.</summary>
public sealed class TsigKey
{
    private readonly byte[] _secret;

    public TsigKey(string name, string algorithm, byte[] secret)
    {
        Name = DnsMessage.Normalize(name);
        Algorithm = CanonicalAlgorithm(algorithm) ?? throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterInvalid,
            $"'{algorithm}' is not a TSIG algorithm this module signs with: hmac-sha256, hmac-sha384, hmac-sha512, hmac-sha1, hmac-md5.");
        _secret = (byte[])secret.Clone();
    }

    /// <summary>The key's name, lower case, no trailing dot.</summary>
    public string Name { get; }

    /// <summary>The algorithm's name as it goes on the wire (RFC 8945 section 6): "hmac-sha256", "hmac-md5.sig-alg.reg.int".</summary>
    public string Algorithm { get; }

    /// <summary>The algorithm names RFC 8945 section 6 lists, for what a user types (case-insensitive, trailing dot allowed); null if unknown.</summary>
    public static string? CanonicalAlgorithm(string? name) => DnsMessage.Normalize(name ?? string.Empty) switch
    {
        "hmac-sha256" or "sha256" => "hmac-sha256",
        "hmac-sha384" or "sha384" => "hmac-sha384",
        "hmac-sha512" or "sha512" => "hmac-sha512",
        "hmac-sha1" or "sha1" => "hmac-sha1",
        "hmac-md5" or "hmac-md5.sig-alg.reg.int" or "md5" => "hmac-md5.sig-alg.reg.int",
        _ => null,
    };

    internal byte[] ComputeMac(byte[] data)
    {
        using HMAC hmac = Algorithm switch
        {
            "hmac-sha256" => new HMACSHA256(_secret),
            "hmac-sha384" => new HMACSHA384(_secret),
            "hmac-sha512" => new HMACSHA512(_secret),
            "hmac-sha1" => new HMACSHA1(_secret),
            "hmac-md5.sig-alg.reg.int" => new HMACMD5(_secret),
            _ => throw new PlatformNotSupportedException($"{Algorithm} is not available on this platform."),
        };
        return hmac.ComputeHash(data);
    }

    public override string ToString() => $"{Name} ({Algorithm})";
}

/// <summary>A TSIG record read from a message: where it starts and its fields (RFC 8945 section 4.2).</summary>
public sealed class TsigRecord
{
    internal TsigRecord(int offset, string keyName, string algorithm, long timeSigned, ushort fudge, byte[] mac, ushort originalId, ushort error, byte[] otherData)
    {
        Offset = offset;
        KeyName = keyName;
        Algorithm = algorithm;
        TimeSigned = timeSigned;
        Fudge = fudge;
        Mac = mac;
        OriginalId = originalId;
        Error = error;
        OtherData = otherData;
    }

    /// <summary>Where the record starts in the message: the bytes before it are what was signed.</summary>
    public int Offset { get; }

    public string KeyName { get; }

    public string Algorithm { get; }

    public long TimeSigned { get; }

    public ushort Fudge { get; }

    public byte[] Mac { get; }

    public ushort OriginalId { get; }

    /// <summary>0, or BADSIG (16), BADKEY (17), BADTIME (18), BADTRUNC (22).</summary>
    public ushort Error { get; }

    public byte[] OtherData { get; }

    public string ErrorName => Tsig.ErrorName(Error);
}

/// <summary>
/// Transaction signatures (RFC 8945): signs a request with a <see cref="TsigKey"/> and checks the
/// signature of the answer, which covers the request's MAC, so an answer is proven to come from a holder
/// of the key and to belong to this request.
/// </summary>
public static class Tsig
{
    public const ushort TypeTsig = 250;
    private const ushort ClassAny = 255;

    /// <summary>The default "fudge": seconds the clocks of client and server may differ (RFC 8945 section 10 recommends 300).</summary>
    public const ushort DefaultFudge = 300;

    public static string ErrorName(int error) => error switch
    {
        0 => "NOERROR",
        16 => "BADSIG",
        17 => "BADKEY",
        18 => "BADTIME",
        22 => "BADTRUNC",
        _ => "TSIG error " + error,
    };

    /// <summary>
    /// Appends a TSIG record to <paramref name="message"/> (whose additional count does not include it yet),
    /// signed at <paramref name="timeSigned"/> (seconds since 1970), and returns the signed message and its MAC.
    /// </summary>
    public static byte[] Sign(byte[] message, TsigKey key, long timeSigned, out byte[] mac, ushort fudge = DefaultFudge)
    {
        var data = new List<byte>(message.Length + 64);
        data.AddRange(message);
        AddVariables(data, key, timeSigned, fudge, 0, Array.Empty<byte>());
        mac = key.ComputeMac(data.ToArray());

        var signed = new List<byte>(message.Length + 100);
        signed.AddRange(message);
        DnsMessage.WriteName(signed, key.Name);
        DnsMessage.WriteUInt16(signed, TypeTsig);
        DnsMessage.WriteUInt16(signed, ClassAny);
        WriteUInt32(signed, 0);
        var rdata = new List<byte>(64);
        DnsMessage.WriteName(rdata, key.Algorithm);
        WriteTime(rdata, timeSigned);
        DnsMessage.WriteUInt16(rdata, fudge);
        DnsMessage.WriteUInt16(rdata, (ushort)mac.Length);
        rdata.AddRange(mac);
        DnsMessage.WriteUInt16(rdata, DnsMessage.ReadUInt16(message, 0));
        DnsMessage.WriteUInt16(rdata, 0);
        DnsMessage.WriteUInt16(rdata, 0);
        DnsMessage.WriteUInt16(signed, (ushort)rdata.Count);
        signed.AddRange(rdata);
        byte[] result = signed.ToArray();
        ushort additional = (ushort)(DnsMessage.ReadUInt16(result, 10) + 1);
        result[10] = (byte)(additional >> 8);
        result[11] = (byte)additional;
        return result;
    }

    /// <summary>The TSIG record of a message (the last additional record), or null when it has none; throws FormatException when malformed.</summary>
    public static TsigRecord? Read(byte[] message)
    {
        int offset = 12;
        int questions = DnsMessage.ReadUInt16(message, 4);
        int records = DnsMessage.ReadUInt16(message, 6) + DnsMessage.ReadUInt16(message, 8);
        int additional = DnsMessage.ReadUInt16(message, 10);
        for (int i = 0; i < questions; i++)
        {
            DnsMessage.ReadName(message, ref offset);
            offset += 4;
        }

        int last = -1;
        for (int i = 0; i < records + additional; i++)
        {
            if (i == records + additional - 1 && additional > 0)
            {
                last = offset;
            }

            DnsMessage.ReadName(message, ref offset);
            offset += 10 + DnsMessage.ReadUInt16(message, offset + 8);
        }

        if (offset > message.Length)
        {
            throw new FormatException("The DNS message ends early.");
        }

        if (last < 0)
        {
            return null;
        }

        int at = last;
        string keyName = DnsMessage.ReadName(message, ref at);
        if (DnsMessage.ReadUInt16(message, at) != TypeTsig)
        {
            return null;
        }

        at += 10;
        string algorithm = DnsMessage.ReadName(message, ref at);
        long time = ((long)DnsMessage.ReadUInt16(message, at) << 32) | ((long)DnsMessage.ReadUInt16(message, at + 2) << 16) | DnsMessage.ReadUInt16(message, at + 4);
        ushort fudge = DnsMessage.ReadUInt16(message, at + 6);
        int macSize = DnsMessage.ReadUInt16(message, at + 8);
        at += 10;
        byte[] mac = Slice(message, at, macSize);
        at += macSize;
        ushort originalId = DnsMessage.ReadUInt16(message, at);
        ushort error = DnsMessage.ReadUInt16(message, at + 2);
        int otherLength = DnsMessage.ReadUInt16(message, at + 4);
        byte[] other = Slice(message, at + 6, otherLength);
        return new TsigRecord(last, keyName, algorithm, time, fudge, mac, originalId, error, other);
    }

    /// <summary>
    /// Whether the answer's TSIG <paramref name="record"/> is a valid signature by <paramref name="key"/> of
    /// <paramref name="response"/> to the request whose MAC was <paramref name="requestMac"/> (RFC 8945
    /// section 5.3), signed within its fudge of <paramref name="now"/>. Null when it is; otherwise why not.
    /// </summary>
    public static string? Verify(byte[] response, TsigRecord record, TsigKey key, byte[] requestMac, long now)
    {
        if (record.KeyName != key.Name || record.Algorithm != key.Algorithm)
        {
            return $"it is signed with the key {record.KeyName} ({record.Algorithm}), not {key}";
        }

        // The message as it was before the TSIG was added: without the record, one additional record fewer, the original id.
        byte[] unsigned = Slice(response, 0, record.Offset);
        ushort additional = (ushort)(DnsMessage.ReadUInt16(unsigned, 10) - 1);
        unsigned[10] = (byte)(additional >> 8);
        unsigned[11] = (byte)additional;
        unsigned[0] = (byte)(record.OriginalId >> 8);
        unsigned[1] = (byte)record.OriginalId;

        var data = new List<byte>(requestMac.Length + unsigned.Length + 64);
        DnsMessage.WriteUInt16(data, (ushort)requestMac.Length);
        data.AddRange(requestMac);
        data.AddRange(unsigned);
        AddVariables(data, key, record.TimeSigned, record.Fudge, record.Error, record.OtherData);
        byte[] expected = key.ComputeMac(data.ToArray());
        if (!FixedTimeEquals(expected, record.Mac))
        {
            return "its MAC does not verify with the key";
        }

        return Math.Abs(now - record.TimeSigned) > record.Fudge ? $"it was signed {now - record.TimeSigned} seconds off this machine's clock" : null;
    }

    /// <summary>The seconds since 1970 of <paramref name="time"/>, as TSIG's Time Signed.</summary>
    public static long UnixTime(DateTimeOffset time) => (long)Math.Floor((time.UtcDateTime - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalSeconds);

    // RFC 8945 section 4.3.3: the TSIG variables, names in canonical (lower case, uncompressed) form.
    private static void AddVariables(List<byte> data, TsigKey key, long timeSigned, ushort fudge, ushort error, byte[] otherData)
    {
        DnsMessage.WriteName(data, key.Name);
        DnsMessage.WriteUInt16(data, ClassAny);
        WriteUInt32(data, 0);
        DnsMessage.WriteName(data, key.Algorithm);
        WriteTime(data, timeSigned);
        DnsMessage.WriteUInt16(data, fudge);
        DnsMessage.WriteUInt16(data, error);
        DnsMessage.WriteUInt16(data, (ushort)otherData.Length);
        data.AddRange(otherData);
    }

    private static void WriteTime(List<byte> data, long time)
    {
        DnsMessage.WriteUInt16(data, (ushort)(time >> 32));
        WriteUInt32(data, (uint)time);
    }

    private static void WriteUInt32(List<byte> data, uint value)
    {
        DnsMessage.WriteUInt16(data, (ushort)(value >> 16));
        DnsMessage.WriteUInt16(data, (ushort)value);
    }

    private static byte[] Slice(byte[] message, int offset, int count)
    {
        if (offset < 0 || count < 0 || offset + count > message.Length)
        {
            throw new FormatException("The DNS message ends early.");
        }

        var result = new byte[count];
        Buffer.BlockCopy(message, offset, result, 0, count);
        return result;
    }

    private static bool FixedTimeEquals(byte[] a, byte[] b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        int diff = 0;
        for (int i = 0; i < a.Length; i++)
        {
            diff |= a[i] ^ b[i];
        }

        return diff == 0;
    }
}
