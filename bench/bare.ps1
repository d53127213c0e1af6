<#
    Benchmark worker: a job that does nothing, started the way coldwarm.ps1 is (`pwsh -File` with the same
    parameters), so that the fresh-process rows can also be read over what PowerShell's -File path and
    parameter binding cost by themselves. The runner times the process from start to exit.
#>
param(
    [Parameter(Mandatory)][string] $ModulePath, [Parameter(Mandatory)][string] $Directory,
    [Parameter(Mandatory)][string] $TrustedRoot, [Parameter(Mandatory)][int] $HttpPort,
    [Parameter(Mandatory)][string] $Name, [Parameter(Mandatory)][string] $OutPath
)
$ErrorActionPreference = 'Stop'
