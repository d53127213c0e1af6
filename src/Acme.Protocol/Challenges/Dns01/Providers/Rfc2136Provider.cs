using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;

namespace Acme.Protocol.Challenges.Dns01.Providers;

/// <summary>
/// Dynamic DNS UPDATE (RFC 2136) of the TXT records, signed with a TSIG key (RFC 8945) when one is given,
/// over UDP and again over TCP when the answer is truncated. The zone is given or found by asking the
/// server for the SOA of the name and each parent. One UPDATE per zone per save step, so a zone's records
/// are added or removed all at once; the server's TSIG on the answer is checked.
/// </summary>
public sealed class Rfc2136Provider : DnsProvider
{
    private const ushort ClassIn = 1;
    private const ushort ClassNone = 254;
    private static readonly TimeSpan s_attemptTimeout = TimeSpan.FromSeconds(5);

    private readonly DnsServerAddress _server;
    private readonly string? _zone;
    private readonly TsigKey? _key;
    private readonly int _ttl;
    private readonly IAcmeLog _log;
    private readonly Dictionary<string, string> _zoneOf = new(StringComparer.Ordinal);
    private readonly List<KeyValuePair<string, List<KeyValuePair<string, string>>>> _pending = new();
    private IPEndPoint? _endpoint;

    public Rfc2136Provider(DnsProviderSettings settings, DnsProviderOptions options)
    {
        string server = settings.RequireString("Server");
        try
        {
            _server = DnsServerAddress.Parse(server);
        }
        catch (AcmeArgumentException e)
        {
            throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterInvalid, $"The parameter 'Server' of the DNS provider RFC2136: {e.Message}", e);
        }

        _zone = settings.Has("Zone") ? DnsMessage.Normalize(settings.GetString("Zone")!) : null;
        _ttl = settings.GetInteger("Ttl") ?? 60;
        if (_ttl < 0)
        {
            throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterInvalid, "The parameter 'Ttl' of the DNS provider RFC2136 takes a number of seconds, 0 or more.");
        }

        _key = ReadKey(settings);
        _log = options.Log;
    }

    public static DnsProviderInfo Info { get; } = new(
        "RFC2136",
        "Dynamic DNS UPDATE (RFC 2136) signed with a TSIG key (RFC 8945): BIND, Knot, PowerDNS, Windows DNS and hosted DNS that take updates.",
        "a real BIND 9 (named) started by the tests, with Pebble validating against it",
        new[]
        {
            new DnsProviderParameter("Server", DnsProviderParameterType.String, true, "the primary server that takes updates: host or host:port"),
            new DnsProviderParameter("Zone", DnsProviderParameterType.String, false, "the zone to update; found by asking the server for the SOA when left out"),
            new DnsProviderParameter("KeyName", DnsProviderParameterType.String, false, "the TSIG key's name; updates go unsigned without one"),
            new DnsProviderParameter("KeySecret", DnsProviderParameterType.Secret, false, "the TSIG key's secret, base64 as in named.conf"),
            new DnsProviderParameter("KeyAlgorithm", DnsProviderParameterType.String, false, "hmac-sha256 (the default), hmac-sha384, hmac-sha512, hmac-sha1 or hmac-md5"),
            new DnsProviderParameter("Ttl", DnsProviderParameterType.Integer, false, "the TXT records' TTL in seconds (60 by default)"),
        },
        (settings, options) => new Rfc2136Provider(settings, options));

    public override string Name => "RFC2136";

    public override async Task<string?> FindZoneAsync(string recordName, CancellationToken cancellationToken) =>
        await ZoneOfAsync(DnsMessage.Normalize(recordName), cancellationToken).ConfigureAwait(false);

    protected override async Task AddTxtAsync(string recordName, IReadOnlyList<string> values, CancellationToken cancellationToken) =>
        Queue(await ZoneOfAsync(recordName, cancellationToken).ConfigureAwait(false), recordName, values);

    protected override async Task RemoveTxtAsync(string recordName, IReadOnlyList<string> values, CancellationToken cancellationToken) =>
        Queue(await ZoneOfAsync(recordName, cancellationToken).ConfigureAwait(false), recordName, values);

    /// <summary>One UPDATE per zone; goes on after a failed zone so that a removal leaves nothing behind, and throws the first failure.</summary>
    protected override async Task SaveAsync(bool adding, CancellationToken cancellationToken)
    {
        var batches = _pending.ToList();
        _pending.Clear();
        Exception? first = null;
        foreach (KeyValuePair<string, List<KeyValuePair<string, string>>> batch in batches)
        {
            try
            {
                await UpdateAsync(batch.Key, batch.Value, adding, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                first ??= e;
                if (adding)
                {
                    break;
                }
            }
        }

        if (first is not null)
        {
            throw first;
        }
    }

    /// <summary>The UPDATE message (RFC 2136 section 2): the zone section, and one RR per value to add, or to delete (class NONE, TTL 0).</summary>
    public static byte[] BuildUpdate(ushort id, string zone, IEnumerable<KeyValuePair<string, string>> records, bool adding, int ttl)
    {
        var list = records.ToList();
        var message = new List<byte>(64 + list.Count * 80);
        DnsMessage.WriteUInt16(message, id);
        DnsMessage.WriteUInt16(message, 5 << 11);
        DnsMessage.WriteUInt16(message, 1);
        DnsMessage.WriteUInt16(message, 0);
        DnsMessage.WriteUInt16(message, (ushort)list.Count);
        DnsMessage.WriteUInt16(message, 0);
        DnsMessage.WriteName(message, zone);
        DnsMessage.WriteUInt16(message, (ushort)DnsRecordType.SOA);
        DnsMessage.WriteUInt16(message, ClassIn);
        foreach (KeyValuePair<string, string> record in list)
        {
            DnsMessage.WriteName(message, record.Key);
            DnsMessage.WriteUInt16(message, (ushort)DnsRecordType.TXT);
            DnsMessage.WriteUInt16(message, adding ? ClassIn : ClassNone);
            uint recordTtl = adding ? (uint)ttl : 0;
            DnsMessage.WriteUInt16(message, (ushort)(recordTtl >> 16));
            DnsMessage.WriteUInt16(message, (ushort)recordTtl);
            byte[] rdata = TxtData(record.Value);
            DnsMessage.WriteUInt16(message, (ushort)rdata.Length);
            message.AddRange(rdata);
        }

        return message.ToArray();
    }

    public static string ResponseCodeName(int code) => code switch
    {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        _ => "RCODE " + code,
    };

    private void Queue(string zone, string recordName, IReadOnlyList<string> values)
    {
        int at = _pending.FindIndex(p => p.Key == zone);
        if (at < 0)
        {
            _pending.Add(new KeyValuePair<string, List<KeyValuePair<string, string>>>(zone, new List<KeyValuePair<string, string>>()));
            at = _pending.Count - 1;
        }

        _pending[at].Value.AddRange(values.Select(v => new KeyValuePair<string, string>(recordName, v)));
    }

    private async Task UpdateAsync(string zone, List<KeyValuePair<string, string>> records, bool adding, CancellationToken cancellationToken)
    {
        IPEndPoint endpoint = await EndpointAsync(cancellationToken).ConfigureAwait(false);
        byte[] message = BuildUpdate(NewId(), zone, records, adding, _ttl);
        byte[] requestMac = Array.Empty<byte>();
        if (_key is not null)
        {
            message = Tsig.Sign(message, _key, Tsig.UnixTime(DateTimeOffset.UtcNow), out requestMac);
        }

        string what = $"the UPDATE of zone {zone} ({(adding ? "add" : "delete")} {records.Count} TXT record(s) at {string.Join(", ", records.Select(r => r.Key).Distinct())})";
        _log.Verbose($"RFC2136: sending {what}, {(_key is null ? "unsigned" : $"signed with the TSIG key {_key}")}, to {_server}.");
        byte[] answer;
        try
        {
            answer = await DnsQueryClient.ExchangeAsync(endpoint, message, s_attemptTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (AcmeConnectionException e)
        {
            throw new AcmeLocalException(AcmeErrorId.DnsProviderUnreachable, $"The DNS server {_server} did not answer {what}: {e.Message}", e);
        }

        int code = answer.Length >= 4 ? answer[3] & 0x0F : -1;
        string rcode = ResponseCodeName(code);
        TsigRecord? tsig;
        try
        {
            tsig = Tsig.Read(answer);
        }
        catch (FormatException e)
        {
            throw new AcmeLocalException(AcmeErrorId.DnsProviderFailed, $"The DNS server {_server} sent a malformed answer to {what}: {e.Message}", e);
        }

        if (_key is not null)
        {
            if (tsig is not null && tsig.Error != 0)
            {
                throw new AcmeLocalException(AcmeErrorId.DnsProviderAuthenticationFailed,
                    $"The DNS server {_server} did not accept the TSIG key {_key} for {what}: {rcode}, TSIG {tsig.ErrorName}. Check the key's name, secret and algorithm against the server's configuration.");
            }

            string? invalid = tsig is null ? "it is not signed" : Tsig.Verify(answer, tsig, _key, requestMac, Tsig.UnixTime(DateTimeOffset.UtcNow));
            if (invalid is not null && (code == 0 || tsig is not null))
            {
                throw new AcmeLocalException(AcmeErrorId.DnsProviderAuthenticationFailed,
                    $"The answer of the DNS server {_server} to {what} ({rcode}) cannot be trusted: {invalid}.");
            }
        }

        switch (code)
        {
            case 0:
                _log.Verbose($"RFC2136: {_server} answered NOERROR to {what}.");
                return;
            case 5:
                throw new AcmeLocalException(AcmeErrorId.DnsProviderRefused,
                    $"The DNS server {_server} refused {what}: REFUSED. The server's update policy does not let {(_key is null ? "unsigned updates" : "this key")} change these names.");
            case 9:
            case 10:
                throw new AcmeLocalException(AcmeErrorId.DnsZoneNotFound,
                    $"The DNS server {_server} is not the primary of zone {zone}, or a name is outside it: {rcode} to {what}. Give the zone the names are in as the provider parameter Zone.");
            default:
                throw new AcmeLocalException(AcmeErrorId.DnsProviderFailed, $"The DNS server {_server} answered {rcode} to {what}.");
        }
    }

    /// <summary>The zone given, or the one the server has the SOA of: the name's own, or the one an answer's authority section names.</summary>
    private async Task<string> ZoneOfAsync(string recordName, CancellationToken cancellationToken)
    {
        if (_zone is not null)
        {
            if (recordName != _zone && !recordName.EndsWith("." + _zone, StringComparison.Ordinal))
            {
                throw new AcmeLocalException(AcmeErrorId.DnsZoneNotFound, $"The name {recordName} is not in the zone {_zone} given to the DNS provider RFC2136.");
            }

            return _zone;
        }

        if (_zoneOf.TryGetValue(recordName, out string? known))
        {
            return known;
        }

        IPEndPoint endpoint = await EndpointAsync(cancellationToken).ConfigureAwait(false);
        var answers = new List<string>();
        for (string candidate = recordName; candidate.Length > 0; candidate = Parent(candidate))
        {
            DnsResponse response;
            try
            {
                response = await DnsQueryClient.QueryAsync(endpoint, candidate, DnsRecordType.SOA, false, s_attemptTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (AcmeConnectionException e)
            {
                throw new AcmeLocalException(AcmeErrorId.DnsProviderUnreachable, $"The DNS server {_server} did not answer the SOA query for {candidate}: {e.Message}", e);
            }

            string? zone = response.ResponseCode is 0 or 3
                ? (response.Answers.FirstOrDefault(r => r.Type == DnsRecordType.SOA && r.Name == candidate)
                    ?? response.Authority.FirstOrDefault(r => r.Type == DnsRecordType.SOA && (recordName == r.Name || recordName.EndsWith("." + r.Name, StringComparison.Ordinal))))?.Name
                : null;
            if (zone is not null && zone.Length > 0)
            {
                _log.Verbose($"RFC2136: {recordName} is in the zone {zone} (SOA from {_server}).");
                _zoneOf[recordName] = zone;
                return zone;
            }

            answers.Add($"{candidate}: {response.ResponseCodeName}");
        }

        throw new AcmeLocalException(AcmeErrorId.DnsZoneNotFound,
            $"The DNS server {_server} serves no zone that holds {recordName} (SOA queries: {string.Join(", ", answers)}). Check the server, or give the zone as the provider parameter Zone.");
    }

    private async Task<IPEndPoint> EndpointAsync(CancellationToken cancellationToken)
    {
        if (_endpoint is null)
        {
            try
            {
                _endpoint = (await _server.ResolveAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault()
                    ?? throw new AcmeConnectionException($"The DNS server name '{_server.Host}' has no address.");
            }
            catch (AcmeConnectionException e)
            {
                throw new AcmeLocalException(AcmeErrorId.DnsProviderUnreachable, $"The DNS server {_server} of the DNS provider RFC2136 cannot be reached: {e.Message}", e);
            }
        }

        return _endpoint;
    }

    private static TsigKey? ReadKey(DnsProviderSettings settings)
    {
        bool hasName = settings.Has("KeyName");
        bool hasSecret = settings.Has("KeySecret");
        if (!hasName && !hasSecret)
        {
            return null;
        }

        if (!hasName || !hasSecret)
        {
            throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterMissing,
                $"The DNS provider RFC2136 needs both 'KeyName' and 'KeySecret' for a TSIG key; only '{(hasName ? "KeyName" : "KeySecret")}' is given.");
        }

        byte[] secret;
        try
        {
            secret = Convert.FromBase64String(settings.GetString("KeySecret")!.Trim());
        }
        catch (FormatException e)
        {
            // The value is a secret: the message does not show it.
            throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterInvalid, "The parameter 'KeySecret' of the DNS provider RFC2136 is not base64 (the 'secret' of the key in named.conf).", e);
        }

        return new TsigKey(settings.GetString("KeyName")!, settings.GetString("KeyAlgorithm") ?? "hmac-sha256", secret);
    }

    /// <summary>TXT RDATA: the value as character-strings of at most 255 bytes (RFC 1035 section 3.3.14).</summary>
    private static byte[] TxtData(string value)
    {
        byte[] text = Encoding.UTF8.GetBytes(value);
        var data = new List<byte>(text.Length + 2);
        for (int at = 0; at == 0 || at < text.Length; at += 255)
        {
            int n = Math.Min(255, text.Length - at);
            data.Add((byte)n);
            data.AddRange(text.Skip(at).Take(n));
        }

        return data.ToArray();
    }

    private static string Parent(string name)
    {
        int dot = name.IndexOf('.');
        return dot < 0 ? string.Empty : name.Substring(dot + 1);
    }

    private static ushort NewId()
    {
        var bytes = new byte[2];
        using (var rng = RandomNumberGenerator.Create())
        {
            rng.GetBytes(bytes);
        }

        return (ushort)((bytes[0] << 8) | bytes[1]);
    }
}
