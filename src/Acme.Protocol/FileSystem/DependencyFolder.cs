using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;

namespace Acme.Protocol.FileSystem;

/// <summary>
/// Assemblies kept in a folder of their own beside the core ("redis", "postgres"), loaded the first time
/// they are needed, never on import. Windows PowerShell 5.1 loads module assemblies without binding
/// redirects, so one AssemblyResolve handler answers for every such folder: the core itself (the folder's
/// assemblies ask for it, and 5.1 may not find the loaded copy), an assembly already loaded at the same
/// or a higher version (another module may have brought System.Memory, say), else the folder's copy.
/// </summary>
internal static class DependencyFolder
{
    private static readonly object s_lock = new();
    private static readonly List<string> s_folders = new();
    private static bool s_hooked;

    private static string Here => ModuleFolder(Path.GetDirectoryName(typeof(DependencyFolder).Assembly.Location) ?? ".");

    /// <summary>
    /// The folder that holds the dependency folders: the core's own, or the module folder two levels up when the
    /// core is a runtime build in &lt;module&gt;/net&lt;major&gt;.0/&lt;rid&gt;/ (chosen at import by Acme.Runtime.ps1).
    /// </summary>
    internal static string ModuleFolder(string coreFolder)
    {
        DirectoryInfo? framework = Directory.GetParent(coreFolder);
        DirectoryInfo? module = framework?.Parent;
        bool inRuntimeFolder = framework is not null && module is not null
            && framework.Name.StartsWith("net", StringComparison.OrdinalIgnoreCase)
            && File.Exists(Path.Combine(module.FullName, "Acme.psd1"));
        return inRuntimeFolder ? module!.FullName : coreFolder;
    }

    /// <summary>Where <paramref name="assemblyFile"/> should be: &lt;core folder&gt;/&lt;folder&gt;/&lt;file&gt;.</summary>
    public static string Expected(string folder, string assemblyFile) => Path.Combine(Here, folder, assemblyFile);

    /// <summary>The file in its folder, else beside the core; null when neither has it.</summary>
    public static string? Find(string folder, string assemblyFile) =>
        new[] { Expected(folder, assemblyFile), Path.Combine(Here, assemblyFile) }.FirstOrDefault(File.Exists);

    /// <summary>Loads <paramref name="path"/> (from <see cref="Find"/>) with its folder answered for by the resolver.</summary>
    public static Assembly Load(string path)
    {
        lock (s_lock)
        {
            string folder = Path.GetDirectoryName(path) ?? Here;
            if (!s_folders.Contains(folder, StringComparer.Ordinal))
            {
                s_folders.Add(folder);
            }

            if (!s_hooked)
            {
                AppDomain.CurrentDomain.AssemblyResolve += Resolve;
                s_hooked = true;
            }
        }

        return Assembly.LoadFrom(path);
    }

    private static Assembly? Resolve(object? sender, ResolveEventArgs args)
    {
        var wanted = new AssemblyName(args.Name);
        Assembly core = typeof(DependencyFolder).Assembly;
        if (string.Equals(wanted.Name, core.GetName().Name, StringComparison.OrdinalIgnoreCase))
        {
            return core;
        }

        string[] folders;
        lock (s_lock)
        {
            folders = s_folders.ToArray();
        }

        string? file = folders.Select(f => Path.Combine(f, wanted.Name + ".dll")).FirstOrDefault(File.Exists);
        if (file is null)
        {
            return null;
        }

        foreach (Assembly loaded in AppDomain.CurrentDomain.GetAssemblies())
        {
            AssemblyName name = loaded.GetName();
            if (string.Equals(name.Name, wanted.Name, StringComparison.OrdinalIgnoreCase) && (wanted.Version is null || name.Version >= wanted.Version))
            {
                return loaded;
            }
        }

        return Assembly.LoadFrom(file);
    }
}
