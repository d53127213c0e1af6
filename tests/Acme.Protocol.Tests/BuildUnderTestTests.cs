using System.Reflection;
using System.Runtime.Versioning;
using Acme.Protocol.Crypto;
using Xunit;

namespace Acme.Protocol.Tests;

// The core ships twice from one source (netstandard2.0 for Windows PowerShell 5.1 and ACME_PORTABLE=1, net10.0
// for PowerShell 7); this project tests either, by AcmeCoreFramework (build.ps1 Portable). A pass must not be
// able to test the other build than the one it names.
public class BuildUnderTestTests
{
    [Fact]
    public void TheAcmeProtocolAssemblyLoadedIsTheBuildThisRunTests()
    {
        Assembly core = typeof(AcmeKey).Assembly;
        string? framework = core.GetCustomAttribute<TargetFrameworkAttribute>()?.FrameworkName;
#if ACME_CORE_NETSTANDARD
        Assert.Equal(".NETStandard,Version=v2.0", framework);
#else
        Assert.Equal(".NETCoreApp,Version=v10.0", framework);
#endif
    }
}
