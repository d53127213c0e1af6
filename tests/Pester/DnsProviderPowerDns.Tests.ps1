#Requires -Version 7.2
# The PowerDNS provider against a real PowerDNS Authoritative Server (sqlite3 backend, HTTP API on), with
# Pebble validating against that server: the whole dns-01 path is real.
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'PowerDnsServer.psm1') -Force
    $script:pdns = Start-TestPowerDns
    # No authorization is reused: each test's order needs its own challenges.
    $script:pebble = Start-TestPebble -AuthzReusePercent 0 -DnsServer $pdns.DnsServer
    $script:root = Get-PebbleRootCertificate $pebble
    $script:account = New-TestAccount $pebble -Contact 'powerdns@acme.test'
    $script:provider = @{ ApiUrl = $pdns.ApiUrl; ApiKey = $pdns.ApiKey }

    # The error a run ends with (the script splats @args onto the cmdlet, which gets -ErrorAction Stop).
    function Get-PdnsError([scriptblock] $Script) {
        try { $null = & $Script -ErrorAction Stop; @() } catch { , @($_) }
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
    if ($script:pdns) { Stop-TestPowerDns $script:pdns }
}

Describe 'Start-AcmeDnsChallenge -Provider PowerDNS against a real pdns_server' {
    It 'issues example.test and *.example.test, keeps the other TXT values at the name, removes its own, and writes the API key nowhere' {
        # A value someone else keeps at the name: it must still be there afterwards.
        $rrset = @{ rrsets = @(@{ name = '_acme-challenge.example.test.'; type = 'TXT'; ttl = 60; changetype = 'REPLACE'
                    records = @(@{ content = '"kept-by-someone-else"'; disabled = $false }) }) } | ConvertTo-Json -Depth 5
        Invoke-RestMethod -Method Patch -Uri "$($pdns.ApiUrl)/api/v1/servers/localhost/zones/example.test." -Headers @{ 'X-API-Key' = $pdns.ApiKey } `
            -ContentType 'application/json' -Body $rrset

        $key = ConvertTo-SecureString $pdns.ApiKey -AsPlainText -Force
        $seen = [System.Collections.Generic.List[string]]::new()
        $during = $null
        $order = $account | New-AcmeOrder -DnsName 'example.test', '*.example.test'
        $values = @($order.Authorizations | ForEach-Object { ($_.Challenges | Where-Object Type -EQ 'dns-01').DnsRecordValue })
        $DebugPreference = 'Continue'
        $out = $order | Start-AcmeDnsChallenge -Provider PowerDNS -ProviderParameter @{ ApiUrl = $pdns.ApiUrl; ApiKey = $key; Ttl = 30 } `
            -DnsServer $pdns.DnsServer -Verbose -Debug -WarningAction Continue *>&1 | ForEach-Object { $seen.Add(($_ | Out-String)); $_ }
        $DebugPreference = 'SilentlyContinue'
        $cert = $out | Where-Object { $_ -is [Acme.Protocol.Model.AcmeOrder] } | Complete-AcmeOrder -Verbose 4>&1 |
            ForEach-Object { $seen.Add(($_ | Out-String)); $_ } | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }

        ($cert.Names | Sort-Object) | Should -Be @('*.example.test', 'example.test')
        Test-CertificateChain -Certificate $cert.Certificate -Intermediate $cert.Chain -Root $root | Should -BeTrue
        # Both values went through PowerDNS (Pebble asked it), and only the one kept by someone else is left.
        $values.Count | Should -Be 2
        ($seen -join "`n") | Should -BeLike '*PowerDNS: PATCH*'
        Get-TestPowerDnsTxt $pdns '_acme-challenge.example.test' | Should -Be '"kept-by-someone-else"'
        (Get-Content -Raw -LiteralPath $pdns.Log) | Should -Not -BeLike '*error*Exception*'

        ($seen -join "`n") | Should -Not -BeLike "*$($pdns.ApiKey)*"
        $stateFiles = @(Get-ChildItem -LiteralPath $env:ACME_STATE_PATH -Recurse -File -Force)
        $stateFiles.Count | Should -BeGreaterThan 0
        foreach ($f in $stateFiles) { [System.IO.File]::ReadAllText($f.FullName) | Should -Not -BeLike "*$($pdns.ApiKey)*" -Because $f.FullName }
    }

    It 'removes the whole TXT record set when its own values were the only ones' {
        Invoke-RestMethod -Method Patch -Uri "$($pdns.ApiUrl)/api/v1/servers/localhost/zones/example.test." -Headers @{ 'X-API-Key' = $pdns.ApiKey } `
            -ContentType 'application/json' -Body (@{ rrsets = @(@{ name = '_acme-challenge.www.example.test.'; type = 'TXT'; changetype = 'DELETE' }) } | ConvertTo-Json -Depth 4)
        $cert = $account | New-AcmeOrder -DnsName 'www.example.test' |
            Start-AcmeDnsChallenge -Provider PowerDNS -ProviderParameter ($provider + @{ Zone = 'example.test' }) -DnsServer $pdns.DnsServer | Complete-AcmeOrder
        $cert.Names | Should -Be @('www.example.test')
        $z = Invoke-RestMethod -Uri "$($pdns.ApiUrl)/api/v1/servers/localhost/zones/example.test." -Headers @{ 'X-API-Key' = $pdns.ApiKey }
        @($z.rrsets | Where-Object { $_.name -eq '_acme-challenge.www.example.test.' }).Count | Should -Be 0
    }

    It 'refuses a wrong API key with DnsProviderAuthenticationFailed, naming no key, and tells the CA nothing' {
        $order = $account | New-AcmeOrder -DnsName 'badkey.example.test'
        $err = Get-PdnsError { $order | Start-AcmeDnsChallenge -Provider PowerDNS -ProviderParameter @{ ApiUrl = $pdns.ApiUrl; ApiKey = 'not-the-key' } -DnsServer $pdns.DnsServer @args }
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderAuthenticationFailed*'
        $err[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err[0].Exception.Message | Should -BeLike '*401*'
        ($err[0] | Out-String) | Should -Not -BeLike '*not-the-key*'
        ($order | Get-AcmeChallenge -Type dns-01).Status | Should -Be 'Pending'
    }

    It 'names the zones there are when the name is in none of them (DnsProviderZoneNotFound)' {
        $order = $account | New-AcmeOrder -DnsName 'www.elsewhere.test'
        $err = Get-PdnsError { $order | Start-AcmeDnsChallenge -Provider PowerDNS -ProviderParameter $provider -DnsServer $pdns.DnsServer @args }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderZoneNotFound*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].Exception.Message | Should -BeLike '*www.elsewhere.test*example.test*'

        $err = Get-PdnsError { $order | Start-AcmeDnsChallenge -Provider PowerDNS -ProviderParameter ($provider + @{ Zone = 'nope.test' }) -DnsServer $pdns.DnsServer @args }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderZoneNotFound*'
        $err[0].Exception.Message | Should -BeLike '*nope.test*'
    }

    It 'says DnsProviderUnreachable when nothing listens at ApiUrl' {
        $order = $account | New-AcmeOrder -DnsName 'unreachable.example.test'
        $port = Get-FreeTcpPort
        $err = Get-PdnsError { $order | Start-AcmeDnsChallenge -Provider PowerDNS -ProviderParameter @{ ApiUrl = "http://127.0.0.1:$port"; ApiKey = $pdns.ApiKey } -DnsServer $pdns.DnsServer @args }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderUnreachable*'
        $err[0].CategoryInfo.Category | Should -Be 'ConnectionError'
        $err[0].Exception.Message | Should -BeLike "*127.0.0.1:$port*"
        ($err[0] | Out-String) | Should -Not -BeLike "*$($pdns.ApiKey)*"
    }

    It 'refuses a missing ApiKey before any request (DnsProviderParameterMissing)' {
        $order = $account | New-AcmeOrder -DnsName 'nokey.example.test'
        { $order | Start-AcmeDnsChallenge -Provider PowerDNS -ProviderParameter @{ ApiUrl = $pdns.ApiUrl } } | Should -Throw -ErrorId 'AcmeDnsProviderParameterMissing*'
    }
}
