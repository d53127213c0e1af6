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
    # The test flavour with failpoints (build.ps1 Publish-FailpointModule), for the crash-safety tests' child processes.
    [string] $FailpointModulePath,
    [string] $Tag,
    [string] $ExcludeTag,
    # Only these files of this folder (the second pass against Pebble 2.10.1); all of them by default.
    [string[]] $File,
    # The NUnit result file's name in ResultPath.
    [string] $ResultName = 'pester.xml'
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -Force
$env:ACME_TEST_MODULE = (Resolve-Path $ModulePath).Path
if ($FailpointModulePath) { $env:ACME_TEST_FAILPOINT_MODULE = (Resolve-Path $FailpointModulePath).Path }
# Tests never touch the real per-user state folder: a fresh one for this run, removed at the end.
$env:ACME_STATE_PATH = Join-Path ([System.IO.Path]::GetTempPath()) ("acme-test-state-" + [guid]::NewGuid().ToString('N').Substring(0, 8))

$configuration = New-PesterConfiguration
$File = @($File | ForEach-Object { $_ -split "," } | Where-Object { $_ })
$configuration.Run.Path = if ($File) { @($File | ForEach-Object { Join-Path $PSScriptRoot $_ }) } else { $PSScriptRoot }
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Detailed'
$configuration.TestResult.Enabled = $true
$configuration.TestResult.OutputFormat = 'NUnitXml'
$configuration.TestResult.OutputPath = Join-Path $ResultPath $ResultName
if ($Tag) { $configuration.Filter.Tag = $Tag -split ',' }
if ($ExcludeTag) { $configuration.Filter.ExcludeTag = $ExcludeTag -split ',' }

try {
    $result = Invoke-Pester -Configuration $configuration
} finally {
    Remove-Item -LiteralPath $env:ACME_STATE_PATH -Recurse -Force -ErrorAction Ignore
}
$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
# The names of what failed go in the summary too, so the build's last lines (all a CI log may keep) name them.
$failedNames = @(@($result.Failed | ForEach-Object { $_.ExpandedPath }) +
    @($result.FailedBlocks | ForEach-Object { "block: $($_.ExpandedPath)" }) +
    @($result.FailedContainers | ForEach-Object { "file: $($_.Item)" }))
# And why, once per distinct first line of the error (a failed BeforeAll fails every test under it with one error).
function Get-FirstErrorLine($Item) {
    # A test under a failed BeforeAll has no error of its own: its block's (or an outer block's) is the reason.
    $at = $Item
    while ($at -and -not @($at.ErrorRecord)[0]) { $at = if ($at.Block) { $at.Block } else { $at.Parent } }
    $record = if ($at) { @($at.ErrorRecord)[0] }
    $text = if ($record) { "$($record.Exception.Message)" } else { 'no error recorded' }
    $line = ($text -split "`r?`n" | Where-Object { $_.Trim() } | Select-Object -First 1) ?? $text
    if ($line.Length -gt 300) { $line.Substring(0, 300) + '...' } else { $line }
}
$failedReasons = @(@(@($result.Failed) + @($result.FailedBlocks) + @($result.FailedContainers)) | Where-Object { $_ } |
        ForEach-Object { [pscustomobject]@{ Line = Get-FirstErrorLine $_; Name = if ($_.ExpandedPath) { $_.ExpandedPath } else { "$($_.Item)" } } } |
        Group-Object Line | ForEach-Object { "$($_.Count)x: $($_.Name) (first: $($_.Group[0].Name))" })
[pscustomobject]@{ Passed = $result.PassedCount; Failed = $failed; Skipped = $result.SkippedCount; FailedNames = $failedNames; FailedReasons = $failedReasons } |
    ConvertTo-Json | Set-Content -LiteralPath $SummaryPath
