using System;

namespace Acme.Protocol.Challenges.Http01;

/// <summary>What a challenge responder did between its start and its stop (Start-AcmeChallengeResponder -TimeoutSec).</summary>
public sealed class AcmeResponderSummary
{
    public AcmeResponderSummary(string store, int port, DateTimeOffset started, DateTimeOffset stopped, long answered, long notFound, long connectionsDropped)
    {
        Store = store;
        Port = port;
        Started = started;
        Stopped = stopped;
        Answered = answered;
        NotFound = notFound;
        ConnectionsDropped = connectionsDropped;
    }

    /// <summary>The store it served from, without any password.</summary>
    public string Store { get; }

    public int Port { get; }

    public DateTimeOffset Started { get; }

    public DateTimeOffset Stopped { get; }

    /// <summary>How long the responder ran.</summary>
    public TimeSpan Duration => Stopped - Started;

    /// <summary>Challenge answers sent (200 responses).</summary>
    public long Answered { get; }

    /// <summary>Requests for tokens the store did not hold (404 responses).</summary>
    public long NotFound { get; }

    /// <summary>Idle connections dropped because too many were open at once.</summary>
    public long ConnectionsDropped { get; }

    public override string ToString() => $"{Answered} answered on port {Port} from {Store}";
}
