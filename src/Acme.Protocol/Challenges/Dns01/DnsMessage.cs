using System;
using System.Collections.Generic;
using System.Text;
using Acme.Protocol.Errors;

namespace Acme.Protocol.Challenges.Dns01;

/// <summary>The record types the propagation check asks for (RFC 1035 section 3.2.2).</summary>
public enum DnsRecordType : ushort
{
    A = 1,
    NS = 2,
    CNAME = 5,
    SOA = 6,
    TXT = 16,
    AAAA = 28,
}

/// <summary>One resource record of an answer. <see cref="Data"/> is the TXT text, or the target name of NS and CNAME.</summary>
public sealed class DnsRecord
{
    public DnsRecord(string name, DnsRecordType type, string data)
    {
        Name = name;
        Type = type;
        Data = data;
    }

    public string Name { get; }

    public DnsRecordType Type { get; }

    public string Data { get; }

    public override string ToString() => $"{Name} {Type} {Data}";
}

/// <summary>What a server answered: its response code and the answer and authority sections.</summary>
public sealed class DnsResponse
{
    public DnsResponse(int responseCode, bool truncated, IReadOnlyList<DnsRecord> answers, IReadOnlyList<DnsRecord> authority)
    {
        ResponseCode = responseCode;
        Truncated = truncated;
        Answers = answers;
        Authority = authority;
    }

    /// <summary>RCODE (RFC 1035 section 4.1.1): 0 no error, 2 server failure, 3 name error (NXDOMAIN), 5 refused.</summary>
    public int ResponseCode { get; }

    public bool Truncated { get; }

    public IReadOnlyList<DnsRecord> Answers { get; }

    public IReadOnlyList<DnsRecord> Authority { get; }

    public string ResponseCodeName => ResponseCode switch
    {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        _ => "RCODE " + ResponseCode,
    };
}

/// <summary>
/// The DNS wire format (RFC 1035 section 4), only as much as the dns-01 propagation check needs:
/// a one-question query, and the answer and authority sections of a response with TXT, NS, CNAME and
/// SOA records decoded. Written here rather than taken from a package so that the module carries no
/// dependency chain into Windows PowerShell 5.1.
/// </summary>
public static class DnsMessage
{
    private const int HeaderLength = 12;
    private const ushort ClassIn = 1;

    /// <summary>A query for <paramref name="name"/>; RD asks a recursive resolver to recurse (RFC 1035 section 4.1.1).</summary>
    public static byte[] BuildQuery(ushort id, string name, DnsRecordType type, bool recursionDesired)
    {
        var buffer = new List<byte>(HeaderLength + name.Length + 6);
        WriteUInt16(buffer, id);
        WriteUInt16(buffer, (ushort)(recursionDesired ? 0x0100 : 0));
        WriteUInt16(buffer, 1);
        WriteUInt16(buffer, 0);
        WriteUInt16(buffer, 0);
        WriteUInt16(buffer, 0);
        WriteName(buffer, name);
        WriteUInt16(buffer, (ushort)type);
        WriteUInt16(buffer, ClassIn);
        return buffer.ToArray();
    }

    /// <summary>The query id of a message, or -1 when it is too short to have one.</summary>
    public static int ReadId(byte[] message) => message.Length < HeaderLength ? -1 : ReadUInt16(message, 0);

    /// <summary>Decodes a response; throws <see cref="FormatException"/> for anything malformed.</summary>
    public static DnsResponse Parse(byte[] message)
    {
        if (message.Length < HeaderLength)
        {
            throw new FormatException("The DNS message is shorter than its header.");
        }

        ushort flags = ReadUInt16(message, 2);
        if ((flags & 0x8000) == 0)
        {
            throw new FormatException("The DNS message is a query, not a response.");
        }

        int questions = ReadUInt16(message, 4);
        int answers = ReadUInt16(message, 6);
        int authority = ReadUInt16(message, 8);
        int offset = HeaderLength;
        for (int i = 0; i < questions; i++)
        {
            ReadName(message, ref offset);
            offset += 4;
        }

        var answerRecords = ReadRecords(message, ref offset, answers);
        var authorityRecords = ReadRecords(message, ref offset, authority);
        return new DnsResponse(flags & 0x000F, (flags & 0x0200) != 0, answerRecords, authorityRecords);
    }

    /// <summary>Lower case, no trailing dot: the form names are compared in.</summary>
    public static string Normalize(string name) => name.Trim().TrimEnd('.').ToLowerInvariant();

    private static List<DnsRecord> ReadRecords(byte[] message, ref int offset, int count)
    {
        var records = new List<DnsRecord>(count);
        for (int i = 0; i < count; i++)
        {
            string name = ReadName(message, ref offset);
            Require(message, offset, 10);
            var type = (DnsRecordType)ReadUInt16(message, offset);
            int length = ReadUInt16(message, offset + 8);
            offset += 10;
            Require(message, offset, length);
            int dataStart = offset;
            offset += length;
            switch (type)
            {
                case DnsRecordType.TXT:
                    records.Add(new DnsRecord(name, type, ReadCharacterStrings(message, dataStart, length)));
                    break;
                case DnsRecordType.NS:
                case DnsRecordType.CNAME:
                case DnsRecordType.SOA:
                    // SOA's data starts with MNAME; only its owner name (the zone) is used.
                    int at = dataStart;
                    records.Add(new DnsRecord(name, type, ReadName(message, ref at)));
                    break;
            }
        }

        return records;
    }

    /// <summary>
    /// A TXT record's text: "One or more character-strings" (RFC 1035 section 3.3.14), joined, as
    /// RFC 7208 section 3.3 and every ACME server read a value split into several strings.
    /// </summary>
    private static string ReadCharacterStrings(byte[] message, int start, int length)
    {
        var text = new StringBuilder();
        int at = start;
        int end = start + length;
        while (at < end)
        {
            int n = message[at++];
            if (at + n > end)
            {
                throw new FormatException("A TXT character-string runs past its record.");
            }

            text.Append(Encoding.UTF8.GetString(message, at, n));
            at += n;
        }

        return text.ToString();
    }

    /// <summary>A domain name, following compression pointers (RFC 1035 section 4.1.4) a bounded number of times.</summary>
    internal static string ReadName(byte[] message, ref int offset)
    {
        var labels = new List<string>();
        int at = offset;
        int? resumeAt = null;
        for (int jumps = 0; ; )
        {
            Require(message, at, 1);
            int length = message[at];
            if (length == 0)
            {
                at++;
                break;
            }

            if ((length & 0xC0) == 0xC0)
            {
                Require(message, at, 2);
                if (++jumps > 32)
                {
                    throw new FormatException("A DNS name has a compression loop.");
                }

                resumeAt ??= at + 2;
                at = ((length & 0x3F) << 8) | message[at + 1];
                continue;
            }

            if ((length & 0xC0) != 0)
            {
                throw new FormatException("A DNS label has an unknown type.");
            }

            Require(message, at + 1, length);
            labels.Add(Encoding.ASCII.GetString(message, at + 1, length));
            at += 1 + length;
        }

        offset = resumeAt ?? at;
        return Normalize(string.Join(".", labels));
    }

    internal static void WriteName(List<byte> buffer, string name)
    {
        string normalized = Normalize(name);
        if (normalized.Length > 0)
        {
            foreach (string label in normalized.Split('.'))
            {
                byte[] bytes = Encoding.ASCII.GetBytes(label);
                if (bytes.Length == 0 || bytes.Length > 63)
                {
                    throw new AcmeArgumentException(AcmeErrorId.InvalidDnsName, $"'{name}' is not a valid DNS name (a label is empty or longer than 63 characters).");
                }

                buffer.Add((byte)bytes.Length);
                buffer.AddRange(bytes);
            }
        }

        buffer.Add(0);
    }

    internal static void WriteUInt16(List<byte> buffer, ushort value)
    {
        buffer.Add((byte)(value >> 8));
        buffer.Add((byte)value);
    }

    internal static ushort ReadUInt16(byte[] message, int offset)
    {
        Require(message, offset, 2);
        return (ushort)((message[offset] << 8) | message[offset + 1]);
    }

    private static void Require(byte[] message, int offset, int count)
    {
        if (offset < 0 || offset + count > message.Length)
        {
            throw new FormatException("The DNS message ends early.");
        }
    }
}
