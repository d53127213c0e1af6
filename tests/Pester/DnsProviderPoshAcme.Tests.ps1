#Requires -Version 7.2
# The Posh-ACME plugin bridge (-Provider PoshAcme:<Plugin>): Posh-ACME 4.32.0's own RFC2136 plugin (it runs
# nsupdate) against a real BIND 9, and Pebble validating by asking that BIND, so the whole dns-01 path is
# real. Posh-ACME is not in any registry here: the tests load the shared copy (../shared/vendor), through
# PSModulePath or ACME_POSHACME_PATH, as a user's installed module would be.
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'DnsServers.psm1') -Force

    $script:vendor = $env:ACME_TEST_POSHACME ?? (Join-Path $PSScriptRoot '../../../shared/vendor/Posh-ACME-4.32.0')
    if (-not (Test-Path (Join-Path $vendor 'Posh-ACME.psd1'))) {
        throw "Posh-ACME 4.32.0 is not at $vendor (set ACME_TEST_POSHACME to its folder)."
    }
    $script:vendor = (Resolve-Path $vendor).Path

    # A module folder holding Posh-ACME the way Install-Module lays it out: <path>/Posh-ACME/<version>/.
    $script:modules = Join-Path ([System.IO.Path]::GetTempPath()) ("acme-poshacme-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $null = New-Item -ItemType Directory -Path (Join-Path $modules 'Posh-ACME')
    $null = New-Item -ItemType SymbolicLink -Path (Join-Path $modules 'Posh-ACME/4.32.0') -Target $vendor
    $script:savedModulePath = $env:PSModulePath
    $script:savedHome = $env:POSHACME_HOME
    $env:PSModulePath = $modules + [System.IO.Path]::PathSeparator + $env:PSModulePath
    # Posh-ACME keeps its configuration under POSHACME_HOME: a throwaway folder, not the user's.
    $env:POSHACME_HOME = Join-Path $modules 'home'
    $null = New-Item -ItemType Directory -Path $env:POSHACME_HOME

    $script:bind = Start-TestBind
    $script:pebble = Start-TestPebble -DnsServer $bind.Server -AuthzReusePercent 0
    $script:account = New-TestAccount $pebble -Contact 'poshacme@acme.test'

    function Get-PluginArgs([string] $Secret = $bind.KeySecret) {
        @{
            DDNSNameserver = '127.0.0.1'; DDNSPort = "$($bind.Port)"; DDNSKeyName = $bind.KeyName; DDNSKeyType = $bind.KeyAlgorithm
            DDNSKeyValue = (ConvertTo-SecureString $Secret -AsPlainText -Force); DDNSZone = $bind.Zone
        }
    }
}

AfterAll {
    if ($pebble) { Stop-TestPebble $pebble }
    if ($bind) { Stop-TestBind $bind }
    $env:PSModulePath = $savedModulePath
    $env:POSHACME_HOME = $savedHome
    # Loaded into this session by the bridge: removed before its folder goes, or every later import in
    # the session fails reloading its format file from the deleted folder.
    Get-Module Posh-ACME | Remove-Module -Force -ErrorAction Ignore
    if ($modules) { Remove-Item -LiteralPath $modules -Recurse -Force -ErrorAction Ignore }
}

Describe 'The PoshAcme plugin bridge against a real BIND' {
    It 'issues example.test + *.example.test through the RFC2136 plugin of Posh-ACME from PSModulePath, and removes the records' {
        $items = [System.Collections.Generic.List[object]]::new()
        $account | New-AcmeOrder -DnsName $bind.Zone, "*.$($bind.Zone)" |
            Start-AcmeDnsChallenge -Provider PoshAcme:RFC2136 -ProviderParameter (Get-PluginArgs) -DnsServer $bind.Server -Verbose -Debug -WarningAction Continue *>&1 |
            ForEach-Object { $items.Add($_); if ($_ -is [Acme.Protocol.Model.AcmeOrder]) { $_ } } |
            Complete-AcmeOrder | ForEach-Object { $items.Add($_) }

        $cert = $items | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] }
        ($cert.Names | Sort-Object) | Should -Be (@($bind.Zone, "*.$($bind.Zone)") | Sort-Object)
        @($items | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }) | Should -BeNullOrEmpty
        # Pebble validated by asking BIND, so the plugin's nsupdate put both values there; now they are gone.
        @($items | Where-Object { "$_" -like '*Posh-ACME RFC2136: Add-DnsTxt*' }).Count | Should -Be 2
        @($items | Where-Object { "$_" -like '*Posh-ACME RFC2136: Remove-DnsTxt*' }).Count | Should -Be 2
        Get-TestDnsTxt $bind "_acme-challenge.$($bind.Zone)" | Should -BeNullOrEmpty
        (Get-Module Posh-ACME).ModuleBase | Should -Be (Join-Path $modules 'Posh-ACME/4.32.0')
        ($items | ForEach-Object { "$_" }) -join "`n" | Should -Not -BeLike "*$($bind.KeySecret)*"
    }

    It 'reports what the plugin throws (a wrong TSIG key: nsupdate fails) as AcmeDnsRecordAddFailed and leaves no record' {
        $wrong = [Convert]::ToBase64String([byte[]](1..32))
        $name = "bad-$([guid]::NewGuid().ToString('N').Substring(0, 6)).$($bind.Zone)"
        $err = $null
        $account | New-AcmeOrder -DnsName $name |
            Start-AcmeDnsChallenge -Provider PoshAcme:RFC2136 -ProviderParameter (Get-PluginArgs -Secret $wrong) -DnsServer $bind.Server `
                -ErrorVariable err -ErrorAction SilentlyContinue -WarningAction SilentlyContinue | Out-Null

        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsRecordAddFailed,*'
        $err[0].Exception.Message | Should -BeLike '*Posh-ACME plugin RFC2136 failed in Add-DnsTxt*nsupdate*'
        $err[0].Exception.Message | Should -Not -BeLike "*$wrong*"
        Get-TestDnsTxt $bind "_acme-challenge.$name" | Should -BeNullOrEmpty
    }

    It 'refuses a plugin Posh-ACME does not have with AcmeDnsProviderUnknown listing the plugins there are (ACME_POSHACME_PATH)' {
        $saved = $env:ACME_POSHACME_PATH
        try {
            $env:ACME_POSHACME_PATH = Join-Path $vendor 'Posh-ACME.psd1'
            $err = $null
            try {
                $account | New-AcmeOrder -DnsName "nope.$($bind.Zone)" | Start-AcmeDnsChallenge -Provider PoshAcme:NoSuchPlugin -ProviderParameter @{} | Out-Null
            } catch { $err = @($_) }
        } finally {
            $env:ACME_POSHACME_PATH = $saved
        }

        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderUnknown,*'
        $err[0].Exception.Message | Should -BeLike "*no plugin 'NoSuchPlugin'*RFC2136*Route53*"
    }

    It 'refuses with AcmePoshAcmeNotInstalled naming Install-Module Posh-ACME when the module is nowhere, before any request' {
        $script = "Import-Module Acme; try { @() | Start-AcmeDnsChallenge -Provider PoshAcme:RFC2136 -ErrorAction Stop; 'no error' } " +
            "catch { `$_.FullyQualifiedErrorId; `$_.CategoryInfo.Category.ToString(); `$_.Exception.Message }"
        $acmeModules = Split-Path (Split-Path (Split-Path $env:ACME_TEST_MODULE))
        $child = Invoke-TestChild -Script $script -Environment @{ PSModulePath = $acmeModules; ACME_POSHACME_PATH = ''; POSHACME_HOME = $env:POSHACME_HOME }
        $lines = $child.Out -split "`r?`n"
        $lines[0] | Should -BeLike 'AcmePoshAcmeNotInstalled,*'
        $lines[1] | Should -Be 'NotInstalled'
        $lines[2] | Should -BeLike '*not installed*Install-Module Posh-ACME*'
    }
}
