namespace Acme.Protocol.Model;

/// <summary>
/// Where a resource is saved: the state store that read or wrote it. The model only carries it, so an
/// object read back from the state (or piped on from a step that saved it) can be given to a later
/// step; Acme.Protocol.State reads and writes through it.
/// </summary>
public interface IStateLocation
{
    /// <summary>The state folder (or, for another backend, its address without secrets).</summary>
    string Root { get; }
}
