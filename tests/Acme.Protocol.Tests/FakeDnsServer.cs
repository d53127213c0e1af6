using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;
using Acme.Protocol.Challenges.Dns01;

namespace Acme.Protocol.Tests;

/// <summary>
/// A scripted DNS server on a loopback UDP port, for what challtestsrv cannot stand in for: a zone
/// hierarchy with NS and SOA records. Answers are built by hand here (no compression), independent of
/// the module's own encoder.
/// </summary>
internal sealed class FakeDnsServer : IDisposable
{
    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly ConcurrentDictionary<(string, DnsRecordType), List<byte[]>> _answers = new();
    private readonly ConcurrentDictionary<string, string> _zones = new();
    private readonly Task _loop;

    public FakeDnsServer()
    {
        _loop = Task.Run(LoopAsync);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_udp.Client.LocalEndPoint!;

    public ConcurrentQueue<(string Name, DnsRecordType Type)> Queries { get; } = new();

    /// <summary>Declares a zone: its NS records, and the SOA that negative answers below it carry.</summary>
    public void AddZone(string zone, params string[] nameServers)
    {
        _zones[zone] = zone;
        _answers[(zone, DnsRecordType.NS)] = nameServers.Select(Name).ToList();
    }

    public void AddTxt(string name, string value) =>
        _answers.AddOrUpdate((name, DnsRecordType.TXT), _ => new List<byte[]> { Txt(value) }, (_, list) => { lock (list) { list.Add(Txt(value)); } return list; });

    public void Dispose()
    {
        _udp.Dispose();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }
    }

    private async Task LoopAsync()
    {
        while (true)
        {
            UdpReceiveResult request;
            try
            {
                request = await _udp.ReceiveAsync();
            }
            catch (Exception e) when (e is ObjectDisposedException || e is SocketException)
            {
                return;
            }

            byte[] reply = Answer(request.Buffer);
            await _udp.SendAsync(reply, reply.Length, request.RemoteEndPoint);
        }
    }

    private byte[] Answer(byte[] query)
    {
        int offset = 12;
        var labels = new List<string>();
        while (query[offset] != 0)
        {
            labels.Add(Encoding.ASCII.GetString(query, offset + 1, query[offset]));
            offset += query[offset] + 1;
        }

        string name = string.Join(".", labels).ToLowerInvariant();
        var type = (DnsRecordType)((query[offset + 1] << 8) | query[offset + 2]);
        Queries.Enqueue((name, type));
        byte[] question = query.Skip(12).Take(offset + 5 - 12).ToArray();

        List<byte[]> answers;
        if (_answers.TryGetValue((name, type), out List<byte[]>? found))
        {
            lock (found)
            {
                answers = found.ToList();
            }
        }
        else
        {
            answers = new List<byte[]>();
        }

        string? zone = _zones.Keys.Where(z => name == z || name.EndsWith("." + z, StringComparison.Ordinal)).OrderByDescending(z => z.Length).FirstOrDefault();
        bool negative = answers.Count == 0;
        var message = new List<byte> { query[0], query[1], 0x84, (byte)(zone is null ? 0x03 : 0x00), 0, 1, 0, (byte)answers.Count, 0, (byte)(negative && zone is not null ? 1 : 0), 0, 0 };
        message.AddRange(question);
        foreach (byte[] data in answers)
        {
            AddRecord(message, name, type, data);
        }

        if (negative && zone is not null)
        {
            // RFC 2308: a negative answer carries the zone's SOA in the authority section.
            var soa = new List<byte>(Name("ns1." + zone));
            soa.AddRange(Name("hostmaster." + zone));
            soa.AddRange(new byte[20]);
            AddRecord(message, zone, DnsRecordType.SOA, soa.ToArray());
        }

        return message.ToArray();
    }

    private static void AddRecord(List<byte> message, string owner, DnsRecordType type, byte[] data)
    {
        message.AddRange(Name(owner));
        message.AddRange(new byte[] { 0, (byte)type, 0, 1, 0, 0, 0, 60, (byte)(data.Length >> 8), (byte)data.Length });
        message.AddRange(data);
    }

    internal static byte[] Name(string name)
    {
        var bytes = new List<byte>();
        foreach (string label in name.TrimEnd('.').Split('.'))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.Add(0);
        return bytes.ToArray();
    }

    private static byte[] Txt(string value) => new[] { (byte)value.Length }.Concat(Encoding.ASCII.GetBytes(value)).ToArray();
}
