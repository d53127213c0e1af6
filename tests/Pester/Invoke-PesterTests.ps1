<#
.SYNOPSIS
    Runs the Pester suites in this (child) process against the built module, and writes a summary
    for build.ps1. Run by build.ps1 Test; the build session never loads the module itself.
#>
param(
    [Parameter(Mandatory)][string] $PesterPath,
    [Parameter(Mandatory)][string] $ModulePath,
    [Parameter(Mandatory)][string] $SummaryPath,
    [Parameter(Mandatory)][string] $ResultPath,
    [string] $Tag,
    [string] $ExcludeTag
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -Force
$env:ACME_TEST_MODULE = (Resolve-Path $ModulePath).Path

$configuration = New-PesterConfiguration
$configuration.Run.Path = $PSScriptRoot
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Detailed'
$configuration.TestResult.Enabled = $true
$configuration.TestResult.OutputFormat = 'NUnitXml'
$configuration.TestResult.OutputPath = Join-Path $ResultPath 'pester.xml'
if ($Tag) { $configuration.Filter.Tag = $Tag -split ',' }
if ($ExcludeTag) { $configuration.Filter.ExcludeTag = $ExcludeTag -split ',' }

$result = Invoke-Pester -Configuration $configuration
$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
[pscustomobject]@{ Passed = $result.PassedCount; Failed = $failed; Skipped = $result.SkippedCount } |
    ConvertTo-Json | Set-Content -LiteralPath $SummaryPath
