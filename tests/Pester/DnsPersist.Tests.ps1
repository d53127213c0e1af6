#Requires -Version 7.2
# dns-account-01 and dns-persist-01 against Pebble 2.10.1 and its pebble-challtestsrv (Pebble 2.4.0 offers
# neither). Skipped, with a warning that says so, when no Pebble 2.10.1 is found.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:noCurrent = -not (Find-CurrentPebble)
    if ($noCurrent) {
        Write-Warning 'DnsPersist.Tests: no Pebble 2.10.1 (ACME_TEST_PEBBLE or ../shared/servers/pebble-2.10.1): dns-account-01 and dns-persist-01 are NOT tested.'
    }
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    function New-TestName([string] $Prefix) { "$Prefix-$([guid]::NewGuid().ToString('N').Substring(0, 8)).test" }

    function New-ChallTestSrvBlock {
        <# -AddRecord and -RemoveRecord blocks that call challtestsrv's management API and log each call. #>
        param([System.Collections.IList] $Log)
        $url = $pebble.ChallSrvUrl
        $add = {
            param($RecordName, $Value, $Identifier)
            Invoke-RestMethod -Method Post -Uri "$url/set-txt" -Body (@{ host = "$RecordName."; value = $Value } | ConvertTo-Json) | Out-Null
            $null = $Log.Add("add $RecordName $Value")
        }.GetNewClosure()
        $remove = {
            param($RecordName, $Value, $Identifier)
            Invoke-RestMethod -Method Post -Uri "$url/clear-txt" -Body (@{ host = "$RecordName." } | ConvertTo-Json) | Out-Null
            $null = $Log.Add("remove $RecordName $Value")
        }.GetNewClosure()
        [pscustomobject]@{ Add = $add; Remove = $remove }
    }

    function Set-TestTxt([string] $Name, [string] $Value) {
        Invoke-RestMethod -Method Post -Uri "$($pebble.ChallSrvUrl)/set-txt" -Body (@{ host = "$Name."; value = $Value } | ConvertTo-Json) | Out-Null
    }

    function Get-AccountLabel([string] $Url) {
        # draft-ietf-acme-dns-account-label as Pebble 2.10.1 computes it, independently of the module:
        # base32 of the first 10 bytes of SHA-256(account URL), lower case.
        $hash = [System.Security.Cryptography.SHA256]::HashData([System.Text.Encoding]::UTF8.GetBytes($Url))
        $alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
        $bits = ($hash[0..9] | ForEach-Object { [Convert]::ToString($_, 2).PadLeft(8, '0') }) -join ''
        -join (0..15 | ForEach-Object { $alphabet[[Convert]::ToInt32($bits.Substring($_ * 5, 5), 2)] })
    }

    if (-not (Find-CurrentPebble)) { return }
    $script:pebble = Start-TestPebble -Current -AuthzReusePercent 0
    $script:account = New-TestAccount $pebble -Contact 'persist@acme.test'
    $script:dnsServer = "127.0.0.1:$($pebble.DnsPort)"
    $script:issuer = (Invoke-RestMethod -Uri $pebble.Directory -SkipCertificateCheck).meta.caaIdentities[0]
}

AfterAll {
    if (Get-Variable -Name pebble -Scope Script -ErrorAction SilentlyContinue) { Stop-TestPebble $pebble }
}

Describe 'dns-account-01 on Pebble 2.10.1' -Skip:$noCurrent {
    It "issues through script blocks at _(account label)._acme-challenge.(name) and withdraws the record" {
        $name = New-TestName 'acct'
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $blocks = New-ChallTestSrvBlock -Log $log
        $cert = $account | New-AcmeOrder -DnsName $name |
            Start-AcmeDnsChallenge -ChallengeType dns-account-01 -AddRecord $blocks.Add -RemoveRecord $blocks.Remove -DnsServer $dnsServer |
            Complete-AcmeOrder
        $cert.Names | Should -Contain $name
        $label = Get-AccountLabel $account.Location.AbsoluteUri
        $label.Length | Should -Be 16
        @($log | Where-Object { $_ -like "add _$label._acme-challenge.$name *" }).Count | Should -Be 1
        @($log | Where-Object { $_ -like "remove _$label._acme-challenge.$name *" }).Count | Should -Be 1
    }
}

Describe 'dns-persist-01 on Pebble 2.10.1' -Skip:$noCurrent {
    It 'publishes the record once, keeps it, and a second order makes no DNS change' {
        $name = New-TestName 'persist'
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $blocks = New-ChallTestSrvBlock -Log $log
        $cert = $account | New-AcmeOrder -DnsName $name |
            Start-AcmeDnsChallenge -ChallengeType dns-persist-01 -AddRecord $blocks.Add -RemoveRecord $blocks.Remove -DnsServer $dnsServer |
            Complete-AcmeOrder
        $cert.Names | Should -Contain $name
        $expected = "add _validation-persist.$name $issuer; accounturi=$($account.Location.AbsoluteUri)"
        @($log) | Should -Be @($expected)

        $log.Clear()
        $again = $account | New-AcmeOrder -DnsName $name |
            Start-AcmeDnsChallenge -ChallengeType dns-persist-01 -AddRecord $blocks.Add -RemoveRecord $blocks.Remove -DnsServer $dnsServer |
            Complete-AcmeOrder
        $again.SerialNumber | Should -Not -Be $cert.SerialNumber
        $log.Count | Should -Be 0
    }

    It 'issues a wildcard with policy=wildcard' {
        $name = New-TestName 'pwild'
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $blocks = New-ChallTestSrvBlock -Log $log
        $cert = $account | New-AcmeOrder -DnsName "*.$name" |
            Start-AcmeDnsChallenge -ChallengeType dns-persist-01 -AddRecord $blocks.Add -RemoveRecord $blocks.Remove -DnsServer $dnsServer |
            Complete-AcmeOrder
        $cert.Names | Should -Contain "*.$name"
        @($log) | Should -Be @("add _validation-persist.$name $issuer; accounturi=$($account.Location.AbsoluteUri); policy=wildcard")
    }

    It 'publishes its own record beside one whose <Case> makes it invalid' -ForEach @(
        @{ Case = 'other account'; Stale = { "$issuer; accounturi=https://127.0.0.1/my-account/someone-else" } }
        @{ Case = 'persistUntil passed'; Stale = { "$issuer; accounturi=$($account.Location.AbsoluteUri); persistUntil=$([DateTimeOffset]::UtcNow.AddDays(-1).ToUnixTimeSeconds())" } }
    ) {
        $name = New-TestName 'pstale'
        Set-TestTxt "_validation-persist.$name" (& $Stale)
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $blocks = New-ChallTestSrvBlock -Log $log
        $verbose = $account | New-AcmeOrder -DnsName $name |
            Start-AcmeDnsChallenge -ChallengeType dns-persist-01 -AddRecord $blocks.Add -RemoveRecord $blocks.Remove -DnsServer $dnsServer -Verbose 4>&1 |
            Tee-Object -Variable all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $order = $all | Where-Object { $_ -is [Acme.Protocol.Model.AcmeOrder] }
        $order.Status | Should -Be 'Ready'
        @($log).Count | Should -Be 1
        ($verbose.Message -join "`n") | Should -Match ($Case -eq 'other account' ? 'names the account https://127.0.0.1/my-account/someone-else' : 'persistUntil')
    }
}

Describe 'Get-AcmeDnsPersistRecord on Pebble 2.10.1' -Skip:$noCurrent {
    It 'returns the record to create ahead of time; with it in place an order makes no DNS change' {
        $name = New-TestName 'ahead'
        $until = [DateTimeOffset]::UtcNow.AddDays(30)
        $records = @($account | Get-AcmeDnsPersistRecord -DnsName $name, "*.$name" -PersistUntil $until)
        $records.Count | Should -Be 2
        $records[0].Name | Should -Be "_validation-persist.$name"
        $records[0].Value | Should -Be "$issuer; accounturi=$($account.Location.AbsoluteUri); persistUntil=$($until.ToUnixTimeSeconds())"
        $records[1].Value | Should -Be "$issuer; accounturi=$($account.Location.AbsoluteUri); policy=wildcard; persistUntil=$($until.ToUnixTimeSeconds())"

        # One record with policy=wildcard covers the name and its wildcard.
        Set-TestTxt $records[1].Name $records[1].Value
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $blocks = New-ChallTestSrvBlock -Log $log
        $cert = $account | New-AcmeOrder -DnsName $name, "*.$name" |
            Start-AcmeDnsChallenge -ChallengeType dns-persist-01 -AddRecord $blocks.Add -RemoveRecord $blocks.Remove -DnsServer $dnsServer |
            Complete-AcmeOrder
        ($cert.Names | Sort-Object) | Should -Be (@($name, "*.$name") | Sort-Object)
        $log.Count | Should -Be 0
    }

    It 'takes -IssuerDomainName in place of the directory CAA identity, normalized' {
        { $account | Get-AcmeDnsPersistRecord -DnsName 'x.test' -IssuerDomainName 'ca.example' } | Should -Not -Throw
        ($account | Get-AcmeDnsPersistRecord -DnsName 'x.test' -IssuerDomainName 'CA.Example.').Value | Should -BeLike 'ca.example; accounturi=*'
    }
}

Describe 'The dns-persist-01 watch in Test-AcmeRenewal on Pebble 2.10.1' -Skip:$noCurrent {
    BeforeAll {
        function New-PersistCertificate([string] $Name, [System.Collections.IList] $Log) {
            $blocks = New-ChallTestSrvBlock -Log $Log
            $account | New-AcmeOrder -DnsName $Name |
                Start-AcmeDnsChallenge -ChallengeType dns-persist-01 -AddRecord $blocks.Add -RemoveRecord $blocks.Remove -DnsServer $dnsServer |
                Complete-AcmeOrder
        }
        function Test-Watch($Certificate) {
            $warnings = @()
            $check = $Certificate | Test-AcmeRenewal -DnsServer $dnsServer -WarningVariable warnings -WarningAction SilentlyContinue
            [pscustomobject]@{ Check = $check; Warnings = @($warnings | ForEach-Object { "$_" }) }
        }
        function Clear-TestTxt([string] $Name) {
            Invoke-RestMethod -Method Post -Uri "$($pebble.ChallSrvUrl)/clear-txt" -Body (@{ host = "$Name." } | ConvertTo-Json) | Out-Null
        }
        $script:accountUrl = $account.Location.AbsoluteUri
    }

    It 'saves which names were validated with dns-persist-01 with the certificate, read back from the state' {
        $name = New-TestName 'wsaved'
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $null = New-PersistCertificate -Name $name -Log $log
        $saved = Get-AcmeCertificate -Name $name
        @($saved.PersistentRecords).Count | Should -Be 1
        $saved.PersistentRecords[0].Name | Should -Be "_validation-persist.$name"
        $saved.PersistentRecords[0].AccountUri.AbsoluteUri | Should -Be $accountUrl
        $saved.PersistentRecords[0].IssuerDomainNames | Should -Contain $issuer
        $saved.PersistentRecords[0].Wildcard | Should -BeFalse
        $saved.PersistentRecords[0].Value | Should -Be "$issuer; accounturi=$accountUrl"
    }

    It 'warns with the record to set when persistUntil falls before the next renewal' {
        $name = New-TestName 'wuntil'
        # Valid now (the CA accepts it), gone long before a five-year certificate's renewal.
        $until = [DateTimeOffset]::UtcNow.AddDays(2)
        $ahead = $account | Get-AcmeDnsPersistRecord -DnsName $name -PersistUntil $until
        Set-TestTxt $ahead.Name $ahead.Value
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $cert = New-PersistCertificate -Name $name -Log $log
        $log.Count | Should -Be 0
        $result = Test-Watch (Get-AcmeCertificate -Name $name)
        $result.Check.Due | Should -BeFalse
        @($result.Check.PersistentRecordProblems).Count | Should -Be 1
        $problem = $result.Check.PersistentRecordProblems[0]
        $problem.Name | Should -Be "_validation-persist.$name"
        $problem.Value | Should -Be "$issuer; accounturi=$accountUrl"
        $problem.Problem | Should -Match 'persistUntil'
        $problem.NextRenewal | Should -BeGreaterThan $until
        $result.Warnings.Count | Should -Be 1
        $result.Warnings[0] | Should -BeLike "*persistUntil*Set the TXT record _validation-persist.$name to ""$issuer; accounturi=$accountUrl""*"
        ($result.Check | Format-List | Out-String) | Should -Match 'PersistentRecordProblems'
    }

    It 'warns "missing" when the record is gone' {
        $name = New-TestName 'wgone'
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $cert = New-PersistCertificate -Name $name -Log $log
        Clear-TestTxt "_validation-persist.$name"
        $result = Test-Watch $cert
        @($result.Check.PersistentRecordProblems).Count | Should -Be 1
        $result.Check.PersistentRecordProblems[0].Problem | Should -Match 'missing'
        $result.Warnings[0] | Should -BeLike "*missing*_validation-persist.$name*$issuer; accounturi=$accountUrl*"
    }

    It 'warns when the record names another account' {
        $name = New-TestName 'wother'
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $cert = New-PersistCertificate -Name $name -Log $log
        # challtestsrv adds values: the valid one goes first (any valid value would do).
        Clear-TestTxt "_validation-persist.$name"
        Set-TestTxt "_validation-persist.$name" "$issuer; accounturi=https://127.0.0.1/my-account/someone-else"
        $result = Test-Watch $cert
        @($result.Check.PersistentRecordProblems).Count | Should -Be 1
        $result.Warnings[0] | Should -Match 'names the account https://127\.0\.0\.1/my-account/someone-else'
        $result.Check.PersistentRecordProblems[0].Value | Should -Be "$issuer; accounturi=$accountUrl"
    }

    It 'warns when a wildcard record lost policy=wildcard' {
        $name = New-TestName 'wwild'
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $cert = New-PersistCertificate -Name "*.$name" -Log $log
        $cert.PersistentRecords[0].Wildcard | Should -BeTrue
        Clear-TestTxt "_validation-persist.$name"
        Set-TestTxt "_validation-persist.$name" "$issuer; accounturi=$accountUrl"
        $result = Test-Watch $cert
        $result.Check.PersistentRecordProblems[0].Problem | Should -Match 'policy=wildcard'
        $result.Check.PersistentRecordProblems[0].Value | Should -Be "$issuer; accounturi=$accountUrl; policy=wildcard"
    }

    It 'says nothing for a valid record, and the renewal through it makes no DNS change' {
        $name = New-TestName 'wvalid'
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $cert = New-PersistCertificate -Name $name -Log $log
        $log.Count | Should -Be 1
        $result = Test-Watch (Get-AcmeCertificate -Name $name)
        $result.Warnings | Should -BeNullOrEmpty
        @($result.Check.PersistentRecordProblems).Count | Should -Be 0

        $log.Clear()
        $blocks = New-ChallTestSrvBlock -Log $log
        $renewed = Get-AcmeCertificate -Name $name | New-AcmeOrder |
            Start-AcmeDnsChallenge -ChallengeType dns-persist-01 -AddRecord $blocks.Add -RemoveRecord $blocks.Remove -DnsServer $dnsServer |
            Complete-AcmeOrder
        $renewed.SerialNumber | Should -Not -Be $cert.SerialNumber
        $log.Count | Should -Be 0
        (Get-AcmeCertificate -Name $name).PersistentRecords[0].Name | Should -Be "_validation-persist.$name"
        (Test-Watch (Get-AcmeCertificate -Name $name)).Warnings | Should -BeNullOrEmpty
    }

    It 'refuses a bad -DnsServer with AcmeInvalidDnsServer before it reads anything' {
        $name = New-TestName 'wbad'
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $cert = New-PersistCertificate -Name $name -Log $log
        $e = { $cert | Test-AcmeRenewal -DnsServer 'not a host:99999' -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeInvalidDnsServer,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'makes no DNS lookup and no warning for a certificate from http-01' {
        $name = New-TestName 'whttp'
        $cert = $account | New-AcmeOrder -DnsName $name | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder
        @($cert.PersistentRecords).Count | Should -Be 0
        # A DNS server of our own: any lookup would reach it.
        $udp = [System.Net.Sockets.UdpClient]::new([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
        try {
            $port = $udp.Client.LocalEndPoint.Port
            $warnings = @()
            $check = Get-AcmeCertificate -Name $name | Test-AcmeRenewal -DnsServer "127.0.0.1:$port" -WarningVariable warnings -WarningAction SilentlyContinue
            $check.Due | Should -BeFalse
            @($check.PersistentRecordProblems).Count | Should -Be 0
            $warnings | Should -BeNullOrEmpty
            Start-Sleep -Milliseconds 200
            $udp.Available | Should -Be 0
        } finally { $udp.Dispose() }
    }
}

Describe 'The dns-persist-01 watch in the DSC resource on Pebble 2.10.1' -Skip:$noCurrent {
    BeforeAll {
        # `using module` takes a literal path, so the statement is compiled here for the module under test.
        $script:resourceType = & ([scriptblock]::Create("using module '$env:ACME_TEST_MODULE'`n[AcmeCertificate]"))
    }

    It 'Get and Test warn with the record to set when the record is gone; the certificate stays not due' {
        $name = New-TestName 'wdsc'
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $blocks = New-ChallTestSrvBlock -Log $log
        $null = $account | New-AcmeOrder -DnsName $name |
            Start-AcmeDnsChallenge -ChallengeType dns-persist-01 -AddRecord $blocks.Add -RemoveRecord $blocks.Remove -DnsServer $dnsServer |
            Complete-AcmeOrder
        $resource = $resourceType::new()
        $resource.Name = $name
        $resource.DnsName = $name
        $resource.Server = $pebble.Directory
        $resource.TrustedRootCertificate = $pebble.ApiRootPath
        $resource.DnsServer = $dnsServer

        $quiet = & { $resource.Test() } 3>&1
        @($quiet | Where-Object { $_ -is [System.Management.Automation.WarningRecord] }).Count | Should -Be 0
        @($quiet | Where-Object { $_ -is [bool] }) | Should -Be @($true)

        Invoke-RestMethod -Method Post -Uri "$($pebble.ChallSrvUrl)/clear-txt" -Body (@{ host = "_validation-persist.$name." } | ConvertTo-Json) | Out-Null
        $tested = & { $resource.Test() } 3>&1
        @($tested | Where-Object { $_ -is [bool] }) | Should -Be @($true)
        $warning = @($tested | Where-Object { $_ -is [System.Management.Automation.WarningRecord] })
        $warning.Count | Should -Be 1
        $warning[0].Message | Should -BeLike "*missing*Set the TXT record _validation-persist.$name to ""$issuer; accounturi=$($account.Location.AbsoluteUri)""*"

        $got = & { $resource.Get() } 3>&1
        @($got | Where-Object { $_ -is [System.Management.Automation.WarningRecord] }).Message | Should -BeLike '*missing*'
        ($got | Where-Object { $_ -isnot [System.Management.Automation.WarningRecord] }).RenewalDue | Should -BeFalse
    }
}

Describe 'The dns-persist-01 watch with the state in PostgreSQL on Pebble 2.10.1' -Skip:$noCurrent {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'PostgresServer.psm1') -Force
        $script:pg = Start-TestPostgres
        $null = Initialize-AcmeStateStore -StatePath $pg.Url
        $script:pgSecure = ConvertTo-SecureString ('pg-' + [guid]::NewGuid().ToString('N')) -AsPlainText -Force
    }
    AfterAll {
        if ($script:pg) { Stop-TestPostgres $pg }
    }

    It 'saves the records in the database and Test-AcmeRenewal reads them back and warns' {
        $name = New-TestName 'wpg'
        $pgAccount = New-AcmeAccount -Server $pebble.Directory -TrustedRootCertificate $pebble.ApiRootPath -AcceptTermsOfService `
            -StatePath $pg.Url -KeyPassphrase $pgSecure -Name persist
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $blocks = New-ChallTestSrvBlock -Log $log
        $null = $pgAccount | New-AcmeOrder -DnsName $name |
            Start-AcmeDnsChallenge -ChallengeType dns-persist-01 -AddRecord $blocks.Add -RemoveRecord $blocks.Remove -DnsServer $dnsServer |
            Complete-AcmeOrder
        $saved = Get-AcmeCertificate -Name $name -StatePath $pg.Url -KeyPassphrase $pgSecure
        $saved.StatePath | Should -BeLike 'postgres://*'
        $saved.PersistentRecords[0].Name | Should -Be "_validation-persist.$name"
        $saved.PersistentRecords[0].AccountUri | Should -Be $pgAccount.Location

        ($saved | Test-AcmeRenewal -DnsServer $dnsServer -WarningVariable quiet -WarningAction SilentlyContinue).PersistentRecordProblems.Count | Should -Be 0
        $quiet | Should -BeNullOrEmpty
        Invoke-RestMethod -Method Post -Uri "$($pebble.ChallSrvUrl)/clear-txt" -Body (@{ host = "_validation-persist.$name." } | ConvertTo-Json) | Out-Null
        $check = $saved | Test-AcmeRenewal -DnsServer $dnsServer -WarningVariable warned -WarningAction SilentlyContinue
        $check.PersistentRecordProblems[0].Problem | Should -Match 'missing'
        "$($warned[0])" | Should -BeLike "*_validation-persist.$name*accounturi=$($pgAccount.Location.AbsoluteUri)*"
    }
}
