using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.FileSystem;

namespace Acme.Protocol.State;

/// <summary>
/// The state folder as a backend: each item a file written atomically (<see cref="AtomicFile"/>), every
/// folder 0700 from its creation (the root first), keys 0600 from their first byte, locks by <see cref="StateLock"/>.
/// </summary>
internal sealed class FolderStateFiles : IStateFiles
{
    public FolderStateFiles(string root) => Root = root;

    public string Root { get; }

    public string PathRoot => Root;

    public bool AllowsPlaintextKeys => true;

    public string? ReadText(string path) => File.Exists(path) ? File.ReadAllText(path, Encoding.UTF8) : null;

    public void WriteText(string path, string content, bool ownerOnly)
    {
        CreateFolder(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.WriteAllText(path, content, ownerOnly);
    }

    public bool FileExists(string path) => File.Exists(path);

    public bool FolderExists(string path) => Directory.Exists(path);

    public void CreateFolder(string path)
    {
        // 0700 from its creation, and so is every folder made under it, so nothing in the state
        // folder is ever reachable by another local user.
        AtomicFile.CreateOwnerOnlyFolder(Root);
        AtomicFile.CreateOwnerOnlyFolder(path);
    }

    public IReadOnlyList<string> Folders(string folder) =>
        Directory.Exists(folder) ? Directory.GetDirectories(folder).Select(f => Path.GetFileName(f)!).ToList() : Array.Empty<string>();

    public IReadOnlyList<string> Files(string folder, string prefix = "") =>
        Directory.Exists(folder)
            ? Directory.GetFiles(folder, prefix + "*").Select(f => Path.GetFileName(f)!).Where(n => n != StateLock.FileName).ToList()
            : Array.Empty<string>();

    public void DeleteFile(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    public void DeleteFolder(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    public void MoveFolder(string from, string to) => Directory.Move(from, to);

    public DateTime LastWriteTimeUtc(string path) => File.GetLastWriteTimeUtc(path);

    public void SweepTemporary(string folder) => StateLock.SweepTemporary(folder, NullAcmeLog.Instance);

    public Task<IDisposable>? LockAsync(string folder, TimeSpan timeout, CancellationToken cancellationToken) => null;

    public Acme.Protocol.ChallengeStores.IChallengeStore? Leases => null;

    public void Dispose()
    {
    }

    public override string ToString() => Root;
}
