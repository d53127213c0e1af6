using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Model;

namespace Acme.Protocol.Challenges.Dns01;

/// <summary>One TXT record a dns-01 answer needs: where it goes, what it holds, and which identifier it proves.</summary>
public sealed class DnsTxtRecord
{
    public DnsTxtRecord(string name, string value, AcmeIdentifier identifier)
    {
        Name = name;
        Value = value;
        Identifier = identifier;
    }

    /// <summary>The fully qualified name, without a trailing dot: "_acme-challenge.example.com", or the alias it is delegated to.</summary>
    public string Name { get; }

    /// <summary>base64url(SHA-256(key authorization)); not secret.</summary>
    public string Value { get; }

    /// <summary>The identifier as ordered; a wildcard keeps its "*.".</summary>
    public AcmeIdentifier Identifier { get; }

    public override string ToString() => $"{Name} TXT \"{Value}\"";
}

/// <summary>
/// Creates and deletes TXT records in whatever DNS the user has (a cloud API, a DNS server, a person
/// at a console). The cmdlet layer implements it over the user's script blocks.
/// </summary>
public interface IDnsRecordPublisher
{
    /// <summary>Publishes the records. When it fails part-way, <see cref="RemoveAsync"/> is still called with the same records.</summary>
    Task AddAsync(IReadOnlyList<DnsTxtRecord> records, CancellationToken cancellationToken);

    /// <summary>Deletes the records (after success, failure or cancellation); must tolerate records that were never created.</summary>
    Task RemoveAsync(IReadOnlyList<DnsTxtRecord> records, CancellationToken cancellationToken);
}
