using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Issuance;

namespace Acme.Protocol.Challenges.Dns01;

/// <summary>A name server the propagation check asks: its name for messages, and the addresses tried in turn.</summary>
public sealed class DnsNameServer
{
    public DnsNameServer(string name, IReadOnlyList<IPEndPoint> endpoints, bool recursive)
    {
        Name = name;
        Endpoints = endpoints;
        Recursive = recursive;
    }

    public string Name { get; }

    public IReadOnlyList<IPEndPoint> Endpoints { get; }

    /// <summary>True for a server the user named (it may be a resolver, so it is asked to recurse).</summary>
    public bool Recursive { get; }

    public override string ToString() =>
        Endpoints.Count == 1 && Endpoints[0].Address.ToString() == Name ? DnsQueryClient.Describe(Endpoints[0])
            : $"{Name} ({string.Join(", ", Endpoints.Select(DnsQueryClient.Describe))})";
}

/// <summary>
/// Waits until every TXT value is visible on every server that answers for its name, instead of a
/// fixed sleep. Without servers given, it finds the zone's authoritative name servers by walking up
/// the name with NS queries to this machine's resolver (the SOA in a negative answer names the zone),
/// because a resolver's cache can hide a new record for as long as the zone's negative TTL.
/// </summary>
public sealed class DnsPropagationChecker
{
    private readonly IReadOnlyList<DnsServerAddress>? _servers;
    private readonly IReadOnlyList<IPEndPoint>? _resolvers;
    private readonly IAcmeLog _log;
    private readonly Dictionary<string, IReadOnlyList<DnsNameServer>> _zoneServers = new(StringComparer.Ordinal);

    /// <param name="servers">Ask these servers (-DnsServer) instead of the authoritative ones.</param>
    /// <param name="resolvers">The resolvers used to find authoritative servers; the system's when null.</param>
    public DnsPropagationChecker(IReadOnlyList<DnsServerAddress>? servers = null, IAcmeLog? log = null, IReadOnlyList<IPEndPoint>? resolvers = null)
    {
        _servers = servers is { Count: > 0 } ? servers : null;
        _resolvers = resolvers;
        _log = log ?? NullAcmeLog.Instance;
    }

    /// <summary>The port authoritative servers are asked on; only tests change it.</summary>
    internal int AuthoritativePort { get; set; } = 53;

    public TimeSpan QueryTimeout { get; set; } = DnsQueryClient.DefaultTimeout;

    /// <summary>How often to look again: soon at first, then every few seconds.</summary>
    public RetryPolicy Policy { get; set; } = new(TimeSpan.FromSeconds(1), 1.5, TimeSpan.FromSeconds(10));

    /// <summary>
    /// Returns once each record's value is in the TXT answer of each server for its name; throws
    /// AcmeDnsPropagationTimeout naming a record that never appeared.
    /// </summary>
    public async Task WaitAsync(IReadOnlyList<DnsTxtRecord> records, TimeSpan timeout, IProgress<AcmeProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var expected = records.GroupBy(r => DnsMessage.Normalize(r.Name))
            .ToDictionary(g => g.Key, g => g.Select(r => r.Value).Distinct(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
        var pending = new List<(string Name, DnsNameServer Server)>();
        foreach (string name in expected.Keys)
        {
            foreach (DnsNameServer server in await GetServersAsync(name, cancellationToken).ConfigureAwait(false))
            {
                pending.Add((name, server));
            }
        }

        int total = pending.Count;
        var lastAnswer = new Dictionary<(string, DnsNameServer), string>();
        DateTimeOffset deadline = DateTimeOffset.UtcNow + timeout;
        for (int attempt = 0; ; attempt++)
        {
            foreach ((string name, DnsNameServer server) in pending.ToList())
            {
                (List<string>? values, string answer) = await AskAsync(server, name, cancellationToken).ConfigureAwait(false);
                List<string> missing = values is null ? expected[name] : expected[name].Where(v => !values.Contains(v)).ToList();
                if (missing.Count == 0)
                {
                    pending.Remove((name, server));
                    _log.Verbose($"The TXT record {name} is visible on {server}.");
                }
                else
                {
                    lastAnswer[(name, server)] = answer;
                    if (attempt == 0)
                    {
                        _log.Verbose($"The TXT record {name} is not yet visible on {server} ({answer}); waiting.");
                    }
                }
            }

            if (pending.Count == 0)
            {
                progress?.Report(new AcmeProgress("Waiting for DNS propagation", "Done", completed: true));
                return;
            }

            DateTimeOffset now = DateTimeOffset.UtcNow;
            TimeSpan? delay = Policy.NextDelay(attempt, null, now, deadline);
            if (delay is null || now >= deadline)
            {
                (string name, DnsNameServer server) = pending[0];
                string value = expected[name].First();
                throw new AcmeLocalException(AcmeErrorId.DnsPropagationTimeout,
                    $"The TXT record {name} with the value '{value}' did not appear on {server} within {timeout.TotalSeconds:0} seconds " +
                    $"(last answer: {lastAnswer[(name, server)]})." +
                    (pending.Count > 1 ? $" {pending.Count - 1} other check(s) were also still waiting." : string.Empty));
            }

            progress?.Report(new AcmeProgress("Waiting for DNS propagation",
                $"{total - pending.Count} of {total} name server checks see the record(s); waiting for {pending[0].Name} on {pending[0].Server.Name}",
                (total - pending.Count) * 100 / total, (int)Math.Max(0, (deadline - now).TotalSeconds)));
            await Task.Delay(delay.Value, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The TXT values at <paramref name="name"/> on each server that answers for it (the given ones or the
    /// zone's authoritative servers); a server that did not answer has null values and says why.
    /// </summary>
    public async Task<IReadOnlyList<(DnsNameServer Server, IReadOnlyList<string>? Values, string Answer)>> ReadTxtAsync(string name,
        CancellationToken cancellationToken = default)
    {
        string normalized = DnsMessage.Normalize(name);
        var results = new List<(DnsNameServer, IReadOnlyList<string>?, string)>();
        foreach (DnsNameServer server in await GetServersAsync(normalized, cancellationToken).ConfigureAwait(false))
        {
            (List<string>? values, string answer) = await AskAsync(server, normalized, cancellationToken).ConfigureAwait(false);
            results.Add((server, values, answer));
        }

        return results;
    }

    /// <summary>The servers that answer for <paramref name="name"/>: the given ones, or its zone's authoritative servers.</summary>
    public async Task<IReadOnlyList<DnsNameServer>> GetServersAsync(string name, CancellationToken cancellationToken = default)
    {
        if (_servers is not null)
        {
            var given = new List<DnsNameServer>();
            foreach (DnsServerAddress server in _servers)
            {
                try
                {
                    given.Add(new DnsNameServer(server.Host, await server.ResolveAsync(cancellationToken).ConfigureAwait(false), recursive: true));
                }
                catch (AcmeConnectionException e)
                {
                    throw new AcmeArgumentException(AcmeErrorId.InvalidDnsServer, e.Message, e);
                }
            }

            return given;
        }

        string zone;
        List<string> hosts;
        (zone, hosts) = await FindZoneAsync(DnsMessage.Normalize(name), cancellationToken).ConfigureAwait(false);
        if (_zoneServers.TryGetValue(zone, out IReadOnlyList<DnsNameServer>? cached))
        {
            return cached;
        }

        var servers = new List<DnsNameServer>();
        foreach (string host in hosts.Distinct(StringComparer.Ordinal))
        {
            IReadOnlyList<IPEndPoint> endpoints;
            try
            {
                endpoints = await new DnsServerAddress(host, AuthoritativePort).ResolveAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (AcmeConnectionException e)
            {
                _log.Verbose($"Skipping the name server {host} of {zone}: {e.Message}");
                continue;
            }

            if (endpoints.Count > 0)
            {
                servers.Add(new DnsNameServer(host, endpoints, recursive: false));
            }
        }

        if (servers.Count == 0)
        {
            throw new AcmeLocalException(AcmeErrorId.DnsZoneNotFound,
                $"None of the name servers of {zone} ({string.Join(", ", hosts)}) resolves to an address.");
        }

        _log.Verbose($"{name} is in the zone {zone}, served by {string.Join(", ", servers.Select(s => s.Name))}.");
        _zoneServers[zone] = servers;
        return servers;
    }

    private async Task<(string Zone, List<string> Hosts)> FindZoneAsync(string name, CancellationToken cancellationToken)
    {
        IReadOnlyList<IPEndPoint> resolvers = _resolvers ?? DnsQueryClient.GetSystemResolvers();
        if (resolvers.Count == 0)
        {
            throw new AcmeLocalException(AcmeErrorId.DnsZoneNotFound,
                "This machine has no DNS resolver configured to find the zone's name servers.");
        }

        string candidate = name;
        while (candidate.Length > 0)
        {
            DnsResponse response = await AskResolversAsync(resolvers, candidate, DnsRecordType.NS, cancellationToken).ConfigureAwait(false);
            List<string> hosts = response.Answers.Where(r => r.Type == DnsRecordType.NS && r.Name == candidate).Select(r => r.Data).ToList();
            if (hosts.Count > 0)
            {
                return (candidate, hosts);
            }

            // RFC 2308 section 3: a negative answer carries "the SOA record from the zone" in its
            // authority section, whose owner is the zone the name falls in: go straight there.
            DnsRecord? soa = response.Authority.FirstOrDefault(r => r.Type == DnsRecordType.SOA);
            candidate = soa is not null && soa.Name.Length > 0 && candidate.EndsWith("." + soa.Name, StringComparison.Ordinal)
                ? soa.Name
                : Parent(candidate);
        }

        throw new AcmeLocalException(AcmeErrorId.DnsZoneNotFound,
            $"No zone with NS records was found above {name}.");
    }

    private static string Parent(string name)
    {
        int dot = name.IndexOf('.');
        return dot < 0 ? string.Empty : name.Substring(dot + 1);
    }

    private async Task<DnsResponse> AskResolversAsync(IReadOnlyList<IPEndPoint> resolvers, string name, DnsRecordType type, CancellationToken cancellationToken)
    {
        AcmeConnectionException? last = null;
        foreach (IPEndPoint resolver in resolvers)
        {
            try
            {
                return await DnsQueryClient.QueryAsync(resolver, name, type, recursionDesired: true, QueryTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (AcmeConnectionException e)
            {
                last = e;
            }
        }

        throw new AcmeLocalException(AcmeErrorId.DnsZoneNotFound,
            $"No DNS resolver answered while looking for the zone of {name} ({last?.Message}).", last);
    }

    /// <summary>The TXT values the server has for the name (null when it gave none), and a description of its answer.</summary>
    private async Task<(List<string>? Values, string Answer)> AskAsync(DnsNameServer server, string name, CancellationToken cancellationToken)
    {
        string answer = "no answer";
        foreach (IPEndPoint endpoint in server.Endpoints)
        {
            DnsResponse response;
            try
            {
                response = await DnsQueryClient.QueryAsync(endpoint, name, DnsRecordType.TXT, server.Recursive, QueryTimeout, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (AcmeConnectionException e)
            {
                answer = e.Message;
                continue;
            }

            var values = response.Answers.Where(r => r.Type == DnsRecordType.TXT && r.Name == name).Select(r => r.Data).ToList();
            if (response.ResponseCode != 0)
            {
                return (null, response.ResponseCodeName);
            }

            return (values, values.Count == 0 ? "no TXT record" : $"{values.Count} other TXT value(s)");
        }

        return (null, answer);
    }
}
