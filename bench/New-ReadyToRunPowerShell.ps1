<#
.SYNOPSIS
    Makes a ReadyToRun copy of the PowerShell running this script, for the benchmark's rows "as PowerShell's own
    packages ship it", and prints the path of its pwsh.
.DESCRIPTION
    The pinned `dotnet pwsh` is PowerShell's global tool, an IL-only build: PowerShell.Common.props in
    PowerShell/PowerShell sets PublishReadyToRun=false for the framework-dependent build the tool is made from,
    and true for the Release builds of the self-contained and framework-dependent-deployment packages (the .deb,
    .rpm, .tar.gz, .msi and .pkg users install). So every fresh tool process JIT-compiles PowerShell itself:
    bare `pwsh -c exit` and every Import-Module cost more than they do for users of an installed PowerShell.

    This copies $PSHOME and compiles each IL-only managed assembly at its top level with crossgen2 (the
    Microsoft.NETCore.App.Crossgen2 package the module's own ReadyToRun build restores) against the running
    runtime, the way PublishReadyToRun does. Nothing else changes: same PowerShell version, same assemblies,
    same modules. The copy is kept in -Destination and reused while $PSHOME's and crossgen2's versions are the
    same. When $PSHOME is already ReadyToRun (an installed PowerShell) it prints $PSHOME's own pwsh.
#>
[CmdletBinding()]
[OutputType([string])]
param([Parameter(Mandatory)][string] $Destination)
$ErrorActionPreference = 'Stop'

function Get-ImageKind([string] $Path) {
    # 'ReadyToRun' (a managed native header in its CLI header), 'IL' (managed, none), or 'Native' (no CLI header).
    $stream = [IO.File]::OpenRead($Path)
    try {
        $cor = ([System.Reflection.PortableExecutable.PEReader]::new($stream)).PEHeaders.CorHeader
        if ($null -eq $cor) { 'Native' } elseif ($cor.ManagedNativeHeaderDirectory.Size -gt 0) { 'ReadyToRun' } else { 'IL' }
    } catch [BadImageFormatException] {
        'Native'
    } finally {
        $stream.Dispose()
    }
}

$exe = if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' }
$sma = Join-Path $PSHOME 'System.Management.Automation.dll'
if ((Get-ImageKind $sma) -eq 'ReadyToRun') { return (Join-Path $PSHOME $exe) }

$rid = [System.Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier
$runtimeDir = [System.Runtime.InteropServices.RuntimeEnvironment]::GetRuntimeDirectory()
$runtimeVersion = [Environment]::Version.ToString(3)
$packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
$crossgenPackage = Join-Path $packages "microsoft.netcore.app.crossgen2.$rid"
$crossgenVersion = @(Get-ChildItem -LiteralPath $crossgenPackage -Directory -ErrorAction Ignore |
    Where-Object { $_.Name -like "$([Environment]::Version.Major).*" } | Sort-Object { [version]($_.Name -replace '-.*') } -Descending)
if ($crossgenVersion.Count -eq 0) {
    throw "No crossgen2 $([Environment]::Version.Major).x for $rid under ${crossgenPackage}: run 'dotnet pwsh ./build.ps1 Build' first (its ReadyToRun publish restores it)."
}
$crossgen = Join-Path $crossgenVersion[0].FullName "tools/crossgen2$(if ($IsWindows) { '.exe' })"

$stamp = "PowerShell $($PSVersionTable.PSVersion) from $PSHOME; runtime $runtimeVersion; crossgen2 $($crossgenVersion[0].Name)"
$stampFile = Join-Path $Destination '.readytorun'
if ((Test-Path -LiteralPath $stampFile) -and (Get-Content -Raw -LiteralPath $stampFile).Trim() -eq $stamp) {
    return (Join-Path $Destination $exe)
}

Remove-Item -LiteralPath $Destination -Recurse -Force -ErrorAction Ignore
$null = New-Item -ItemType Directory -Path $Destination
Copy-Item -Path (Join-Path $PSHOME '*') -Destination $Destination -Recurse
$targetOs = if ($IsWindows) { 'windows' } elseif ($IsMacOS) { 'osx' } else { 'linux' }
$targetArch = ([System.Runtime.InteropServices.RuntimeInformation]::ProcessArchitecture).ToString().ToLowerInvariant()
$compiled = 0
foreach ($dll in Get-ChildItem -LiteralPath $PSHOME -Filter '*.dll' -File) {
    if ((Get-ImageKind $dll.FullName) -ne 'IL') { continue }
    # The reference patterns in quotes: PowerShell on Unix expands an unquoted wildcard argument of a native command.
    $log = & $crossgen $dll.FullName -o (Join-Path $Destination $dll.Name) -r "$(Join-Path $runtimeDir '*.dll')" -r "$(Join-Path $PSHOME '*.dll')" `
        --targetos:$targetOs --targetarch:$targetArch -O 2>&1
    if ($LASTEXITCODE -ne 0) {
        # An assembly crossgen2 cannot compile stays IL, as PublishReadyToRun leaves it.
        Copy-Item -LiteralPath $dll.FullName -Destination $Destination -Force
        Write-Warning "crossgen2 left $($dll.Name) as IL: $($log | Select-Object -Last 1)"
        continue
    }
    $compiled++
}
if ((Get-ImageKind (Join-Path $Destination 'System.Management.Automation.dll')) -ne 'ReadyToRun') {
    throw "crossgen2 did not compile System.Management.Automation.dll into $Destination."
}
Set-Content -LiteralPath $stampFile -Value $stamp
Write-Verbose "Compiled $compiled assemblies of $PSHOME ReadyToRun into $Destination."
Join-Path $Destination $exe
