using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Acme.Protocol.Crypto;
using Acme.Protocol.Json;
using Acme.Protocol.Model;

namespace Acme.Protocol.State;

/// <summary>
/// &lt;root&gt;/&lt;server&gt;/certificates/&lt;name&gt;/dns-provider.json (owner-only): the DNS provider a
/// certificate was issued through and its parameters. Plain values are kept as given; a reference
/// (env:VAR, secret:Name) as its text; a secret's value only sealed with the key passphrase
/// (<see cref="PassphraseSecret"/>), and without a passphrase not at all (listed under "unsaved");
/// "challengeType" the DNS challenge the records answered (absent in older files: dns-01).
/// </summary>
public sealed partial class AcmeStateStore
{
    private const string DnsProviderFile = "dns-provider.json";

    /// <summary>Saves <paramref name="saved"/> for the certificate <paramref name="name"/>; returns the secret parameters not saved (no passphrase).</summary>
    public IReadOnlyList<string> WriteDnsProvider(AcmeServer server, string name, SavedDnsProvider saved)
    {
        string folder = CertificateFolder(server, CheckName(name, "a certificate"));
        var unsaved = new List<string>(saved.Unsaved);
        var parameters = new JsonObject();
        foreach (SavedDnsProviderValue value in saved.Values)
        {
            var entry = new JsonObject();
            if (value.Reference is not null)
            {
                entry["reference"] = value.Reference;
            }
            else if (value.IsSecret)
            {
                if (_passphrase is null || value.Value is null)
                {
                    unsaved.Add(value.Name);
                    continue;
                }

                entry["sealed"] = PassphraseSecret.Seal(Convert.ToString(value.Value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty, _passphrase);
            }
            else
            {
                entry["value"] = value.Value switch
                {
                    null => null,
                    string s => s,
                    bool b => b,
                    int i => (long)i,
                    long l => l,
                    IEnumerable<string> list => list.Cast<object?>().ToList(),
                    _ => Convert.ToString(value.Value, System.Globalization.CultureInfo.InvariantCulture),
                };
            }

            parameters[value.Name] = entry;
        }

        var json = new JsonObject
        {
            ["provider"] = saved.Provider,
            ["challengeType"] = saved.ChallengeType,
            ["parameters"] = parameters,
            ["unsaved"] = unsaved.Distinct(StringComparer.OrdinalIgnoreCase).Cast<object?>().ToList(),
        };
        CreateFolder(folder);
        WriteFile(Path.Combine(folder, DnsProviderFile), JsonCodec.Serialize(json) + "\n", ownerOnly: true);
        return unsaved;
    }

    /// <summary>
    /// The provider saved for the certificate <paramref name="name"/>, its sealed secrets opened, or null.
    /// Throws AcmeArgumentException (KeyPasswordRequired, KeyPasswordIncorrect) when a sealed secret
    /// cannot be opened with this store's passphrase, AcmeLocalException (StateCorrupt) for a broken file.
    /// </summary>
    public SavedDnsProvider? ReadDnsProvider(AcmeServer server, string name)
    {
        string file = Path.Combine(CertificateFolder(server, CheckName(name, "a certificate")), DnsProviderFile);
        JsonObject? json = ReadJson(file);
        if (json is null)
        {
            return null;
        }

        string provider = json.GetString("provider") ?? throw Corrupt(file, "it names no provider");
        var values = new List<SavedDnsProviderValue>();
        foreach (KeyValuePair<string, object?> pair in json.GetObject("parameters") ?? new JsonObject())
        {
            if (pair.Value is not JsonObject entry)
            {
                throw Corrupt(file, $"the parameter '{pair.Key}' is not an object");
            }

            if (entry.GetString("reference") is { } reference)
            {
                values.Add(new SavedDnsProviderValue(pair.Key, null, isSecret: false, reference));
            }
            else if (entry.GetString("sealed") is { } sealedText)
            {
                if (_passphrase is null)
                {
                    throw new Errors.AcmeArgumentException(Errors.AcmeErrorId.KeyPasswordRequired,
                        $"The DNS provider parameter '{pair.Key}' saved in {file} is encrypted, and no passphrase for it was given.");
                }

                try
                {
                    values.Add(new SavedDnsProviderValue(pair.Key, PassphraseSecret.Open(sealedText, _passphrase), isSecret: true));
                }
                catch (Errors.AcmeArgumentException e)
                {
                    throw PassphraseDoesNotOpen($"the DNS provider parameter '{pair.Key}' saved in {file}", e);
                }
                catch (Errors.AcmeLocalException e)
                {
                    throw Corrupt(file, e.Message, e);
                }
            }
            else
            {
                values.Add(new SavedDnsProviderValue(pair.Key, entry.TryGetValue("value", out object? v) ? v switch
                {
                    long l => (object)(int)Math.Max(int.MinValue, Math.Min(int.MaxValue, l)),
                    List<object?> list => list.Select(x => Convert.ToString(x, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty).ToArray(),
                    _ => v,
                } : null, isSecret: false));
            }
        }

        string? challengeType = json.GetString("challengeType");
        if (challengeType is not null && challengeType != AcmeChallenge.Dns01 && challengeType != AcmeChallenge.DnsAccount01 && challengeType != AcmeChallenge.DnsPersist01)
        {
            throw Corrupt(file, $"the challenge type '{challengeType}' is not dns-01, dns-account-01 or dns-persist-01");
        }

        return new SavedDnsProvider(provider, values, json.GetStringArray("unsaved"), challengeType);
    }
}
