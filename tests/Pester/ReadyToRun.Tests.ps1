# The ReadyToRun build for PowerShell 7 (net10.0/<rid>/) carries compiled code for the cmdlets themselves, not
# only for Acme.Protocol: it is compiled against the pinned PowerShell's System.Management.Automation and crossgen2
# is given that assembly (src/Acme.PowerShell/Acme.PowerShell.csproj). Without it crossgen2 compiled no method of
# a class deriving from PSCmdlet, and every cmdlet was JIT-compiled in each fresh process. The JIT's own list of
# what it compiled (DOTNET_JitStdOutFile with DOTNET_JitDisasmSummary, .NET 8 and later) is the evidence.
BeforeDiscovery {
    $script:hasRuntimeBuild = Test-Path (Join-Path (Split-Path $env:ACME_TEST_MODULE) ('net{0}.0/{1}/Acme.PowerShell.dll' -f
            [Environment]::Version.Major, [System.Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier))
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    $script:work = Join-Path ([System.IO.Path]::GetTempPath()) ('acme-r2r-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $null = New-Item -ItemType Directory $work

    function Get-JitCompiledAcmeMethod([string] $Name, [bool] $Portable) {
        # A child pwsh imports the module (the ReadyToRun build, or the portable one) and runs Get-AcmeCertificate
        # on an empty state folder; returns the Acme.PowerShell methods the JIT compiled in it, and the build used.
        $jitFile = Join-Path $work "$Name.jit.txt"
        $state = Join-Path $work "state-$Name"
        $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$env:ACME_TEST_MODULE'
`$null = Get-AcmeCertificate -StatePath '$state'
[Acme.PowerShell.Commands.GetAcmeCertificateCommand].Assembly.Location
"@
        # The runtime's own writer of that list sometimes aborts the process as it exits ("free(): invalid pointer",
        # exit code 134 or 139; a bare `pwsh -c exit` does it too, about 3 runs in 20 here): such a run is made again.
        foreach ($attempt in 1..5) {
            Remove-Item -LiteralPath $jitFile -ErrorAction Ignore
            $run = Invoke-TestChild -Script $script -Environment @{
                DOTNET_JitStdOutFile = $jitFile; DOTNET_JitDisasmSummary = '1'; NO_COLOR = '1'
                ACME_PORTABLE = if ($Portable) { '1' } else { $null }  # $null: removed, whatever this process has
            }
            if ($run.ExitCode -notin 134, 139) { break }
        }
        $run.Err | Should -BeNullOrEmpty
        $run.ExitCode | Should -Be 0
        $jitFile | Should -Exist -Because 'the runtime writes what it JIT-compiles to DOTNET_JitStdOutFile'
        [pscustomobject]@{
            Assembly = ($run.Out -split "`n" | Where-Object { $_ -like '*Acme.PowerShell.dll' } | Select-Object -Last 1).Trim()
            Methods  = @(Get-Content -LiteralPath $jitFile | Where-Object { $_ -match 'JIT compiled Acme\.PowerShell\.' } |
                    ForEach-Object { ($_ -replace '^.*JIT compiled ', '') -replace ' \[.*$', '' })
        }
    }
}

AfterAll {
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction Ignore
}

Describe 'The ReadyToRun build of the cmdlets' {
    It 'is compiled against the PowerShell that .config/dotnet-tools.json pins' {
        $pinned = (Get-Content -Raw (Join-Path $root '.config/dotnet-tools.json') | ConvertFrom-Json).tools.powershell.version
        $project = [xml](Get-Content -Raw (Join-Path $root 'src/Acme.PowerShell/Acme.PowerShell.csproj'))
        $compiledAgainst = @($project.Project.PropertyGroup | ForEach-Object { $_.PowerShellToolVersion } | Where-Object { $_ })
        $compiledAgainst | Should -Be @($pinned) -Because 'the csproj names the tool''s System.Management.Automation by its version'
    }

    It 'runs a cmdlet without JIT-compiling its methods, where the portable build JIT-compiles them' -Skip:(-not $hasRuntimeBuild) {
        $r2r = Get-JitCompiledAcmeMethod -Name 'r2r' -Portable $false
        $r2r.Assembly | Should -BeLike "*net$([Environment]::Version.Major).0*Acme.PowerShell.dll"
        $portable = Get-JitCompiledAcmeMethod -Name 'portable' -Portable $true
        $portable.Assembly | Should -Not -BeLike '*net*.0*'

        # The control: IL-only code is JIT-compiled, so the list does show the cmdlet's methods when they are.
        $portable.Methods | Should -Contain 'Acme.PowerShell.Commands.GetAcmeCertificateCommand:ProcessRecord()'
        @($portable.Methods -like 'Acme.PowerShell.Cmdlets.*').Count | Should -BeGreaterThan 3
        @($r2r.Methods -like 'Acme.PowerShell.Commands.*') | Should -BeNullOrEmpty
        @($r2r.Methods -like 'Acme.PowerShell.Cmdlets.*') | Should -BeNullOrEmpty
        $r2r.Methods.Count | Should -BeLessThan ($portable.Methods.Count / 4) -Because "ReadyToRun code covers most of Acme.PowerShell's methods (JIT-compiled: $($r2r.Methods -join ', '))"
    }
}
