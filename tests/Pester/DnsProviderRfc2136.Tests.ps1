#Requires -Version 7.2
# The RFC2136 DNS provider against a real BIND 9 (tests/Pester/DnsServers.psm1), with Pebble validating
# dns-01 by asking that BIND (-dnsserver): update, propagation check, Pebble's lookup and issuance are real.
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'DnsServers.psm1') -Force
    $script:bind = Start-TestBind
    $script:pebble = Start-TestPebble -DnsServer $bind.Server -AuthzReusePercent 0
    $script:root = Get-PebbleRootCertificate $pebble
    $script:account = New-TestAccount $pebble -Contact 'rfc2136@acme.test'
    $script:good = @{ Server = $bind.Server; KeyName = $bind.KeyName; KeySecret = $bind.KeySecret; KeyAlgorithm = $bind.KeyAlgorithm }

    function New-TestLabel { 'r' + [guid]::NewGuid().ToString('N').Substring(0, 8) }

    function Invoke-FailingChallenge {
        <# Runs the dns-01 step with the given provider parameters; returns the one error and all streams as text. #>
        param([string[]] $DnsName, [hashtable] $Parameters)
        $err = $null
        $streams = $account | New-AcmeOrder -DnsName $DnsName |
            Start-AcmeDnsChallenge -Provider RFC2136 -ProviderParameter $Parameters -DnsServer $bind.Server -PropagationTimeoutSec 10 `
                -ErrorVariable err -ErrorAction SilentlyContinue -Verbose *>&1
        @($streams | Where-Object { $_ -is [Acme.Protocol.Model.AcmeOrder] }).Count | Should -Be 0
        $err.Count | Should -Be 1
        [pscustomobject]@{ Error = $err[0]; Text = ($streams | Out-String) + ($err[0] | Out-String) + $err[0].Exception.Message }
    }
}

AfterAll {
    if ($pebble) { Stop-TestPebble $pebble }
    if ($bind) { Stop-TestBind $bind }
}

Describe 'RFC2136 provider against a real BIND 9' {
    It 'is listed in the provider catalogue with its parameters, KeySecret a secret' {
        $info = [Acme.Protocol.Challenges.Dns01.Providers.DnsProviderCatalog]::Find('rfc2136')
        $info.Name | Should -Be 'RFC2136'
        @($info.Parameters.Name) | Should -Be @('Server', 'Zone', 'KeyName', 'KeySecret', 'KeyAlgorithm', 'Ttl')
        @($info.Parameters | Where-Object IsSecret).Name | Should -Be 'KeySecret'
        @($info.Parameters | Where-Object IsRequired).Name | Should -Be 'Server'
    }

    It 'issues example.test + *.example.test through TSIG-signed updates, removes the records, and shows the secret nowhere' {
        $streams = $account | New-AcmeOrder -DnsName 'example.test', '*.example.test' |
            Start-AcmeDnsChallenge -Provider RFC2136 -ProviderParameter $good -DnsServer $bind.Server -Verbose *>&1
        $order = @($streams | Where-Object { $_ -is [Acme.Protocol.Model.AcmeOrder] })
        $order.Count | Should -Be 1
        $cert = $order[0] | Complete-AcmeOrder -Verbose *>&1 | Tee-Object -Variable more | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] }

        ($cert.Names | Sort-Object) | Should -Be @('*.example.test', 'example.test')
        Test-CertificateChain -Certificate $cert.Certificate -Intermediate $cert.Chain -Root $root | Should -BeTrue
        $text = ($streams | Out-String) + ($more | Out-String)
        $text | Should -BeLike "*RFC2136: sending the UPDATE of zone example.test (add 2 TXT record(s) at _acme-challenge.example.test), signed with the TSIG key $($bind.KeyName) (hmac-sha256)*"
        $text | Should -BeLike '*NOERROR to the UPDATE of zone example.test (delete 2 TXT record(s)*'
        @(Get-TestDnsTxt $bind '_acme-challenge.example.test').Count | Should -Be 0
        $text.Contains($bind.KeySecret) | Should -BeFalse
        foreach ($file in Get-ChildItem -LiteralPath $env:ACME_STATE_PATH -Recurse -File -ErrorAction Ignore) {
            [System.IO.File]::ReadAllText($file.FullName).Contains($bind.KeySecret) | Should -BeFalse -Because $file.FullName
        }
    }

    It 'finds the zone by SOA lookup for a deep name, and takes the zone when given' {
        $label = New-TestLabel
        $values = [System.Collections.Generic.Dictionary[string, object]]::new()
        foreach ($k in $good.Keys) { $values[$k] = $good[$k] }
        $provider = [Acme.Protocol.Challenges.Dns01.Providers.Rfc2136Provider]::Info.Create(
            [Acme.Protocol.Challenges.Dns01.DnsProviderSettings]::new($values),
            [Acme.Protocol.Challenges.Dns01.DnsProviderOptions]::new())
        $provider.FindZoneAsync("_acme-challenge.a.$label.example.test", [Threading.CancellationToken]::None).GetAwaiter().GetResult() | Should -Be 'example.test'

        $name = "sub.$label.example.test"
        $cert = $account | New-AcmeOrder -DnsName $name |
            Start-AcmeDnsChallenge -Provider RFC2136 -ProviderParameter ($good + @{ Zone = 'example.test.'; Ttl = 30 }) -DnsServer $bind.Server |
            Complete-AcmeOrder
        $cert.Names | Should -Be @($name)
        @(Get-TestDnsTxt $bind "_acme-challenge.$name").Count | Should -Be 0
    }

    It 'refuses a wrong TSIG key with DnsProviderAuthenticationFailed naming server, zone and TSIG error (<Case>)' -TestCases @(
        @{ Case = 'wrong secret'; Change = @{ KeySecret = 'd3Jvbmctc2VjcmV0LW9mLTMyLWJ5dGVzLWxvbmctISE=' }; Expect = 'BADSIG' }
        @{ Case = 'unknown key name'; Change = @{ KeyName = 'no-such-key' }; Expect = 'BADKEY' }
    ) {
        param($Case, $Change, $Expect)
        $name = "$(New-TestLabel).example.test"
        $parameters = $good.Clone(); foreach ($k in $Change.Keys) { $parameters[$k] = $Change[$k] }
        $r = Invoke-FailingChallenge -DnsName $name -Parameters $parameters

        $r.Error.FullyQualifiedErrorId | Should -BeLike '*DnsProviderAuthenticationFailed,*'
        $r.Error.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $r.Error.Exception.Message | Should -BeLike "*$($bind.Server)*zone example.test*$Expect*"
        $r.Text.Contains($bind.KeySecret) | Should -BeFalse
        $r.Text.Contains($parameters.KeySecret) | Should -BeFalse
        @(Get-TestDnsTxt $bind "_acme-challenge.$name").Count | Should -Be 0
    }

    It 'refuses an update the key may not make with DnsProviderRefused (REFUSED)' {
        $name = "$(New-TestLabel).example.test"
        $r = Invoke-FailingChallenge -DnsName $name -Parameters @{ Server = $bind.Server; KeyName = $bind.ReadOnlyKeyName; KeySecret = $bind.ReadOnlyKeySecret }

        $r.Error.FullyQualifiedErrorId | Should -BeLike '*DnsProviderRefused,*'
        $r.Error.CategoryInfo.Category | Should -Be 'PermissionDenied'
        $r.Error.Exception.Message | Should -BeLike "*$($bind.Server)*zone example.test*REFUSED*"
        $r.Text.Contains($bind.ReadOnlyKeySecret) | Should -BeFalse
        @(Get-TestDnsTxt $bind "_acme-challenge.$name").Count | Should -Be 0
    }

    It 'removes the records of every zone again when one zone refuses the update' {
        $label = New-TestLabel
        $first = "$label.example.test"
        $r = Invoke-FailingChallenge -DnsName $first, "$label.$($bind.LockedZone)" -Parameters $good

        $r.Error.FullyQualifiedErrorId | Should -BeLike '*DnsProviderRefused,*'
        $r.Error.Exception.Message | Should -BeLike "*zone $($bind.LockedZone)*REFUSED*"
        $r.Text | Should -BeLike "*NOERROR to the UPDATE of zone example.test (delete 1 TXT record(s) at _acme-challenge.$first)*"
        @(Get-TestDnsTxt $bind "_acme-challenge.$first").Count | Should -Be 0
    }

    It 'sends one UPDATE per zone in order, stops adding at a refused zone, and removes the zone already updated' {
        $label = New-TestLabel
        $values = [System.Collections.Generic.Dictionary[string, object]]::new()
        foreach ($k in $good.Keys) { $values[$k] = $good[$k] }
        $provider = [Acme.Protocol.Challenges.Dns01.Providers.Rfc2136Provider]::Info.Create(
            [Acme.Protocol.Challenges.Dns01.DnsProviderSettings]::new($values), [Acme.Protocol.Challenges.Dns01.DnsProviderOptions]::new())
        $records = [System.Collections.Generic.List[Acme.Protocol.Challenges.Dns01.DnsTxtRecord]]::new()
        foreach ($n in "$label.example.test", "$label.$($bind.LockedZone)") {
            $records.Add([Acme.Protocol.Challenges.Dns01.DnsTxtRecord]::new("_acme-challenge.$n", "value-$n", [Acme.Protocol.Model.AcmeIdentifier]::new('dns', $n)))
        }
        $none = [Threading.CancellationToken]::None

        { $provider.AddAsync($records, $none).GetAwaiter().GetResult() } | Should -Throw "*zone $($bind.LockedZone)*REFUSED*"
        Get-TestDnsTxt $bind "_acme-challenge.$label.example.test" | Should -Be "value-$label.example.test"
        { $provider.RemoveAsync($records, $none).GetAwaiter().GetResult() } | Should -Throw "*zone $($bind.LockedZone)*REFUSED*"
        @(Get-TestDnsTxt $bind "_acme-challenge.$label.example.test").Count | Should -Be 0
        $provider.Dispose()
    }

    It 'reports a name in no zone of the server with DnsZoneNotFound' {
        $name = "$(New-TestLabel).nothere.test"
        $r = Invoke-FailingChallenge -DnsName $name -Parameters $good

        $r.Error.FullyQualifiedErrorId | Should -BeLike '*DnsZoneNotFound,*'
        $r.Error.Exception.Message | Should -BeLike "*$($bind.Server) serves no zone that holds _acme-challenge.$name*REFUSED*"
    }

    It 'reports a server that does not answer with DnsProviderUnreachable' {
        $port = Get-FreeUdpAndTcpPort
        $parameters = $good.Clone(); $parameters.Server = "127.0.0.1:$port"
        $r = Invoke-FailingChallenge -DnsName "$(New-TestLabel).example.test" -Parameters $parameters
        $r.Error.FullyQualifiedErrorId | Should -BeLike '*DnsProviderUnreachable,*'
        $r.Error.CategoryInfo.Category | Should -Be 'ConnectionError'
        $r.Error.Exception.Message | Should -BeLike "*127.0.0.1:$port*"
        $r.Text.Contains($bind.KeySecret) | Should -BeFalse
    }

    It 'refuses bad parameters before any DNS change: <Case>' -TestCases @(
        @{ Case = 'secret not base64'; Change = @{ KeySecret = 'not base64!' }; ErrorId = 'DnsProviderParameterInvalid' }
        @{ Case = 'key name without secret'; Change = @{ KeySecret = $null }; ErrorId = 'DnsProviderParameterMissing' }
        @{ Case = 'unknown algorithm'; Change = @{ KeyAlgorithm = 'hmac-foo' }; ErrorId = 'DnsProviderParameterInvalid' }
        @{ Case = 'bad server'; Change = @{ Server = 'a:b:c:' }; ErrorId = 'DnsProviderParameterInvalid' }
    ) {
        param($Case, $Change, $ErrorId)
        $parameters = $good.Clone(); foreach ($k in $Change.Keys) { if ($null -eq $Change[$k]) { $parameters.Remove($k) } else { $parameters[$k] = $Change[$k] } }
        $name = "$(New-TestLabel).example.test"
        $r = Invoke-FailingChallenge -DnsName $name -Parameters $parameters
        $r.Error.FullyQualifiedErrorId | Should -BeLike "*$ErrorId,*"
        $r.Text.Contains($bind.KeySecret) | Should -BeFalse
        @(Get-TestDnsTxt $bind "_acme-challenge.$name").Count | Should -Be 0
    }
}
