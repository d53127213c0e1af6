#Requires -Version 7.2
# The manifest's gallery metadata, and the package: build/New-Package.ps1 (what build.ps1 Package runs)
# packs the built module, Install-PSResource installs it from a local folder repository into a fresh
# process with its own home, and there `Import-Module Acme` and the pipeline issue a certificate from Pebble.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $manifestPath = $env:ACME_TEST_MODULE
    $manifest = Import-PowerShellDataFile $manifestPath
}

Describe 'The manifest' {
    It 'passes Test-ModuleManifest and carries the gallery metadata' {
        $tested = Test-ModuleManifest -Path $manifestPath
        $tested.CompatiblePSEditions | Should -Be @('Desktop', 'Core')
        $tested.PowerShellVersion | Should -Be ([version]'5.1')
        $psData = $manifest.PrivateData.PSData
        $psData.Tags | Should -Contain 'ACME'
        $psData.Tags | Should -Contain 'PSEdition_Desktop'
        $psData.Tags | Should -Contain 'PSEdition_Core'
        $psData.Tags | ForEach-Object { $_ | Should -Not -Match '\s' -Because 'gallery tags cannot hold spaces' }
        $psData.ProjectUri | Should -Match '^https://'
        $psData.LicenseUri | Should -Match '^https://'
        $psData.ReleaseNotes | Should -Not -BeNullOrEmpty
    }

    It 'exports explicitly, with no wildcard' {
        foreach ($key in 'CmdletsToExport', 'FunctionsToExport', 'VariablesToExport', 'AliasesToExport') {
            $manifest.ContainsKey($key) | Should -BeTrue -Because "an absent $key means 'export everything'"
            @($manifest[$key]) | Should -Not -Contain '*'
        }
    }
}

# PSResourceGet's CurrentUser folder follows HOME on Linux and macOS only; on Windows it is the
# Documents folder, which a test cannot isolate.
Describe 'The package' -Tag 'Package' -Skip:$IsWindows {
    BeforeAll {
        $pebble = Start-TestPebble
        $pebbleRoot = Get-PebbleRootCertificate $pebble
        $work = Join-Path $TestDrive 'package'
        $null = New-Item -ItemType Directory (Join-Path $work 'home'), (Join-Path $work 'repo'), (Join-Path $work 'out')
        # -File takes only strings, so the Pebble details travel as a file.
        $pebbleFile = Join-Path $work 'pebble.xml'
        [pscustomobject]@{ Directory = $pebble.Directory; ApiRootPath = $pebble.ApiRootPath; HttpPort = $pebble.HttpPort } | Export-Clixml $pebbleFile
        $script = Join-Path $work 'install.ps1'
        @'
param($ModuleDir, $Packer, $Repo, $PebbleFile, $Out)
$ErrorActionPreference = 'Stop'
$Pebble = Import-Clixml $PebbleFile
$package = & $Packer -ModulePath $ModuleDir -OutputPath $Repo
Register-PSResourceRepository -Name AcmeLocalTest -Uri $Repo -Trusted
Install-PSResource -Name Acme -Repository AcmeLocalTest -Scope CurrentUser -Quiet
# Only the installed copy and PowerShell's own modules are visible from here on.
$env:PSModulePath = @((Get-InstalledPSResource -Name Acme).InstalledLocation, (Join-Path $PSHOME 'Modules')) -join [IO.Path]::PathSeparator
Import-Module Acme
$files = New-AcmeAccount -Server $Pebble.Directory -TrustedRootCertificate $Pebble.ApiRootPath -AcceptTermsOfService |
    New-AcmeOrder -DnsName package.test |
    Start-AcmeHttpChallenge -Port $Pebble.HttpPort |
    Complete-AcmeOrder |
    Export-AcmeCertificate -Path $Out
[pscustomobject]@{
    Package    = $package.FullName
    ModuleBase = (Get-Module Acme).ModuleBase
    Files      = @($files.Name)
    Synopsis   = (Get-Help New-AcmeOrder).Synopsis
    About      = (Get-Help about_Acme | Out-String).Length
} | ConvertTo-Json -Compress
'@ | Set-Content -LiteralPath $script

        $pwsh = Get-PwshCommand
        $psi = [System.Diagnostics.ProcessStartInfo]::new($pwsh[0])
        foreach ($a in @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $script,
                '-ModuleDir', (Split-Path $manifestPath), '-Packer', (Join-Path $PSScriptRoot '../../build/New-Package.ps1'),
                '-Repo', (Join-Path $work 'repo'), '-PebbleFile', $pebbleFile, '-Out', (Join-Path $work 'out'))) { $psi.ArgumentList.Add($a) }
        # A home of its own: PSResourceGet's repository list and the CurrentUser module folder live under it.
        $psi.Environment['HOME'] = Join-Path $work 'home'
        foreach ($v in 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'PSModulePath') { $null = $psi.Environment.Remove($v) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        $process = [System.Diagnostics.Process]::Start($psi)
        $stderr = $process.StandardError.ReadToEndAsync()
        $stdout = $process.StandardOutput.ReadToEnd()
        $process.WaitForExit()
        $exitCode = $process.ExitCode
        $errors = $stderr.Result
        $result = $stdout -split "`n" | Where-Object { $_.StartsWith('{') } | Select-Object -Last 1 | ConvertFrom-Json
    }

    AfterAll {
        if ($pebble) { Stop-TestPebble $pebble }
    }

    It 'is built, installed and used in a fresh process without error' {
        $errors | Should -BeNullOrEmpty
        $exitCode | Should -Be 0
        $result | Should -Not -BeNullOrEmpty
    }

    It 'holds the module, its dependencies, format file, help and licence' {
        $names = [System.IO.Compression.ZipFile]::OpenRead($result.Package).Entries.FullName
        foreach ($file in 'Acme.psd1', 'Acme.psm1', 'AcmeDsc.ps1', 'Acme.PowerShell.dll', 'Acme.Protocol.dll', 'BouncyCastle.Cryptography.dll', 'Acme.format.ps1xml', 'Acme.Certificate.format.ps1xml',
            'en-US/Acme.PowerShell.dll-Help.xml', 'en-US/about_Acme.help.txt', 'LICENSE', 'Acme.nuspec',
            'redis/Acme.Redis.dll', 'redis/StackExchange.Redis.dll', 'redis/Pipelines.Sockets.Unofficial.dll',
            'postgres/Acme.Postgres.dll', 'postgres/Npgsql.dll', 'Acme.Runtime.ps1',
            'net10.0/linux-x64/Acme.PowerShell.dll', 'net10.0/linux-x64/Acme.Protocol.dll', 'net10.0/linux-x64/BouncyCastle.Cryptography.dll',
            'net10.0/win-x64/Acme.PowerShell.dll', 'net10.0/win-x64/Acme.Protocol.dll', 'net10.0/win-x64/BouncyCastle.Cryptography.dll',
            'net10.0/osx-arm64/Acme.PowerShell.dll', 'net10.0/osx-arm64/Acme.Protocol.dll', 'net10.0/osx-arm64/BouncyCastle.Cryptography.dll') {
            $names | Should -Contain $file
        }
        $names | Should -Not -Contain 'System.Management.Automation.dll'
    }

    It 'carries the manifest''s tags and URLs in its nuspec' {
        $zip = [System.IO.Compression.ZipFile]::OpenRead($result.Package)
        try {
            $reader = [System.IO.StreamReader]::new(($zip.Entries | Where-Object FullName -EQ 'Acme.nuspec').Open())
            $nuspec = [xml]$reader.ReadToEnd()
            $reader.Dispose()
        } finally { $zip.Dispose() }
        $nuspec.package.metadata.version | Should -Be $manifest.ModuleVersion
        $nuspec.package.metadata.projectUrl | Should -Be $manifest.PrivateData.PSData.ProjectUri
        $nuspec.package.metadata.tags -split ' ' | Should -Contain 'ACME'
    }

    It 'imports the installed copy from the isolated module folder' {
        $result.ModuleBase | Should -BeLike "$(Join-Path $work 'home')*"
        $result.Synopsis | Should -Match 'certificate'
        $result.About | Should -BeGreaterThan 1000
    }

    It 'issues a certificate from Pebble that chains to its root' {
        @($result.Files | Sort-Object) | Should -Be @('cert.pem', 'chain.pem', 'fullchain.pem', 'key.pem')
        $cert = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem((Get-Content -Raw (Join-Path $work 'out/cert.pem')))
        $chain = [System.Security.Cryptography.X509Certificates.X509Certificate2Collection]::new()
        $chain.ImportFromPemFile((Join-Path $work 'out/chain.pem'))
        Test-CertificateChain -Certificate $cert -Intermediate $chain -Root $pebbleRoot | Should -BeTrue
    }
}
