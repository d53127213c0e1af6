# Loads the module's cmdlets (Acme.PowerShell.dll), listed in Acme.psd1's NestedModules so it runs before
# Acme.psm1. PowerShell 7 takes the ReadyToRun build compiled for its own .NET major version and platform,
# <module>/net<major>.0/<rid>/ (ahead-of-time code, less JIT in a fresh process: bench/NOTES.md); Windows
# PowerShell 5.1, a .NET or a platform with no such folder, or $env:ACME_PORTABLE = '1' take the portable
# netstandard2.0 build beside this file. Both builds are the same source.
$acmeAssemblyFolder = $PSScriptRoot
if ($PSVersionTable.PSEdition -eq 'Core' -and $env:ACME_PORTABLE -ne '1') {
    $acmeRuntime = [System.Runtime.InteropServices.RuntimeInformation]
    $acmeOs = if ($IsWindows) { 'win' } elseif ($IsMacOS) { 'osx' } else { 'linux' }
    $acmePlatforms = @($acmeRuntime::RuntimeIdentifier, ('{0}-{1}' -f $acmeOs, $acmeRuntime::ProcessArchitecture.ToString().ToLowerInvariant()))
    foreach ($acmePlatform in $acmePlatforms) {
        $acmeCandidate = Join-Path $PSScriptRoot ('net{0}.0/{1}' -f [Environment]::Version.Major, $acmePlatform)
        if ([System.IO.File]::Exists((Join-Path $acmeCandidate 'Acme.PowerShell.dll'))) {
            $acmeAssemblyFolder = $acmeCandidate
            break
        }
    }
}
Import-Module (Join-Path $acmeAssemblyFolder 'Acme.PowerShell.dll')
Remove-Variable -Name acmeAssemblyFolder, acmeRuntime, acmeOs, acmePlatforms, acmePlatform, acmeCandidate -ErrorAction Ignore
