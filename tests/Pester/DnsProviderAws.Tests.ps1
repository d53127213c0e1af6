#Requires -Version 7.2
# The Route53 and AcmeDns providers, each against a local fake of its documented API (tests/Acme.TestKit:
# Route53Fake verifies the SigV4 signature itself, AcmeDnsFake checks X-Api-User/X-Api-Key), with a real
# Pebble validating through the DNS the fakes publish to (pebble-challtestsrv), as the clouds' name servers would.
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    Import-TestKit
    $script:pebble = Start-TestPebble -AuthzReusePercent 0
    $script:account = New-TestAccount $pebble -Contact 'dns-providers@acme.test'
    $script:dnsServer = "127.0.0.1:$($pebble.DnsPort)"
    $script:keyId = 'AKIDFAKE' + (Get-Random -Maximum 99999)
    $script:secret = 'r53-secret-' + [guid]::NewGuid().ToString('N')
    $script:token = 'r53-session-' + [guid]::NewGuid().ToString('N')
    $script:r53 = [Acme.TestKit.Route53Fake]::new((Get-FreeTcpPort), $keyId, $secret, $pebble.ChallSrvUrl)
    $script:acmeDns = [Acme.TestKit.AcmeDnsFake]::new((Get-FreeTcpPort), 'auth.acme-dns.test', $pebble.ChallSrvUrl)

    function New-TestName([string] $Prefix) { "$Prefix-$([guid]::NewGuid().ToString('N').Substring(0, 8)).test" }

    function Invoke-AllStreams([scriptblock] $Script) {
        <# Runs $Script with every stream merged; returns the records and the text of all of them and of the errors. #>
        $items = [System.Collections.Generic.List[object]]::new()
        try { & $Script *>&1 | ForEach-Object { $items.Add($_) } } catch { $items.Add($_) }
        $text = ($items | ForEach-Object {
                if ($_ -is [System.Management.Automation.ErrorRecord]) { $_.Exception.ToString(); $_.ErrorDetails.Message; $_.CategoryInfo.ToString() }
                elseif ($_ -is [System.Management.Automation.InformationRecord]) { "$($_.MessageData)" }
                else { "$_" }
            }) -join "`n"
        [pscustomobject]@{ Items = $items; Text = $text; Errors = @($items | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }) }
    }

    function Get-StateText {
        (Get-ChildItem -LiteralPath $env:ACME_STATE_PATH -Recurse -File -ErrorAction SilentlyContinue | ForEach-Object { Get-Content -Raw -LiteralPath $_.FullName }) -join "`n"
    }

    function New-R53Parameter([string] $Secret = $script:secret) {
        @{ AccessKeyId = $keyId; SecretAccessKey = (ConvertTo-SecureString $Secret -AsPlainText -Force); ApiUrl = $r53.Url }
    }
}

AfterAll {
    if ($r53) { $r53.Dispose() }
    if ($acmeDns) { $acmeDns.Dispose() }
    if ($pebble) { Stop-TestPebble $pebble }
}

Describe 'Route53 provider (Route53 Fake)' {
    It 'issues apex + wildcard through the longest hosted zone, keeps other TXT values, waits for INSYNC and removes its values after (Route53 Fake)' {
        $name = New-TestName 'r53'
        $null = $r53.AddZone('ZPARENT1', 'test')
        $zone = $r53.AddZone('ZCHILD' + (Get-Random -Maximum 99999), $name)
        $r53.SetTxt($zone, "_acme-challenge.$name", 120, 'kept-value')

        $run = Invoke-AllStreams {
            $account | New-AcmeOrder -DnsName $name, "*.$name" |
                Start-AcmeDnsChallenge -Provider Route53 -ProviderParameter (New-R53Parameter) -DnsServer $dnsServer -Verbose |
                Complete-AcmeOrder
        }

        $run.Errors | Should -BeNullOrEmpty
        $cert = $run.Items | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] }
        ($cert.Names | Sort-Object) | Should -Be (@($name, "*.$name") | Sort-Object)
        # During the challenge: the kept value and both challenge values in one record set.
        $r53.MostValues["_acme-challenge.$name"] | Should -Be 3
        # After: only the value that was there before.
        $r53.Txt("_acme-challenge.$name") | Should -Be @('kept-value')
        $requests = @($r53.Requests)
        @($requests | Where-Object { $_ -like "POST /2013-04-01/hostedzone/$zone/rrset*" }).Count | Should -Be 2
        @($requests | Where-Object { $_ -like 'POST /2013-04-01/hostedzone/ZPARENT1/*' }).Count | Should -Be 0
        @($requests | Where-Object { $_ -like '*->*' }).Count | Should -Be 0
        $run.Text | Should -BeLike '*PENDING*'
        $run.Text | Should -BeLike '*INSYNC*'
    }

    It 'takes the credentials and session token from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (Route53 Fake)' {
        $name = New-TestName 'r53env'
        $zone = $r53.AddZone('ZENV' + (Get-Random -Maximum 99999), $name)
        $r53.RequiredSessionToken = $token
        $saved = $env:AWS_ACCESS_KEY_ID, $env:AWS_SECRET_ACCESS_KEY, $env:AWS_SESSION_TOKEN
        try {
            $env:AWS_ACCESS_KEY_ID = $keyId; $env:AWS_SECRET_ACCESS_KEY = $secret; $env:AWS_SESSION_TOKEN = $token
            $cert = $account | New-AcmeOrder -DnsName $name |
                Start-AcmeDnsChallenge -Provider Route53 -ProviderParameter @{ ApiUrl = $r53.Url; HostedZoneId = "/hostedzone/$zone" } -DnsServer $dnsServer |
                Complete-AcmeOrder
        } finally {
            $env:AWS_ACCESS_KEY_ID, $env:AWS_SECRET_ACCESS_KEY, $env:AWS_SESSION_TOKEN = $saved
            $r53.RequiredSessionToken = $null
        }

        $cert.Names | Should -Be @($name)
        $r53.Txt("_acme-challenge.$name").Count | Should -Be 0
    }

    It 'refuses a wrong secret with AcmeDnsProviderAuthenticationFailed (SignatureDoesNotMatch), changes nothing, and shows no secret anywhere (Route53 Fake)' {
        $name = New-TestName 'r53bad'
        $null = $r53.AddZone('ZBAD' + (Get-Random -Maximum 99999), $name)
        $wrong = 'wrong-secret-' + [guid]::NewGuid().ToString('N')
        $before = $r53.ChangeBatches
        $run = Invoke-AllStreams {
            $account | New-AcmeOrder -DnsName $name |
                Start-AcmeDnsChallenge -Provider Route53 -ProviderParameter (New-R53Parameter -Secret $wrong) -DnsServer $dnsServer -Verbose -Debug -WarningAction Continue -ErrorAction Stop
        }

        $run.Errors.Count | Should -BeGreaterThan 0
        $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderAuthenticationFailed,*'
        $run.Errors[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
        $run.Errors[0].Exception.Message | Should -BeLike '*SignatureDoesNotMatch*'
        $r53.ChangeBatches | Should -Be $before
        @($r53.Requests | Where-Object { $_ -like '*-> SignatureDoesNotMatch' }).Count | Should -BeGreaterThan 0
        foreach ($s in $wrong, $secret, $token) {
            $run.Text | Should -Not -BeLike "*$s*"
            Get-StateText | Should -Not -BeLike "*$s*"
        }
    }

    It 'reports a name in no hosted zone with AcmeDnsProviderRefused, naming the record (Route53 Fake)' {
        $name = "r53none-$([guid]::NewGuid().ToString('N').Substring(0, 8)).nozone"
        $run = Invoke-AllStreams {
            $account | New-AcmeOrder -DnsName $name |
                Start-AcmeDnsChallenge -Provider Route53 -ProviderParameter (New-R53Parameter) -DnsServer $dnsServer -ErrorAction Stop
        }

        $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderRefused,*'
        $run.Errors[0].Exception.Message | Should -BeLike "*no hosted zone*_acme-challenge.$name*"
    }

    It 'reports a zone the credentials may not change (AccessDenied) with AcmeDnsProviderRefused and removes what it added for earlier names (Route53 Fake)' {
        $good = New-TestName 'r53ok'
        $denied = New-TestName 'r53deny'
        $goodZone = $r53.AddZone('ZOK' + (Get-Random -Maximum 99999), $good)
        $deniedZone = $r53.AddZone('ZDENY' + (Get-Random -Maximum 99999), $denied)
        $null = $r53.DeniedZones.Add($deniedZone)
        $run = Invoke-AllStreams {
            $account | New-AcmeOrder -DnsName $good, $denied |
                Start-AcmeDnsChallenge -Provider Route53 -ProviderParameter (New-R53Parameter) -DnsServer $dnsServer -ErrorAction Stop
        }

        $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderRefused,*'
        $run.Errors[0].Exception.Message | Should -BeLike '*AccessDenied*'
        # The other zone's batch was not sent (the denied one went first) or was sent and taken back.
        $posts = @($r53.Requests | Where-Object { $_ -like "POST /2013-04-01/hostedzone/$goodZone/rrset" }).Count
        @(0, 2) | Should -Contain $posts
        $r53.Txt("_acme-challenge.$good").Count | Should -Be 0
        $r53.Txt("_acme-challenge.$denied").Count | Should -Be 0
    }
}

Describe 'AcmeDns provider (acme-dns Fake)' {
    It 'issues apex + wildcard through an acme-dns account, the two values at its subdomain (acme-dns Fake)' {
        $name = New-TestName 'acmedns'
        $user = [guid]::NewGuid().ToString(); $password = 'adns-pw-' + [guid]::NewGuid().ToString('N'); $sub = [guid]::NewGuid().ToString()
        $full = $acmeDns.AddAccount($user, $password, $sub)
        Invoke-RestMethod -Method Post -Uri "$($pebble.ChallSrvUrl)/set-cname" -Body (@{ host = "_acme-challenge.$name."; target = "$full." } | ConvertTo-Json) | Out-Null

        $run = Invoke-AllStreams {
            $account | New-AcmeOrder -DnsName $name, "*.$name" |
                Start-AcmeDnsChallenge -Provider AcmeDns -DnsServer $dnsServer -DnsAlias @{ $name = $full } -Verbose -Debug -WarningAction Continue -ProviderParameter @{
                    ApiUrl = $acmeDns.Url; Username = $user; Password = (ConvertTo-SecureString $password -AsPlainText -Force); Subdomain = $sub
                } | Complete-AcmeOrder
        }

        $run.Errors | Should -BeNullOrEmpty
        ($run.Items | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] }).Names.Count | Should -Be 2
        $acmeDns.Txt($sub).Count | Should -Be 2
        @($acmeDns.Requests | Where-Object { $_ -like 'POST /update -> 200' }).Count | Should -Be 2
        $run.Text | Should -Not -BeLike "*$password*"
        Get-StateText | Should -Not -BeLike "*$password*"
    }

    It 'refuses a wrong password with AcmeDnsProviderAuthenticationFailed and shows no password (acme-dns Fake)' {
        $name = New-TestName 'acmednsbad'
        $user = [guid]::NewGuid().ToString(); $sub = [guid]::NewGuid().ToString()
        $full = $acmeDns.AddAccount($user, 'the-right-one', $sub)
        $wrong = 'adns-wrong-' + [guid]::NewGuid().ToString('N')
        $run = Invoke-AllStreams {
            $account | New-AcmeOrder -DnsName $name |
                Start-AcmeDnsChallenge -Provider AcmeDns -DnsServer $dnsServer -DnsAlias @{ $name = $full } -Verbose -Debug -WarningAction Continue -ErrorAction Stop -ProviderParameter @{
                    ApiUrl = $acmeDns.Url; Username = $user; Password = $wrong; Subdomain = $sub
                }
        }

        $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderAuthenticationFailed,*'
        $run.Errors[0].Exception.Message | Should -BeLike '*401*forbidden*'
        $run.Text | Should -Not -BeLike "*$wrong*"
        $acmeDns.Txt($sub).Count | Should -Be 0
    }

    It 'registers into RegistrationPath (owner-only), names the CNAME to create without the password, then reuses the account (acme-dns Fake)' {
        $name = New-TestName 'acmednsreg'
        $path = Join-Path $TestDrive 'acme-dns.json'
        $first = Invoke-AllStreams {
            $account | New-AcmeOrder -DnsName $name |
                Start-AcmeDnsChallenge -Provider AcmeDns -DnsServer $dnsServer -Verbose -Debug -WarningAction Continue -ErrorAction Stop -ProviderParameter @{ ApiUrl = $acmeDns.Url; RegistrationPath = $path }
        }

        $first.Errors[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderSetupRequired,*'
        $saved = Get-Content -Raw $path | ConvertFrom-Json
        $saved.password | Should -Not -BeNullOrEmpty
        $first.Errors[0].Exception.Message | Should -BeLike "*_acme-challenge.$name. CNAME $($saved.fulldomain).*"
        $first.Text | Should -Not -BeLike "*$($saved.password)*"
        if (-not $IsWindows) { [int](Get-Item $path).UnixFileMode | Should -Be ([Convert]::ToInt32('600', 8)) }

        Invoke-RestMethod -Method Post -Uri "$($pebble.ChallSrvUrl)/set-cname" -Body (@{ host = "_acme-challenge.$name."; target = "$($saved.fulldomain)." } | ConvertTo-Json) | Out-Null
        $cert = $account | New-AcmeOrder -DnsName $name |
            Start-AcmeDnsChallenge -Provider AcmeDns -DnsServer $dnsServer -DnsAlias @{ $name = $saved.fulldomain } -ProviderParameter @{ ApiUrl = $acmeDns.Url; RegistrationPath = $path } |
            Complete-AcmeOrder
        $cert.Names | Should -Be @($name)
        $acmeDns.Txt($saved.subdomain).Count | Should -Be 1
    }
}
