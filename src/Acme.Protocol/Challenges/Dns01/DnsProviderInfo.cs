using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;

namespace Acme.Protocol.Challenges.Dns01;

/// <summary>The kind of value a provider parameter takes. <see cref="Secret"/> values are never written out in clear.</summary>
public enum DnsProviderParameterType
{
    String,
    Secret,
    Integer,
    Boolean,
    StringList,
}

/// <summary>One parameter of a DNS provider, as Get-AcmeDnsProvider shows it and tab completion offers it.</summary>
public sealed class DnsProviderParameter
{
    public DnsProviderParameter(string name, DnsProviderParameterType type, bool isRequired, string description)
    {
        Name = name;
        Type = type;
        IsRequired = isRequired;
        Description = description;
    }

    public string Name { get; }

    public DnsProviderParameterType Type { get; }

    public bool IsRequired { get; }

    public bool IsSecret => Type == DnsProviderParameterType.Secret;

    public string Description { get; }

    public override string ToString() => Name;
}

/// <summary>What a provider gets besides its parameters: where to log, how long a request may take, and (for tests and proxies) the HTTP handler.</summary>
public sealed class DnsProviderOptions
{
    public IAcmeLog Log { get; set; } = NullAcmeLog.Instance;

    /// <summary>Per request.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Makes the handler of a provider's HttpClient; null is a plain <see cref="HttpClientHandler"/>.</summary>
    public Func<HttpMessageHandler>? CreateHttpHandler { get; set; }

    public HttpClient CreateHttpClient() =>
        new(CreateHttpHandler?.Invoke() ?? new HttpClientHandler(), disposeHandler: true) { Timeout = RequestTimeout };
}

/// <summary>
/// A built-in DNS provider: its name, what it is, its parameters and how to make one. <see cref="Create"/>
/// checks the settings against <see cref="Parameters"/> first (unknown names, missing required ones, wrong
/// types), so bad input is refused before any DNS change.
/// </summary>
public sealed class DnsProviderInfo
{
    private readonly Func<DnsProviderSettings, DnsProviderOptions, DnsProvider> _create;

    public DnsProviderInfo(string name, string description, string testedAgainst, IReadOnlyList<DnsProviderParameter> parameters,
        Func<DnsProviderSettings, DnsProviderOptions, DnsProvider> create)
    {
        Name = name;
        Description = description;
        TestedAgainst = testedAgainst;
        Parameters = parameters;
        _create = create;
    }

    public string Name { get; }

    public string Description { get; }

    /// <summary>What the tests run it against ("a real BIND 9", "a local fake of the Cloudflare API").</summary>
    public string TestedAgainst { get; }

    public IReadOnlyList<DnsProviderParameter> Parameters { get; }

    /// <summary>The help topic: about_Acme_DnsProviders, section of this provider.</summary>
    public string HelpTopic => "about_Acme_DnsProviders";

    public DnsProviderParameter? Parameter(string name) =>
        Parameters.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Refuses settings that do not fit <see cref="Parameters"/>: AcmeArgumentException (DnsProviderParameterUnknown, DnsProviderParameterMissing, DnsProviderParameterInvalid).</summary>
    public void Check(DnsProviderSettings settings) => settings.CheckAgainst(this);

    /// <summary>Checks the settings (<see cref="Check"/>), then makes the provider; nothing is sent yet.</summary>
    public DnsProvider Create(DnsProviderSettings settings, DnsProviderOptions options)
    {
        settings.CheckAgainst(this);
        return _create(settings, options);
    }

    public override string ToString() => Name;
}

/// <summary>
/// A provider's parameter values, resolved for this run: strings, integers, booleans, string lists, and
/// secrets as plain strings (read from a credential, an environment variable or a vault by the caller, and
/// held only in memory). Names are case-insensitive. <see cref="ToString"/> names no value.
/// </summary>
public sealed class DnsProviderSettings
{
    private readonly Dictionary<string, object?> _values;

    public DnsProviderSettings(IEnumerable<KeyValuePair<string, object?>> values)
    {
        _values = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (KeyValuePair<string, object?> pair in values)
        {
            _values[pair.Key] = pair.Value;
        }
    }

    public IEnumerable<string> Names => _values.Keys;

    /// <summary>The value given for <paramref name="name"/> as it is (a secret's plain text too), or null.</summary>
    public object? Value(string name) => _values.TryGetValue(name, out object? value) ? value : null;

    public bool Has(string name) => _values.TryGetValue(name, out object? value) && value is not null && !(value is string s && s.Length == 0);

    public string? GetString(string name) => _values.TryGetValue(name, out object? value) ? value as string ?? value?.ToString() : null;

    public string RequireString(string name) => GetString(name) ?? throw Missing(name);

    public int? GetInteger(string name) => _values.TryGetValue(name, out object? value) && value is not null ? Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture) : null;

    public bool GetBoolean(string name) => _values.TryGetValue(name, out object? value) && value is not null && Convert.ToBoolean(value, System.Globalization.CultureInfo.InvariantCulture);

    public IReadOnlyList<string>? GetList(string name) => _values.TryGetValue(name, out object? value) ? value switch
    {
        null => null,
        string s => s.Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries).Select(x => x.Trim()).ToList(),
        IEnumerable<string> list => list.ToList(),
        _ => new[] { value.ToString() ?? string.Empty },
    } : null;

    public override string ToString() => "DnsProviderSettings(" + string.Join(", ", _values.Keys) + ")";

    internal void CheckAgainst(DnsProviderInfo provider)
    {
        foreach (string name in _values.Keys)
        {
            if (provider.Parameter(name) is null)
            {
                throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterUnknown,
                    $"The DNS provider {provider.Name} has no parameter '{name}'. Its parameters: {string.Join(", ", provider.Parameters.Select(p => p.Name))}.");
            }
        }

        foreach (DnsProviderParameter parameter in provider.Parameters)
        {
            if (parameter.IsRequired && !Has(parameter.Name))
            {
                throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterMissing,
                    $"The DNS provider {provider.Name} needs the parameter '{parameter.Name}' ({parameter.Description}).");
            }

            if (!_values.TryGetValue(parameter.Name, out object? value) || value is null)
            {
                continue;
            }

            try
            {
                _ = parameter.Type switch
                {
                    DnsProviderParameterType.Integer => GetInteger(parameter.Name),
                    DnsProviderParameterType.Boolean => (object)GetBoolean(parameter.Name),
                    _ => null,
                };
            }
            catch (Exception e) when (e is FormatException || e is InvalidCastException || e is OverflowException)
            {
                throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterInvalid,
                    $"The parameter '{parameter.Name}' of the DNS provider {provider.Name} takes {parameter.Type.ToString().ToLowerInvariant()} values.", e);
            }
        }
    }

    private static AcmeArgumentException Missing(string name) =>
        new(AcmeErrorId.DnsProviderParameterMissing, $"The DNS provider needs the parameter '{name}'.");
}
