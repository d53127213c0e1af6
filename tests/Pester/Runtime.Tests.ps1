# Which build of the assemblies an import loads (src/Acme.PowerShell/Acme.Runtime.ps1): PowerShell 7 takes the
# ReadyToRun build in net<major>.0/<rid>/ when one fits, else the portable netstandard2.0 build beside the
# manifest, which is also what Windows PowerShell 5.1 loads. Each case runs in a child pwsh, so the assemblies
# it loads are its own, and issues a certificate from a real Pebble. build.ps1 Portable runs this file with
# ACME_PORTABLE=1 set for the whole pass: the ReadyToRun cases clear it in their own children, since what they
# check is what an import without it loads.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:pebble = Start-TestPebble
    $script:moduleDir = Split-Path $env:ACME_TEST_MODULE
    $script:runtimeDir = Join-Path $moduleDir ('net{0}.0/{1}' -f [Environment]::Version.Major, [System.Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier)

    # A copy of the module without any runtime folder: the portable build is all there is, as on a .NET or a
    # platform no ReadyToRun build was made for.
    $script:portableRoot = Join-Path ([System.IO.Path]::GetTempPath()) ('acme-portable-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $script:portableDir = Join-Path $portableRoot "Acme/$(Split-Path $moduleDir -Leaf)"
    $null = New-Item -ItemType Directory $portableDir -Force
    Get-ChildItem $moduleDir | Where-Object Name -NotLike 'net*' | Copy-Item -Destination $portableDir -Recurse

    function Invoke-IssuingChild([string] $ModulePath, [hashtable] $Environment = @{}, [string] $Name, [string] $Arguments = '') {
        # Imports the module, issues one certificate by http-01, and reports every Acme and BouncyCastle
        # assembly the process loaded, with the framework it was compiled for.
        $out = Join-Path $portableRoot "out-$Name"
        $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$ModulePath'
`$cert = New-AcmeCertificate -DnsName '$Name.runtime.test' -Server '$($pebble.Directory)' -TrustedRootCertificate '$($pebble.ApiRootPath)' -AcceptTermsOfService -HttpPort $($pebble.HttpPort) -Path '$out' $Arguments
`$help = (Get-Help New-AcmeCertificate -Full | Out-String)
`$assemblies = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -match '^(Acme\.|BouncyCastle)' } | ForEach-Object {
    `$tfm = `$_.GetCustomAttributes([System.Runtime.Versioning.TargetFrameworkAttribute], `$false) | Select-Object -First 1
    [pscustomobject]@{ Name = `$_.GetName().Name; Location = `$_.Location; Framework = `$tfm.FrameworkName }
}
[pscustomobject]@{
    Thumbprint = `$cert.Thumbprint
    CertFile   = Test-Path (Join-Path '$out' 'fullchain.pem')
    Cmdlets    = (Get-Command -Module Acme).Count
    Help       = `$help
    Assemblies = @(`$assemblies)
} | ConvertTo-Json -Depth 4 -Compress
"@
        $environment = @{ ACME_STATE_PATH = (Join-Path $portableRoot "state-$Name"); NO_COLOR = '1' } + $Environment
        $run = Invoke-TestChild -Script $script -Environment $environment -ModulePath $ModulePath
        $run.Err | Should -BeNullOrEmpty
        $run.ExitCode | Should -Be 0
        ($run.Out -split "`n" | Where-Object { $_.StartsWith('{') } | Select-Object -Last 1) | ConvertFrom-Json
    }
}

AfterAll {
    if ($pebble) { Stop-TestPebble $pebble }
    Remove-Item -LiteralPath $portableRoot -Recurse -Force -ErrorAction Ignore
}

Describe 'The portable netstandard2.0 build in PowerShell 7' {
    It 'is what a module without a runtime folder loads, only it, and it issues a certificate' {
        $result = Invoke-IssuingChild -ModulePath (Join-Path $portableDir 'Acme.psd1') -Name 'portable-copy'
        $result.Thumbprint | Should -Match '^[0-9A-F]{40}$'
        $result.CertFile | Should -BeTrue
        $result.Cmdlets | Should -Be (Import-PowerShellDataFile $env:ACME_TEST_MODULE).CmdletsToExport.Count
        $names = @($result.Assemblies.Name)
        $names | Should -Contain 'Acme.PowerShell'
        $names | Should -Contain 'Acme.Protocol'
        $names | Should -Contain 'BouncyCastle.Cryptography'
        foreach ($a in $result.Assemblies | Where-Object Name -In 'Acme.PowerShell', 'Acme.Protocol') {
            Split-Path $a.Location | Should -Be $portableDir -Because $a.Name
            $a.Framework | Should -Be '.NETStandard,Version=v2.0' -Because $a.Name
        }
        Split-Path ($result.Assemblies | Where-Object Name -EQ 'BouncyCastle.Cryptography').Location | Should -Be $portableDir
        $result.Help | Should -Match 'Gets a certificate in one command'
    }

    It 'is what ACME_PORTABLE=1 loads from the full module, and it issues a certificate' {
        $result = Invoke-IssuingChild -ModulePath $env:ACME_TEST_MODULE -Environment @{ ACME_PORTABLE = '1' } -Name 'portable-env'
        $result.Thumbprint | Should -Match '^[0-9A-F]{40}$'
        foreach ($a in $result.Assemblies | Where-Object Name -In 'Acme.PowerShell', 'Acme.Protocol', 'BouncyCastle.Cryptography') {
            Split-Path $a.Location | Should -Be $moduleDir -Because $a.Name
        }
        ($result.Assemblies | Where-Object Name -EQ 'Acme.Protocol').Framework | Should -Be '.NETStandard,Version=v2.0'
    }
}

Describe 'The ReadyToRun build' -Skip:(-not (Test-Path (Join-Path (Split-Path $env:ACME_TEST_MODULE) ('net{0}.0/{1}/Acme.PowerShell.dll' -f [Environment]::Version.Major, [System.Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier)))) {
    It 'is what a normal import loads on this machine, and it issues a certificate with the help in place' {
        $result = Invoke-IssuingChild -ModulePath $env:ACME_TEST_MODULE -Environment @{ ACME_PORTABLE = $null } -Name 'readytorun'
        $result.Thumbprint | Should -Match '^[0-9A-F]{40}$'
        $result.CertFile | Should -BeTrue
        $result.Cmdlets | Should -Be (Import-PowerShellDataFile $env:ACME_TEST_MODULE).CmdletsToExport.Count
        foreach ($a in $result.Assemblies | Where-Object Name -In 'Acme.PowerShell', 'Acme.Protocol', 'BouncyCastle.Cryptography') {
            Split-Path $a.Location | Should -Be $runtimeDir -Because $a.Name
        }
        ($result.Assemblies | Where-Object Name -EQ 'Acme.Protocol').Framework | Should -Be ('.NETCoreApp,Version=v{0}.0' -f [Environment]::Version.Major)
        # The help XML stays in the module's en-US folder, not beside the runtime build.
        $result.Help | Should -Match 'Gets a certificate in one command'
        $result.Help | Should -Match 'EXAMPLE'
    }

    It 'issues with new EC keys (account and certificate) without loading BouncyCastle' {
        # The net10.0 build generates, writes and reads the keys and builds the CSR with the platform
        # (AcmeKey.Platform.cs, CsrBuilder.Platform.cs); BouncyCastle's 12 MB would be JIT-compiled otherwise.
        $result = Invoke-IssuingChild -ModulePath $env:ACME_TEST_MODULE -Environment @{ ACME_PORTABLE = $null } -Name 'no-bouncycastle' -Arguments '-KeyAlgorithm EC256'
        $result.Thumbprint | Should -Match '^[0-9A-F]{40}$'
        $result.CertFile | Should -BeTrue
        @($result.Assemblies.Name) | Should -Contain 'Acme.Protocol'
        @($result.Assemblies.Name) | Should -Not -Contain 'BouncyCastle.Cryptography'
    }

    It 'finds the redis and postgres folders in the module folder, two levels above it' {
        $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$env:ACME_TEST_MODULE'
`$type = [AppDomain]::CurrentDomain.GetAssemblies().Where({ `$_.GetName().Name -eq 'Acme.Protocol' })[0].GetType('Acme.Protocol.FileSystem.DependencyFolder', `$true)
`$find = `$type.GetMethod('Find', [System.Reflection.BindingFlags]'Static, Public, NonPublic')
`$type.Assembly.Location
`$find.Invoke(`$null, @('redis', 'Acme.Redis.dll'))
`$find.Invoke(`$null, @('postgres', 'Acme.Postgres.dll'))
"@
        $run = Invoke-TestChild -Script $script -Environment @{ ACME_PORTABLE = $null }
        $run.Err | Should -BeNullOrEmpty
        $lines = @($run.Out -split "`n" | ForEach-Object Trim | Where-Object { $_ })
        Split-Path $lines[0] | Should -Be $runtimeDir
        $lines[1] | Should -Be (Join-Path $moduleDir 'redis/Acme.Redis.dll')
        $lines[2] | Should -Be (Join-Path $moduleDir 'postgres/Acme.Postgres.dll')
    }
}

Describe 'The platform trust store''s load, started by a cmdlet that asks a CA, off the pipeline''s thread' {
    # AcmeServerCmdlet's constructor calls PlatformTrust.WarmUp, which on Linux reads the system trust store on a
    # thread-pool thread: SslStream builds a chain with it for every server certificate, and a fresh process's first
    # request to the CA otherwise waited 100-150 ms for that read (bench/NOTES.md). An import alone, or a cmdlet that
    # only reads saved state, does not start it: the process would wait for it at its exit for nothing.
    It 'is started by Get-AcmeDirectory and not by Import-Module or Export-AcmeAccountKey, in <Build> build' -TestCases @(
        @{ Build = 'the ReadyToRun'; Portable = $null }
        @{ Build = 'the portable'; Portable = '1' }
    ) {
        param($Build, $Portable)
        $state = Join-Path $portableRoot "state-warmup-$([bool]$Portable)"
        $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$env:ACME_TEST_MODULE'
`$type = [Acme.Protocol.Transport.PlatformTrust]
"import=`$(`$type::WarmUpStarted)"
try { `$null = Export-AcmeAccountKey -Path '$state/none.pem' -StatePath '$state' } catch { "exportError=`$(`$_.FullyQualifiedErrorId)" }
"offline=`$(`$type::WarmUpStarted)"
`$directory = Get-AcmeDirectory -Server '$($pebble.Directory)' -TrustedRootCertificate '$($pebble.ApiRootPath)'
"asked=`$(`$type::WarmUpStarted) newAccount=`$(`$null -ne `$directory.NewAccount) from=`$(`$type.Assembly.Location)"
"@
        $run = Invoke-TestChild -Script $script -Environment @{ ACME_PORTABLE = $Portable; NO_COLOR = '1' }
        $run.ExitCode | Should -Be 0
        $out = $run.Out -join "`n"
        $out | Should -Match 'import=False'
        $out | Should -Match 'exportError=AcmeNoAccount,'
        $out | Should -Match 'offline=False'
        $out | Should -Match "asked=$([bool]$IsLinux) newAccount=True"
        if ($Portable) { $out | Should -Not -Match 'from=.*/net\d+\.0/' } else { $out | Should -Match "from=$([regex]::Escape($moduleDir))" }
    }

    It 'leaves a process with no readable trust store to issue from a private CA as before' -Skip:(-not $IsLinux) {
        # A minimal container without ca-certificates: OpenSSL's store paths point at nothing. The load finds no root,
        # and the private root given by -TrustedRootCertificate is all the handshake needs.
        $missing = Join-Path $portableRoot 'no-such-trust-store'
        $result = Invoke-IssuingChild -ModulePath $env:ACME_TEST_MODULE -Environment @{ ACME_PORTABLE = $null; SSL_CERT_FILE = "$missing/ca.pem"; SSL_CERT_DIR = $missing } -Name 'no-trust-store'
        $result.Thumbprint | Should -Match '^[0-9A-F]{40}$'
        $result.CertFile | Should -BeTrue
    }
}
