using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using Acme.Protocol.Errors;

namespace Acme.Protocol.Challenges.Listening;

/// <summary>
/// The one responder per port that this process runs for a challenge type, reference-counted: the
/// first lease on a port starts it, later ones join it (several pipelines at once, all validated on
/// the CA's one port), and the last lease released stops it, freeing the port. A lease for one
/// address joins a responder already listening on every address of that port, which answers it too.
/// </summary>
internal sealed class SharedPorts<TResponder>
    where TResponder : class, IDisposable
{
    private readonly object _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>How many responders run now (one per port, however many leases share it).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <param name="start">Starts the responder when none runs on the port (its errors, such as AcmeListenerPortInUse, pass through).</param>
    /// <param name="started">True when this call started it.</param>
    public Entry Acquire(int port, IPAddress? address, Func<TResponder> start, out bool started)
    {
        if (port < 1 || port > 65535)
        {
            // Port 0 (any free port) cannot be shared: each caller would mean a different port.
            throw new AcmeArgumentException(AcmeErrorId.InvalidPort, $"The port {port} is not between 1 and 65535.");
        }

        lock (_lock)
        {
            string key = Key(port, address);
            started = false;
            if (!_entries.TryGetValue(key, out Entry? entry) && !_entries.TryGetValue(Key(port, null), out entry))
            {
                entry = new Entry(key, address, start());
                _entries[key] = entry;
                started = true;
            }

            entry.Leases++;
            return entry;
        }
    }

    /// <summary>Gives a lease back; true when it was the last, and the responder has been stopped.</summary>
    public bool Release(Entry entry)
    {
        lock (_lock)
        {
            if (--entry.Leases > 0)
            {
                return false;
            }

            _entries.Remove(entry.Key);
            entry.Responder.Dispose();
            return true;
        }
    }

    private static string Key(int port, IPAddress? address) => port.ToString(CultureInfo.InvariantCulture) + "|" + (address?.ToString() ?? "*");

    internal sealed class Entry
    {
        public Entry(string key, IPAddress? address, TResponder responder)
        {
            Key = key;
            Address = address;
            Responder = responder;
        }

        public string Key { get; }

        public IPAddress? Address { get; }

        public TResponder Responder { get; }

        public int Leases { get; set; }
    }
}
