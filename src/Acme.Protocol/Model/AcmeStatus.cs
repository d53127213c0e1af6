using System;
using Acme.Protocol.Errors;

namespace Acme.Protocol.Model;

/// <summary>RFC 8555 section 7.1.6: account states.</summary>
public enum AcmeAccountStatus
{
    Valid,
    Deactivated,
    Revoked,
}

/// <summary>RFC 8555 section 7.1.6: order states.</summary>
public enum AcmeOrderStatus
{
    Pending,
    Ready,
    Processing,
    Valid,
    Invalid,
}

/// <summary>RFC 8555 section 7.1.6: authorization states.</summary>
public enum AcmeAuthorizationStatus
{
    Pending,
    Valid,
    Invalid,
    Deactivated,
    Expired,
    Revoked,
}

/// <summary>RFC 8555 section 7.1.6: challenge states.</summary>
public enum AcmeChallengeStatus
{
    Pending,
    Processing,
    Valid,
    Invalid,
}

internal static class AcmeStatusParser
{
    /// <summary>
    /// Parses a status string strictly: a status RFC 8555 does not define is a protocol error, since
    /// guessing what it means could make a client poll forever or finalize too early.
    /// </summary>
    public static T Parse<T>(string? value, string resource) where T : struct
    {
        if (value is null)
        {
            throw new AcmeProtocolException($"The server sent {resource} without a status.");
        }

        if (value.Length > 0 && char.IsLower(value[0]) && Enum.TryParse(value, ignoreCase: true, out T result)
            && Enum.IsDefined(typeof(T), result))
        {
            return result;
        }

        throw new AcmeProtocolException($"The server sent {resource} with the unknown status '{Truncate(value)}'.");
    }

    public static string ToWire<T>(T status) where T : struct
    {
        string name = status.ToString()!;
        return char.ToLowerInvariant(name[0]) + name.Substring(1);
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s.Substring(0, 40) + "...";
}
