#Requires -Version 7.2
<#
.SYNOPSIS
    Builds, tests, documents and packages the Acme module. Plain PowerShell, no build framework.
.DESCRIPTION
    Tasks:
      Build    compile and stage the module into output/Acme/<version>/ (includes Docs): the portable netstandard2.0 build,
               and the ReadyToRun build for PowerShell 7 in net10.0/<rid>/ for each -Runtime
      Docs     compile docs/en-US markdown into MAML help and about_ topics in the staged module
      Test     Build, then xunit and Pester (against a local Pebble); ends with "N passed, N failed". Also stages
               the test flavour with failpoints into output/failpoints/Acme/<version>/ for the crash-safety
               tests (ACME_TEST_FAILPOINT_MODULE); Build and Package ship only the module without them
      Failpoints
               stage only the test flavour into output/failpoints/Acme/<version>/ (to run a crash test alone)
      Portable Build, then the suites again against the portable netstandard2.0 build (the one Windows PowerShell 5.1
               loads): xunit against Acme.Protocol's netstandard2.0 build (AcmeCoreFramework=netstandard2.0), and
               Test's first Pester pass with ACME_PORTABLE=1 (the failpoint flavour is netstandard2.0 already); ends
               with "Portable (netstandard2.0): xunit N passed, N failed; Pester N passed, N failed"
      Stress   Build, then the Pester tests tagged Stress (bad-nonce storms: 100 issuances at 50% rejection, 20 at 90%; the fleet on one PostgreSQL database, Fleet.Tests.ps1)
      Demo     Build, start a local Pebble, issue a certificate with the five-cmdlet pipeline into ./out
      Package  Build, then pack the module into output/package/Acme.<version>.nupkg (Install-PSResource takes it)
      Bench    Build, then measure speed against a local Pebble and uacme; writes bench/RESULTS.md
      Clean    remove build output
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Docs', 'Test', 'Portable', 'Failpoints', 'Stress', 'Demo', 'Package', 'Bench', 'Clean')]
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Pester tags to run or leave out (for example -ExcludeTag Slow).
    [string[]] $Tag = @(),
    [string[]] $ExcludeTag = @(),

    # The platforms Build compiles the PowerShell 7 ReadyToRun build for (net10.0/<rid>/ in the module, chosen at
    # import by Acme.Runtime.ps1); 'none' for the portable netstandard2.0 build alone.
    [string[]] $Runtime = @('linux-x64', 'win-x64', 'osx-arm64')
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$root = $PSScriptRoot
$manifest = Import-PowerShellDataFile (Join-Path $root 'Acme.psd1')
$version = $manifest.ModuleVersion
$outputRoot = Join-Path $root 'output'
$moduleDir = Join-Path $outputRoot "Acme/$version"
$testResults = Join-Path $outputRoot 'TestResults'
$script:PesterFailedNames = @()
# Why they failed: each distinct first line of an error, printed after the names (the tail a CI log keeps).
$script:PesterFailedReasons = @()
Import-Module (Join-Path $root 'tests/Pester/AcmeTestHelpers.psm1') -Force

function Invoke-Native {
    param([Parameter(Mandatory)][string] $What, [Parameter(Mandatory)][scriptblock] $Command)
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed with exit code $LASTEXITCODE." }
}

function Invoke-Clean {
    foreach ($path in 'output', 'out') {
        Remove-Item -LiteralPath (Join-Path $root $path) -Recurse -Force -ErrorAction Ignore
    }
    Get-ChildItem -Path (Join-Path $root 'src'), (Join-Path $root 'tests') -Directory -Recurse -Include bin, obj -ErrorAction Ignore |
        Remove-Item -Recurse -Force -ErrorAction Ignore
}

function Invoke-Build {
    Publish-Module -BuildConfiguration $Configuration -PublishPath (Join-Path $outputRoot 'publish') -Destination $moduleDir
    foreach ($rid in $Runtime | Where-Object { $_ -ne 'none' }) { Publish-RuntimeBuild -RuntimeIdentifier $rid }
    Publish-RedisStore
    Publish-PostgresState
    Invoke-Docs
    Write-Host "Built Acme $version into $moduleDir"
}

function Publish-Module {
    <# Compiles the cmdlets and the core in one configuration and stages them with the manifest and the scripts into $Destination. #>
    param([string] $BuildConfiguration, [string] $PublishPath, [string] $Destination)
    Remove-Item -LiteralPath $PublishPath -Recurse -Force -ErrorAction Ignore
    Invoke-Native "dotnet publish ($BuildConfiguration)" {
        dotnet publish (Join-Path $root 'src/Acme.PowerShell/Acme.PowerShell.csproj') -c $BuildConfiguration -f netstandard2.0 -o $PublishPath `
            -p:Version=$version --nologo -v:quiet
    }
    Remove-Item -LiteralPath $Destination -Recurse -Force -ErrorAction Ignore
    $null = New-Item -ItemType Directory -Path $Destination -Force
    Copy-Item (Join-Path $root 'Acme.psd1'), (Join-Path $root 'LICENSE') $Destination
    Get-ChildItem (Join-Path $root 'src/Acme.PowerShell') -Filter *.format.ps1xml | Copy-Item -Destination $Destination
    Copy-Item (Join-Path $root 'src/Acme.PowerShell/Acme.psm1'), (Join-Path $root 'src/Acme.PowerShell/AcmeDsc.ps1'), (Join-Path $root 'src/Acme.PowerShell/Acme.Runtime.ps1') $Destination
    Get-ChildItem $PublishPath -Filter *.dll | Where-Object Name -NotIn 'System.Management.Automation.dll' | Copy-Item -Destination $Destination
}

function Publish-RuntimeBuild {
    <#
        The PowerShell 7 build: the same assemblies compiled for net10.0 and published ReadyToRun (ahead-of-time
        code for PowerShell 7.6's .NET 10; a ReadyToRun image serves only the .NET major it was compiled for) into
        <module>/net10.0/<rid>/. Acme.Runtime.ps1 loads it when the running .NET and platform match, else the
        portable netstandard2.0 build beside it; the redis/, postgres/ and en-US/ folders stay in the module folder.
    #>
    param([Parameter(Mandatory)][string] $RuntimeIdentifier, [string] $Framework = 'net10.0')
    $publish = Join-Path $outputRoot "publish-$Framework-$RuntimeIdentifier"
    Remove-Item -LiteralPath $publish -Recurse -Force -ErrorAction Ignore
    Invoke-Native "dotnet publish ($Framework $RuntimeIdentifier ReadyToRun)" {
        dotnet publish (Join-Path $root 'src/Acme.PowerShell/Acme.PowerShell.csproj') -c $Configuration -f $Framework -r $RuntimeIdentifier `
            --self-contained false -p:PublishReadyToRun=true -o $publish -p:Version=$version --nologo -v:quiet
    }
    $destination = Join-Path $moduleDir "$Framework/$RuntimeIdentifier"
    $null = New-Item -ItemType Directory -Path $destination -Force
    Get-ChildItem $publish -Filter *.dll | Where-Object Name -NotIn 'System.Management.Automation.dll' | Copy-Item -Destination $destination
}

function Publish-FailpointModule {
    <#
        The test flavour: the module compiled with -c Failpoints (ACME_TEST_FAILPOINT stops it at a named
        step, src/Acme.Protocol/Diagnostics/Failpoint.cs), staged apart in output/failpoints/ and never
        shipped; only the child processes of the crash-safety tests import it. No Redis store, no help;
        the PostgreSQL backend, for the crash tests of tests/Pester/PostgresState.Tests.ps1.
    #>
    $destination = Join-Path $outputRoot "failpoints/Acme/$version"
    Publish-Module -BuildConfiguration 'Failpoints' -PublishPath (Join-Path $outputRoot 'publish-failpoints') -Destination $destination | Out-Host
    Publish-PostgresState -ModuleFolder $destination
    Write-Host "Built the failpoint flavour of Acme $version into $destination"
    Join-Path $destination 'Acme.psd1'
}

function Publish-RedisStore {
    # The Redis store and StackExchange.Redis's chain go to a folder of their own, loaded only when a
    # redis:// store is used (src/Acme.Protocol/ChallengeStores/RedisStoreLoader.cs), never on Import-Module.
    $publish = Join-Path $outputRoot 'publish-redis'
    Remove-Item -LiteralPath $publish -Recurse -Force -ErrorAction Ignore
    Invoke-Native 'dotnet publish (Redis store)' {
        dotnet publish (Join-Path $root 'src/Acme.Redis/Acme.Redis.csproj') -c $Configuration -o $publish -p:Version=$version --nologo -v:quiet
    }
    $redisDir = Join-Path $moduleDir 'redis'
    $null = New-Item -ItemType Directory -Path $redisDir -Force
    Get-ChildItem $publish -Filter *.dll | Where-Object { -not (Test-Path (Join-Path $moduleDir $_.Name)) } | Copy-Item -Destination $redisDir
}

function Publish-PostgresState {
    # The PostgreSQL state backend and Npgsql's chain go to a folder of their own, loaded only when a
    # postgres:// state path is used (src/Acme.Protocol/State/PostgresStateLoader.cs), never on Import-Module.
    param([string] $ModuleFolder = $moduleDir)
    $publish = Join-Path $outputRoot 'publish-postgres'
    Remove-Item -LiteralPath $publish -Recurse -Force -ErrorAction Ignore
    Invoke-Native 'dotnet publish (PostgreSQL state)' {
        dotnet publish (Join-Path $root 'src/Acme.Postgres/Acme.Postgres.csproj') -c $Configuration -o $publish -p:Version=$version --nologo -v:quiet
    }
    $postgresDir = Join-Path $ModuleFolder 'postgres'
    $null = New-Item -ItemType Directory -Path $postgresDir -Force
    Get-ChildItem $publish -Filter *.dll | Where-Object { -not (Test-Path (Join-Path $ModuleFolder $_.Name)) } | Copy-Item -Destination $postgresDir
}

function Invoke-Docs {
    $compiler = Join-Path $root 'build/Build-Help.ps1'
    if (Test-Path $compiler) {
        & $compiler -DocsPath (Join-Path $root 'docs/en-US') -OutputPath (Join-Path $moduleDir 'en-US') -AssemblyName 'Acme.PowerShell.dll'
    }
}

function Restore-TestTools {
    Invoke-Native 'restoring the test tools (Pester)' { dotnet restore (Join-Path $root 'build/tools.proj') --nologo -v:quiet }
}

function Get-NuGetPackagesFolder {
    if ($env:NUGET_PACKAGES) { return $env:NUGET_PACKAGES }
    $line = dotnet nuget locals global-packages --list
    ($line -replace '^global-packages:\s*', '').Trim()
}

function Invoke-Test {
    Invoke-Build
    $failpointModule = Publish-FailpointModule
    Restore-TestTools
    $null = New-Item -ItemType Directory -Path $testResults -Force

    $xunit = Invoke-Xunit
    $xunitPassed, $xunitFailed = $xunit.Passed, $xunit.Failed

    Invoke-PesterSuite -Include $Tag -Exclude (@($ExcludeTag) + 'Stress') -FailpointModule $failpointModule
    $pesterPassed, $pesterFailed = $script:PesterCounts
    # The second pass: the protocol files again, against Pebble 2.10.1 -strict (profiles, ARI, Retry-After).
    $current = Find-Pebble2
    if ($current) {
        Invoke-PesterSuite -Include $Tag -Exclude (@($ExcludeTag) + 'Stress') -FailpointModule $failpointModule -File $Pebble2Files -Pebble $current
        $p2Passed, $p2Failed = $script:PesterCounts
        $p2Text = "Pebble 2.10.1 -strict ($($Pebble2Files.Count) files): $p2Passed passed, $p2Failed failed"
    } else {
        $p2Passed, $p2Failed = 0, 0
        $p2Text = 'Pebble 2.10.1: ABSENT, second pass not run (set ACME_TEST_PEBBLE to its binary, or put it at ../shared/servers/pebble-2.10.1/pebble)'
    }
    $passed = $xunitPassed + $pesterPassed + $p2Passed
    $failed = $xunitFailed + $pesterFailed + $p2Failed
    $script:PesterFailedNames += $xunit.FailedNames
    $script:PesterFailedReasons += $xunit.FailedReasons
    Write-FailedTests
    Write-Host "`nxunit: $xunitPassed passed, $xunitFailed failed; Pester (Pebble 2.4.0): $pesterPassed passed, $pesterFailed failed; $p2Text"
    Write-Host "$passed passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

function Write-FailedTests {
    <# What failed, by name, then why: each distinct first line of an error (the last lines, all a CI log may keep). #>
    if ($script:PesterFailedNames) {
        Write-Host "`nFailed:" -ForegroundColor Red
        $script:PesterFailedNames | ForEach-Object { Write-Host "  $_" -ForegroundColor Red }
    }
    if ($script:PesterFailedReasons) {
        Write-Host "`nWhy (each distinct first line of an error, how many failed with it):" -ForegroundColor Red
        $script:PesterFailedReasons | ForEach-Object { Write-Host "  $_" -ForegroundColor Red }
    }
}

function Invoke-Xunit {
    <#
        Runs the xunit project, its results in output/TestResults/<Name>.trx; returns the passed and failed counts,
        the names of the failed tests and the trx. -Property passes MSBuild properties (AcmeCoreFramework).
    #>
    param([string] $Name = 'xunit', [string[]] $Property = @())
    Write-Host "`n== $Name ==" -ForegroundColor Cyan
    $trx = Join-Path $testResults "$Name.trx"
    Remove-Item $trx -ErrorAction Ignore
    dotnet test (Join-Path $root 'tests/Acme.Protocol.Tests/Acme.Protocol.Tests.csproj') -c $Configuration --nologo @($Property | ForEach-Object { "-p:$_" }) `
        --logger "trx;LogFileName=$trx" --logger 'console;verbosity=minimal' | Out-Host
    $result = [pscustomobject]@{ Passed = 0; Failed = 0; FailedNames = @(); FailedReasons = @(); Trx = $trx }
    if (Test-Path $trx) {
        $counters = ([xml](Get-Content -Raw $trx)).TestRun.ResultSummary.Counters
        $result.Passed = [int]$counters.passed
        $result.Failed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        if ($result.Failed -gt 0) {
            $ns = @{ t = 'http://microsoft.com/schemas/VisualStudio/TeamTest/2010' }
            $failedResults = @(Select-Xml -Path $trx -XPath '//t:UnitTestResult[@outcome!="Passed" and @outcome!="NotExecuted"]' -Namespace $ns | ForEach-Object Node)
            $result.FailedNames = @($failedResults | ForEach-Object { "$Name`: $($_.testName)" })
            $result.FailedReasons = @($failedResults | ForEach-Object {
                    $message = "$($_.Output.ErrorInfo.Message)" -split "`r?`n" | Where-Object { $_.Trim() } | Select-Object -First 1
                    "$Name`: $($_.testName): $(if ($message.Length -gt 300) { $message.Substring(0, 300) + '...' } else { $message })"
                })
        }
    } else {
        $result.Failed = 1
        $result.FailedNames = @("$Name`: produced no results")
        Write-Host "$Name produced no results." -ForegroundColor Red
    }
    $result
}

function Test-PortableImport {
    <#
        The Portable pass's first check, before any Pester test: a child pwsh (with this process's ACME_PORTABLE=1)
        imports the staged module and must load the netstandard2.0 Acme.PowerShell.dll and Acme.Protocol.dll beside
        the manifest, or the pass would run the ReadyToRun build and prove nothing. Returns what is wrong, or nothing.
    #>
    $pwsh = Get-PwshCommand
    $manifestPath = Join-Path $moduleDir 'Acme.psd1'
    $probe = @"
Import-Module '$manifestPath' -ErrorAction Stop
foreach (`$name in 'Acme.PowerShell', 'Acme.Protocol') {
    `$a = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq `$name } | Select-Object -First 1
    `$tfm = if (`$a) { (`$a.GetCustomAttributes([System.Runtime.Versioning.TargetFrameworkAttribute], `$false) | Select-Object -First 1).FrameworkName }
    '{0}|{1}|{2}' -f `$name, `$a.Location, `$tfm
}
"@
    $lines = @(& $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $probe 2>&1 | ForEach-Object { "$_" })
    $problems = @()
    foreach ($name in 'Acme.PowerShell', 'Acme.Protocol') {
        $line = $lines | Where-Object { $_.StartsWith("$name|") } | Select-Object -First 1
        $expected = "$name|$(Join-Path $moduleDir "$name.dll")|.NETStandard,Version=v2.0"
        if ($line -ne $expected) { $problems += "$name loaded as '$line', not '$expected' ($($lines -join ' / '))" }
    }
    $problems
}

function Invoke-Portable {
    <#
        The suites against the portable netstandard2.0 build (Windows PowerShell 5.1's, and PowerShell 7's on a platform
        with no ReadyToRun build): xunit against Acme.Protocol compiled for netstandard2.0, then Test's first Pester pass
        with ACME_PORTABLE=1, which every child pwsh inherits. Not Stress, not the Pebble 2.10.1 pass.
    #>
    Invoke-Build
    $failpointModule = Publish-FailpointModule
    Restore-TestTools
    $null = New-Item -ItemType Directory -Path $testResults -Force
    $savedPortable = $env:ACME_PORTABLE
    try {
        $xunit = Invoke-Xunit -Name 'xunit-portable' -Property 'AcmeCoreFramework=netstandard2.0'
        # BuildUnderTestTests checks the Acme.Protocol.dll it loaded is the netstandard2.0 one; a run without it proves nothing.
        $ns = @{ t = 'http://microsoft.com/schemas/VisualStudio/TeamTest/2010' }
        $check = if (Test-Path $xunit.Trx) { Select-Xml -Path $xunit.Trx -Namespace $ns -XPath '//t:UnitTestResult[@outcome="Passed" and contains(@testName, "TheAcmeProtocolAssemblyLoadedIsTheBuildThisRunTests")]' }
        if (-not $check -and -not ($xunit.FailedNames -match 'TheAcmeProtocolAssemblyLoadedIsTheBuildThisRunTests')) {
            $xunit.Failed++
            $xunit.FailedNames += 'xunit-portable: BuildUnderTestTests did not pass, so the build tested is unknown'
        }
        $script:PesterFailedNames += $xunit.FailedNames
        $script:PesterFailedReasons += $xunit.FailedReasons

        $env:ACME_PORTABLE = '1'
        $problems = @(Test-PortableImport)
        if ($problems) {
            $problems | ForEach-Object { Write-Host $_ -ForegroundColor Red }
            $pesterPassed, $pesterFailed = 0, 1
            $script:PesterFailedNames += @($problems | ForEach-Object { "Pester (netstandard2.0), not run: $_" })
        } else {
            Write-Host 'ACME_PORTABLE=1: a child pwsh loads the netstandard2.0 Acme.PowerShell.dll and Acme.Protocol.dll beside the manifest.'
            Invoke-PesterSuite -Include $Tag -Exclude (@($ExcludeTag) + 'Stress') -FailpointModule $failpointModule -Portable
            $pesterPassed, $pesterFailed = $script:PesterCounts
        }
    } finally {
        $env:ACME_PORTABLE = $savedPortable
    }
    Write-FailedTests
    Write-Host "`nPortable (netstandard2.0): xunit $($xunit.Passed) passed, $($xunit.Failed) failed; Pester $pesterPassed passed, $pesterFailed failed"
    if ($xunit.Failed + $pesterFailed -gt 0 -or $xunit.Passed -eq 0 -or $pesterPassed -eq 0) { exit 1 }
}

function Build-TestKit {
    # Test-only helpers Pester loads (the fault-injecting proxy, the junk-connection flood); never shipped.
    $kit = Join-Path $outputRoot 'testkit'
    Invoke-Native 'building the test kit' {
        dotnet build (Join-Path $root 'tests/Acme.TestKit/Acme.TestKit.csproj') -c $Configuration -o $kit --nologo -v:quiet
    }
    $env:ACME_TEST_KIT = Join-Path $kit 'Acme.TestKit.dll'
}

# The integration files the second pass runs against Pebble 2.10.1: the ones that speak the protocol
# (orders, accounts, challenges, revocation, chains, EAB, the pipeline). Pebble2.Tests.ps1 starts 2.10.1
# itself in the first pass.
$Pebble2Files = @('Orders.Tests.ps1', 'Accounts.Tests.ps1', 'Challenges.Tests.ps1', 'Revocation.Tests.ps1', 'Chains.Tests.ps1',
    'ExternalAccount.Tests.ps1', 'Pipeline.Tests.ps1')

function Find-Pebble2 {
    <# Pebble 2.10.1 as the test harness finds it: ACME_TEST_PEBBLE, else ../shared/servers/pebble-2.10.1 next to the repository. #>
    $candidates = @($env:ACME_TEST_PEBBLE, (Join-Path (Split-Path -Parent $root) 'shared/servers/pebble-2.10.1/pebble'),
        '/work/shared/servers/pebble-2.10.1/pebble') | Where-Object { $_ }
    foreach ($c in $candidates) {
        if ((Test-Path -LiteralPath $c -PathType Leaf) -and ((& $c -version 2>&1 | Out-String) -match 'version:\s*v?2\.(1\d|[5-9])')) { return $c }
    }
    $null
}

function Invoke-PesterSuite {
    <#
        Runs Pester in a child pwsh against the staged module; leaves the passed and failed counts in $script:PesterCounts.
        With -Pebble, only -File and against that Pebble 2.10.1 binary (ACME_TEST_PEBBLE_PASS for the harness).
        With -Portable, under its own label and result files (the caller sets ACME_PORTABLE=1).
    #>
    param([string[]] $Include = @(), [string[]] $Exclude = @(), [string] $FailpointModule, [string[]] $File = @(), [string] $Pebble,
        [switch] $Portable)
    Build-TestKit
    $label = if ($Pebble) { 'Pester against Pebble 2.10.1' } elseif ($Portable) { 'Pester (netstandard2.0)' } else { 'Pester' }
    Write-Host "`n== $label ==" -ForegroundColor Cyan
    $summary = Join-Path $testResults $(if ($Pebble) { 'pester-summary-pebble2.json' } elseif ($Portable) { 'pester-summary-portable.json' } else { 'pester-summary.json' })
    Remove-Item $summary -ErrorAction Ignore
    $pester = Join-Path (Get-NuGetPackagesFolder) 'pester/6.2.0/tools/Pester.psd1'
    $pwsh = Get-PwshCommand
    $pwshArgs = @('-NoProfile', '-NonInteractive', '-File', (Join-Path $root 'tests/Pester/Invoke-PesterTests.ps1'),
        '-PesterPath', $pester, '-ModulePath', (Join-Path $moduleDir 'Acme.psd1'), '-SummaryPath', $summary, '-ResultPath', $testResults)
    $Include = @($Include | Where-Object { $_ })
    $Exclude = @($Exclude | Where-Object { $_ -and $_ -notin $Include })
    if ($FailpointModule) { $pwshArgs += @('-FailpointModulePath', $FailpointModule) }
    if ($Include) { $pwshArgs += @('-Tag', ($Include -join ',')) }
    if ($Exclude) { $pwshArgs += @('-ExcludeTag', ($Exclude -join ',')) }
    if ($Pebble) { $pwshArgs += @('-File', ($File -join ','), '-ResultName', 'pester-pebble2.xml') }
    if ($Portable) { $pwshArgs += @('-ResultName', 'pester-portable.xml') }
    $saved = $env:ACME_TEST_PEBBLE, $env:ACME_TEST_PEBBLE_PASS, $env:ACME_TEST_PEBBLE_STRICT
    try {
        # The second pass runs Pebble -strict (RFC 8555 to the letter): one full pass under it.
        if ($Pebble) { $env:ACME_TEST_PEBBLE = $Pebble; $env:ACME_TEST_PEBBLE_PASS = '2.10.1'; $env:ACME_TEST_PEBBLE_STRICT = '1' }
        & $pwsh[0] @($pwsh | Select-Object -Skip 1) @pwshArgs
    } finally {
        $env:ACME_TEST_PEBBLE, $env:ACME_TEST_PEBBLE_PASS, $env:ACME_TEST_PEBBLE_STRICT = $saved
    }
    $script:PesterCounts = 0, 1
    if (Test-Path $summary) {
        $s = Get-Content -Raw $summary | ConvertFrom-Json
        $script:PesterCounts = [int]$s.Passed, [int]$s.Failed
        $script:PesterFailedNames += @($s.FailedNames | Where-Object { $_ } | ForEach-Object { "$label`: $_" })
        $script:PesterFailedReasons += @($s.FailedReasons | Where-Object { $_ } | ForEach-Object { "$label`: $_" })
    } else {
        Write-Host 'Pester produced no results.' -ForegroundColor Red
    }
}

function Invoke-Stress {
    Invoke-Build
    Restore-TestTools
    $null = New-Item -ItemType Directory -Path $testResults -Force
    Invoke-PesterSuite -Include (@($Tag) + 'Stress') -Exclude $ExcludeTag
    $passed, $failed = $script:PesterCounts
    Write-FailedTests
    Write-Host "`nStress: $passed passed, $failed failed"
    if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    $pebble = Start-TestPebble
    # The demo's account and certificate go to ./out/state, not to the per-user state folder. Pebble
    # forgets everything when it stops, so an earlier run's state is of no use: start afresh.
    $savedStatePath = $env:ACME_STATE_PATH
    $env:ACME_STATE_PATH = Join-Path $root 'out/state'
    Remove-Item -LiteralPath $env:ACME_STATE_PATH -Recurse -Force -ErrorAction Ignore
    try {
        $pwsh = Get-PwshCommand
        & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -File (Join-Path $root 'examples/Demo.ps1') `
            -ModulePath (Join-Path $moduleDir 'Acme.psd1') -Directory $pebble.Directory -TrustedRoot $pebble.ApiRootPath `
            -HttpPort $pebble.HttpPort -ManagementUrl $pebble.ManagementUrl -OutPath (Join-Path $root 'out')
        if ($LASTEXITCODE -ne 0) { throw "The demo failed (exit $LASTEXITCODE)." }
    } finally {
        $env:ACME_STATE_PATH = $savedStatePath
        Stop-TestPebble $pebble
    }
}

function Invoke-Bench {
    Invoke-Build
    $pwsh = Get-PwshCommand
    & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -File (Join-Path $root 'bench/Invoke-Bench.ps1') `
        -ModulePath (Join-Path $moduleDir 'Acme.psd1')
    if ($LASTEXITCODE -ne 0) { throw "The benchmark failed (exit $LASTEXITCODE)." }
}

function Invoke-Package {
    Invoke-Build
    $pwsh = Get-PwshCommand
    # A child process, so this one never loads the module (Compress-PSResource validates the manifest).
    & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -File (Join-Path $root 'build/New-Package.ps1') `
        -ModulePath $moduleDir -OutputPath (Join-Path $outputRoot 'package')
    if ($LASTEXITCODE -ne 0) { throw "Packaging failed (exit $LASTEXITCODE)." }
}

foreach ($t in $Task) {
    switch ($t) {
        'Clean' { Invoke-Clean }
        'Build' { Invoke-Build }
        'Docs' { Invoke-Docs }
        'Test' { Invoke-Test }
        'Portable' { Invoke-Portable }
        'Failpoints' { $null = Publish-FailpointModule }
        'Stress' { Invoke-Stress }
        'Demo' { Invoke-Demo }
        'Package' { Invoke-Package }
        'Bench' { Invoke-Bench }
    }
}
