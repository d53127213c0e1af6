using System;
using System.IO;
using Acme.Protocol.FileSystem;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>
/// Where the redis/ and postgres/ folders are looked for: beside the core, or in the module folder two levels up
/// when the core is the ReadyToRun build in &lt;module&gt;/net&lt;major&gt;.0/&lt;rid&gt;/ (Acme.Runtime.ps1 loads it).
/// </summary>
public sealed class DependencyFolderTests : IDisposable
{
    private readonly string _module = Path.Combine(Path.GetTempPath(), "acme-depfolder-" + Guid.NewGuid().ToString("N").Substring(0, 8));

    public DependencyFolderTests() => Directory.CreateDirectory(Path.Combine(_module, "net10.0", "linux-x64"));

    public void Dispose() => Directory.Delete(_module, recursive: true);

    [Fact]
    public void A_runtime_build_in_a_module_folder_looks_in_the_module_folder()
    {
        File.WriteAllText(Path.Combine(_module, "Acme.psd1"), "@{}");
        Assert.Equal(_module, DependencyFolder.ModuleFolder(Path.Combine(_module, "net10.0", "linux-x64")));
    }

    [Fact]
    public void The_portable_build_looks_beside_itself()
    {
        File.WriteAllText(Path.Combine(_module, "Acme.psd1"), "@{}");
        Assert.Equal(_module, DependencyFolder.ModuleFolder(_module));
    }

    [Fact]
    public void A_folder_two_levels_below_something_that_is_no_module_looks_beside_itself()
    {
        string core = Path.Combine(_module, "net10.0", "linux-x64");
        Assert.Equal(core, DependencyFolder.ModuleFolder(core));
    }
}
