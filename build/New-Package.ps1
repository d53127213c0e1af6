#Requires -Version 7.2
<#
.SYNOPSIS
    Packs the staged module (output/Acme/<version>/) into Acme.<version>.nupkg, the package PowerShell
    Gallery and Install-PSResource take.
.DESCRIPTION
    Uses Compress-PSResource from Microsoft.PowerShell.PSResourceGet (shipped with PowerShell 7.4 and
    later), which validates the manifest and writes the nuspec from its PSData (tags, project and
    licence URLs, release notes). Needs no repository. build.ps1 Package runs it in a child process,
    so the build never loads the module; tests/Pester/Package.Tests.ps1 runs it too, then installs the
    package from a local repository into a fresh process.
.EXAMPLE
    ./build/New-Package.ps1 -ModulePath output/Acme/0.1.0 -OutputPath output/package
#>
[CmdletBinding()]
[OutputType([System.IO.FileInfo])]
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [Parameter(Mandatory)][string] $OutputPath
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
Import-Module Microsoft.PowerShell.PSResourceGet
$null = New-Item -ItemType Directory -Path $OutputPath -Force
$manifest = Import-PowerShellDataFile (Join-Path $ModulePath 'Acme.psd1')
$package = Join-Path $OutputPath "Acme.$($manifest.ModuleVersion).nupkg"
Remove-Item -LiteralPath $package -ErrorAction Ignore
Compress-PSResource -Path $ModulePath -DestinationPath $OutputPath
if (-not (Test-Path -LiteralPath $package)) { throw "Compress-PSResource did not write $package." }
Get-Item -LiteralPath $package
