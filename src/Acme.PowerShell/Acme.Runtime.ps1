# Loads the cmdlets (Acme.PowerShell.dll); Acme.psd1 names this file in NestedModules, so it runs before Acme.psm1.
# PowerShell 7 takes the ReadyToRun build made for its own .NET major version and platform,
# net<major>.0/<rid>/ (ahead-of-time code: less JIT in a fresh process, bench/NOTES.md); Windows PowerShell 5.1,
# a .NET or platform with no such folder, or $env:ACME_PORTABLE = '1' take the portable netstandard2.0 build
# beside this file. Same source in both. Kept to a few plain statements: every one costs each import.
$acmeAssemblies = $PSScriptRoot
if ($PSEdition -eq 'Core' -and $env:ACME_PORTABLE -ne '1') {
    $acmeRuntime = "$PSScriptRoot/net$([Environment]::Version.Major).0/$([System.Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier)"
    if ([System.IO.File]::Exists("$acmeRuntime/Acme.PowerShell.dll")) { $acmeAssemblies = $acmeRuntime }
}
Import-Module "$acmeAssemblies/Acme.PowerShell.dll"
