#Requires -Version 7.2
# dns-01, tls-alpn-01, wildcards, mixed orders and the building blocks, against a real Pebble and
# pebble-challtestsrv (its DNS server is what Pebble validates with and what the propagation check asks).
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    # Every authorization is reused when it can be: the mixed-order test relies on it, and unique
    # names keep the other tests from meeting a reused one.
    $script:pebble = Start-TestPebble -AuthzReusePercent 100
    $script:root = Get-PebbleRootCertificate $pebble
    $script:account = New-TestAccount $pebble -Contact 'challenges@acme.test'
    $script:dnsServer = "127.0.0.1:$($pebble.DnsPort)"

    function New-TestName([string] $Prefix) { "$Prefix-$([guid]::NewGuid().ToString('N').Substring(0, 8)).test" }

    function New-ChallTestSrvBlock {
        <# -AddRecord and -RemoveRecord blocks that call challtestsrv's management API and log each call. #>
        param([System.Collections.IList] $Log, [string] $PublishValue, [int] $DelaySec = 0)
        $url = $pebble.ChallSrvUrl
        $add = {
            param($RecordName, $Value, $Identifier)
            $text = if ($PublishValue) { $PublishValue } else { $Value }
            $body = @{ host = "$RecordName."; value = $text } | ConvertTo-Json
            if ($DelaySec -gt 0) {
                # Published late, the way a slow DNS API or a secondary server behaves.
                $null = Start-ThreadJob -ArgumentList $url, $body, $DelaySec -ScriptBlock {
                    param($u, $b, $d)
                    Start-Sleep -Seconds $d
                    Invoke-RestMethod -Method Post -Uri "$u/set-txt" -Body $b
                }
            } else {
                Invoke-RestMethod -Method Post -Uri "$url/set-txt" -Body $body | Out-Null
            }
            $null = $Log.Add("add $RecordName $Value $Identifier")
        }.GetNewClosure()
        $remove = {
            param($RecordName, $Value, $Identifier)
            Invoke-RestMethod -Method Post -Uri "$url/clear-txt" -Body (@{ host = "$RecordName." } | ConvertTo-Json) | Out-Null
            $null = $Log.Add("remove $RecordName $Value $Identifier")
        }.GetNewClosure()
        [pscustomobject]@{ Add = $add; Remove = $remove }
    }

    function Get-TestTxt {
        <#
            Asks challtestsrv's DNS for a name's TXT records with a hand-built query (independent of the
            module's own DNS code). Returns the answer count and the answer as text to search values in.
        #>
        param([Parameter(Mandatory)][string] $Name)
        $query = [System.Collections.Generic.List[byte]]::new()
        $id = Get-Random -Maximum 65535
        $query.AddRange([byte[]]@(($id -shr 8), ($id -band 0xFF), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0))
        foreach ($label in $Name.TrimEnd('.').Split('.')) {
            $query.Add([byte]$label.Length)
            $query.AddRange([System.Text.Encoding]::ASCII.GetBytes($label))
        }
        $query.AddRange([byte[]]@(0, 0, 16, 0, 1))
        $udp = [System.Net.Sockets.UdpClient]::new()
        try {
            $udp.Client.ReceiveTimeout = 3000
            $udp.Connect('127.0.0.1', $pebble.DnsPort)
            $null = $udp.Send($query.ToArray(), $query.Count)
            $from = $null
            $answer = $udp.Receive([ref]$from)
        } finally {
            $udp.Dispose()
        }
        [pscustomobject]@{ Count = $answer[6] * 256 + $answer[7]; Text = [System.Text.Encoding]::Latin1.GetString($answer) }
    }

    function Get-ValidChallengeType {
        <# Identifier -> the challenge type that validated it, read back from the CA. #>
        param([Parameter(Mandatory)] $Order)
        $map = @{}
        foreach ($a in ($Order | Get-AcmeAuthorization)) {
            $map[$a.Identifier.Value] = @($a.Challenges | Where-Object Status -EQ 'Valid' | ForEach-Object Type) -join ','
        }
        $map
    }

    function Wait-Until([scriptblock] $Condition, [int] $TimeoutSec = 30) {
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out waiting for: $Condition" }
            Start-Sleep -Milliseconds 100
        }
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'Start-AcmeDnsChallenge against Pebble and challtestsrv' {
    It 'issues a wildcard plus apex certificate through dns-01 and removes both records' {
        $name = New-TestName 'wild'
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $blocks = New-ChallTestSrvBlock -Log $log
        $cert = $account | New-AcmeOrder -DnsName $name, "*.$name" |
            Start-AcmeDnsChallenge -AddRecord $blocks.Add -RemoveRecord $blocks.Remove -DnsServer $dnsServer |
            Complete-AcmeOrder

        ($cert.Names | Sort-Object) | Should -Be (@($name, "*.$name") | Sort-Object)
        Test-CertificateChain -Certificate $cert.Certificate -Intermediate $cert.Chain -Root $root | Should -BeTrue
        # Apex and wildcard share one TXT name with two values (RFC 8555 section 8.4).
        $adds = @($log | Where-Object { $_ -like 'add *' })
        $adds.Count | Should -Be 2
        @($adds | ForEach-Object { ($_ -split ' ')[1] } | Sort-Object -Unique) | Should -Be "_acme-challenge.$name"
        @($adds | ForEach-Object { ($_ -split ' ')[2] } | Sort-Object -Unique).Count | Should -Be 2
        @($log | Where-Object { $_ -like 'remove *' }).Count | Should -Be 2
        (Get-TestTxt "_acme-challenge.$name").Count | Should -Be 0
    }

    It 'waits for a record the script block publishes late, instead of asking the CA too early' {
        $name = New-TestName 'late'
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $blocks = New-ChallTestSrvBlock -Log $log -DelaySec 2
        $verbose = $null
        # Pebble validates at once (PEBBLE_VA_NOSLEEP): had the CA been asked before the record was
        # published, the authorization would be invalid and no certificate would come out.
        $cert = $account | New-AcmeOrder -DnsName $name |
            Start-AcmeDnsChallenge -AddRecord $blocks.Add -RemoveRecord $blocks.Remove -DnsServer $dnsServer -Verbose 4>&1 |
            Tee-Object -Variable verbose | Where-Object { $_ -is [Acme.Protocol.Model.AcmeOrder] } | Complete-AcmeOrder

        $cert.Names | Should -Be @($name)
        $verbose | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like "*_acme-challenge.$name is not yet visible*" } |
            Should -Not -BeNullOrEmpty
        Get-Job | Where-Object PSJobTypeName -EQ 'ThreadJob' | Wait-Job -Timeout 10 | Remove-Job
        (Get-TestTxt "_acme-challenge.$name").Count | Should -Be 0
    }

    It 'gives up with AcmeDnsPropagationTimeout naming the record that never appeared, without asking the CA, and removes it' {
        $name = New-TestName 'never'
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $blocks = New-ChallTestSrvBlock -Log $log -PublishValue 'not-the-expected-value'
        $order = $account | New-AcmeOrder -DnsName $name
        $expected = ($order.Authorizations[0].Challenges | Where-Object Type -EQ 'dns-01').DnsRecordValue
        $err = $null
        $order | Start-AcmeDnsChallenge -AddRecord $blocks.Add -RemoveRecord $blocks.Remove -DnsServer $dnsServer -PropagationTimeoutSec 2 `
            -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsPropagationTimeout,*'
        $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        $err[0].Exception.Message | Should -BeLike "*_acme-challenge.$name*$expected*127.0.0.1:$($pebble.DnsPort)*"
        @($log | Where-Object { $_ -like 'remove *' }).Count | Should -Be 1
        (Get-TestTxt "_acme-challenge.$name").Count | Should -Be 0
        # The CA was never told the challenge was ready.
        ($order | Get-AcmeChallenge -Type dns-01).Status | Should -Be 'Pending'
    }

    It 'publishes at the -DnsAlias name that _acme-challenge is a CNAME of' {
        $name = New-TestName 'alias'
        $alias = "$($name.Replace('.', '-')).delegated.test"
        Invoke-RestMethod -Method Post -Uri "$($pebble.ChallSrvUrl)/set-cname" -Body (@{ host = "_acme-challenge.$name."; target = "$alias." } | ConvertTo-Json) | Out-Null
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $blocks = New-ChallTestSrvBlock -Log $log
        $cert = $account | New-AcmeOrder -DnsName $name |
            Start-AcmeDnsChallenge -AddRecord $blocks.Add -RemoveRecord $blocks.Remove -DnsServer $dnsServer -DnsAlias @{ $name = $alias } |
            Complete-AcmeOrder

        $cert.Names | Should -Be @($name)
        $log[0] | Should -BeLike "add $alias *"
        (Get-TestTxt $alias).Count | Should -Be 0
    }

    It 'removes the records when the CA finds no answer (an alias without its CNAME)' {
        $name = New-TestName 'nocname'
        $alias = "$($name.Replace('.', '-')).delegated.test"
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $blocks = New-ChallTestSrvBlock -Log $log
        $err = $null
        $account | New-AcmeOrder -DnsName $name |
            Start-AcmeDnsChallenge -AddRecord $blocks.Add -RemoveRecord $blocks.Remove -DnsServer $dnsServer -DnsAlias @{ $name = $alias } `
                -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeAuthorizationFailed,*'
        $err[0].ErrorDetails.Message | Should -BeLike "*$name*"
        @($log | Where-Object { $_ -like "remove $alias *" }).Count | Should -Be 1
        (Get-TestTxt $alias).Count | Should -Be 0
    }

    It 'withdraws what -AddRecord made when -AddRecord itself fails, and reports AcmeDnsRecordAddFailed' {
        $name = New-TestName 'addfail'
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $blocks = New-ChallTestSrvBlock -Log $log
        $url = $pebble.ChallSrvUrl
        $failingAdd = {
            param($RecordName, $Value)
            Invoke-RestMethod -Method Post -Uri "$url/set-txt" -Body (@{ host = "$RecordName."; value = $Value } | ConvertTo-Json) | Out-Null
            # A non-terminating error: the cmdlet runs the block with $ErrorActionPreference = 'Stop'.
            Write-Error 'The DNS API said no.'
            $null = $log.Add('not reached')
        }.GetNewClosure()
        $err = $null
        $account | New-AcmeOrder -DnsName $name |
            Start-AcmeDnsChallenge -AddRecord $failingAdd -RemoveRecord $blocks.Remove -DnsServer $dnsServer -ErrorVariable err -ErrorAction SilentlyContinue |
            Should -BeNullOrEmpty

        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsRecordAddFailed,*'
        $err[0].Exception.Message | Should -BeLike '*The DNS API said no.*'
        $log | Should -Not -Contain 'not reached'
        @($log | Where-Object { $_ -like 'remove *' }).Count | Should -Be 1
        (Get-TestTxt "_acme-challenge.$name").Count | Should -Be 0
    }

    Context 'Ctrl+C (PowerShell.Stop) still runs -RemoveRecord' {
        It 'while <When>' -ForEach @(
            @{ When = 'waiting for propagation'; SleepInAdd = $false }
            @{ When = '-AddRecord is still running'; SleepInAdd = $true }
        ) {
            $name = New-TestName 'stop'
            $order = $account | New-AcmeOrder -DnsName $name
            $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
            $ps = [PowerShell]::Create()
            try {
                $null = $ps.AddScript({
                        param($ModulePath, $Order, $Url, $DnsServer, $Log, $SleepInAdd)
                        Import-Module $ModulePath
                        # The published value is wrong, so the propagation check keeps waiting.
                        $add = {
                            param($RecordName)
                            Invoke-RestMethod -Method Post -Uri "$Url/set-txt" -Body (@{ host = "$RecordName."; value = 'wrong' } | ConvertTo-Json) | Out-Null
                            $null = $Log.Add('added')
                            if ($SleepInAdd) { Start-Sleep -Seconds 60 }
                        }
                        $remove = {
                            param($RecordName)
                            Invoke-RestMethod -Method Post -Uri "$Url/clear-txt" -Body (@{ host = "$RecordName." } | ConvertTo-Json) | Out-Null
                            $null = $Log.Add('removed')
                        }
                        $Order | Start-AcmeDnsChallenge -AddRecord $add -RemoveRecord $remove -DnsServer $DnsServer -PropagationTimeoutSec 120
                    }).AddArgument($env:ACME_TEST_MODULE).AddArgument($order).AddArgument($pebble.ChallSrvUrl).AddArgument($dnsServer).AddArgument($log).AddArgument($SleepInAdd)
                $null = $ps.BeginInvoke()
                Wait-Until { $log -contains 'added' }
                Start-Sleep -Milliseconds 500
                (Get-TestTxt "_acme-challenge.$name").Count | Should -Be 1 -Because 'the record is published while the cmdlet runs'
                $ps.Stop()

                $ps.InvocationStateInfo.State | Should -Be 'Stopped'
                # Removal runs as the stop unwinds; under load it may land a moment after Stop() returns.
                Wait-Until { $log -contains 'removed' } -TimeoutSec 15
                $log | Should -Contain 'removed'
                @($log | Where-Object { $_ -eq 'added' }).Count | Should -Be 1 -Because 'an interrupted -AddRecord is not run again'
                (Get-TestTxt "_acme-challenge.$name").Count | Should -Be 0
            } finally {
                $ps.Dispose()
            }
        }
    }

    Context '-Manual' {
        It 'refuses at once with AcmeManualNotInteractive in a runspace without a host, before any request' {
            $order = $account | New-AcmeOrder -DnsName (New-TestName 'manual')
            $ps = [PowerShell]::Create()
            try {
                $null = $ps.AddScript({
                        param($ModulePath, $Order)
                        Import-Module $ModulePath
                        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
                        try { $Order | Start-AcmeDnsChallenge -Manual -ErrorAction Stop } catch { $_.FullyQualifiedErrorId; $_.CategoryInfo.Category.ToString() }
                        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount - $before
                    }).AddArgument($env:ACME_TEST_MODULE).AddArgument($order)
                $id, $category, $requests = $ps.Invoke()
            } finally {
                $ps.Dispose()
            }
            $id | Should -BeLike 'AcmeManualNotInteractive,*'
            $category | Should -Be 'InvalidOperation'
            $requests | Should -Be 0
        }

        It 'prints the records in a terminal, waits for Enter, then checks propagation and issues (tmux)' {
            Install-TestPackage @{ tmux = 'tmux' }
            $name = New-TestName 'manual'
            $done = Join-Path $TestDrive 'manual-done.txt'
            $script = Join-Path $TestDrive 'manual.ps1'
            Set-Content -LiteralPath $script -Value @"
`$ErrorActionPreference = 'Stop'
Import-Module '$env:ACME_TEST_MODULE'
`$cert = New-AcmeAccount -Server '$($pebble.Directory)' -TrustedRootCertificate '$($pebble.ApiRootPath)' -AcceptTermsOfService |
    New-AcmeOrder -DnsName '$name', '*.$name' | Start-AcmeDnsChallenge -Manual -DnsServer '$dnsServer' | Complete-AcmeOrder
# Written beside and moved into place: the test reads it as soon as it exists, never half-written.
Set-Content -LiteralPath '$done.tmp' -Value (`$cert.Names -join ',')
Move-Item -LiteralPath '$done.tmp' -Destination '$done'
Read-Host 'finished'
"@
            $pwsh = (Get-PwshCommand) -join ' '
            $session = "acme-manual-$PID"
            & tmux new-session -d -s $session -x 220 -y 50 "$pwsh -NoProfile -File '$script'"
            try {
                Wait-Until { ((& tmux capture-pane -p -t $session) -join "`n") -like '*Press Enter*' }
                $screen = (& tmux capture-pane -p -t $session) -join "`n"
                $records = [regex]::Matches($screen, '(?m)^\s+(\S+)\s+TXT\s+"([^"]+)"')
                $records.Count | Should -Be 2
                (Test-Path $done) | Should -BeFalse -Because 'it waits for Enter'
                foreach ($r in $records) {
                    $body = @{ host = "$($r.Groups[1].Value)."; value = $r.Groups[2].Value } | ConvertTo-Json
                    Invoke-RestMethod -Method Post -Uri "$($pebble.ChallSrvUrl)/set-txt" -Body $body | Out-Null
                }
                & tmux send-keys -t $session Enter
                # On a timeout the terminal's last 200 lines say why (the error the script stopped on).
                try { Wait-Until { Test-Path $done } -TimeoutSec 60 } catch { ((& tmux capture-pane -p -S -200 -t $session) -join "`n") | Write-Host; throw }
                # The CA decides the order of names in the certificate; compare them as a set.
                ((Get-Content $done) -split ',' | Sort-Object) | Should -Be (@($name, "*.$name") | Sort-Object)
                ((& tmux capture-pane -p -t $session) -join "`n") | Should -BeLike '*can be deleted now*'
            } finally {
                & tmux kill-session -t $session 2>$null
                Invoke-RestMethod -Method Post -Uri "$($pebble.ChallSrvUrl)/clear-txt" -Body (@{ host = "_acme-challenge.$name." } | ConvertTo-Json) | Out-Null
            }
        }

        It 'refuses at once in pwsh -NonInteractive' {
            $pwsh = Get-PwshCommand
            $script = "Import-Module '$env:ACME_TEST_MODULE'; try { @() | Start-AcmeDnsChallenge -Manual -ErrorAction Stop; 'no error' } catch { `$_.FullyQualifiedErrorId }"
            $output = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $script
            $output | Should -BeLike 'AcmeManualNotInteractive,*'
        }
    }

    Context 'Input refused before any request' {
        BeforeAll {
            $script:pendingOrder = $account | New-AcmeOrder -DnsName (New-TestName 'refused')
            $script:wildOrder = $account | New-AcmeOrder -DnsName "*.$(New-TestName 'wildonly')"
            $script:before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        }
        AfterAll { [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $script:before }

        It 'refuses -DnsServer ''<Server>''' -ForEach @(@{ Server = 'a:b:c' }, @{ Server = 'host:70000' }, @{ Server = '[::1' }) {
            $e = { $pendingOrder | Start-AcmeDnsChallenge -AddRecord {} -RemoveRecord {} -DnsServer $Server -ErrorAction Stop } | Should -Throw -PassThru
            $e.FullyQualifiedErrorId | Should -BeLike 'AcmeInvalidDnsServer,*'
            $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        }

        It 'refuses a -DnsAlias that is not a DNS name' {
            $e = { $pendingOrder | Start-AcmeDnsChallenge -AddRecord {} -RemoveRecord {} -DnsAlias @{ 'x.test' = 'not a name!' } -ErrorAction Stop } |
                Should -Throw -PassThru
            $e.FullyQualifiedErrorId | Should -BeLike 'AcmeInvalidDnsAlias,*'
        }

        It 'refuses <Command> for a wildcard, saying dns-01 is needed' -ForEach @(
            @{ Command = 'Start-AcmeHttpChallenge'; Run = { param($o) $o | Start-AcmeHttpChallenge -Port $pebble.HttpPort -ErrorAction Stop } }
            @{ Command = 'Start-AcmeTlsAlpnChallenge'; Run = { param($o) $o | Start-AcmeTlsAlpnChallenge -Port $pebble.TlsPort -ErrorAction Stop } }
        ) {
            $e = { & $Run $wildOrder } | Should -Throw -PassThru
            $e.FullyQualifiedErrorId | Should -BeLike 'AcmeChallengeTypeUnavailable,*'
            $e.Exception.Message | Should -BeLike '*Wildcard*dns-01*'
        }
    }
}

Describe 'Start-AcmeTlsAlpnChallenge' {
    It 'issues a certificate through tls-alpn-01 on Pebble''s tlsPort' {
        $name = New-TestName 'alpn'
        $verbose = $null
        $cert = $account | New-AcmeOrder -DnsName $name | Start-AcmeTlsAlpnChallenge -Port $pebble.TlsPort -Verbose 4>&1 |
            Tee-Object -Variable verbose | Where-Object { $_ -is [Acme.Protocol.Model.AcmeOrder] } | Complete-AcmeOrder
        $cert.Names | Should -Be @($name)
        Test-CertificateChain -Certificate $cert.Certificate -Intermediate $cert.Chain -Root $root | Should -BeTrue
        $verbose | Where-Object { "$_" -like "Answered a tls-alpn-01 handshake for $name*" } | Should -Not -BeNullOrEmpty
        # The listener is gone afterwards.
        { [System.Net.Sockets.TcpClient]::new('127.0.0.1', $pebble.TlsPort).Dispose() } | Should -Throw
    }

    Context 'the responder' {
        BeforeAll {
            $script:responder = [Acme.Protocol.Challenges.TlsAlpn01.TlsAlpnServer]::Start(0, [System.Net.IPAddress]::Loopback, $null)
            $script:keyAuthorization = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
            $responder.Add([Acme.Protocol.Model.AcmeIdentifier]::new('dns', 'held.test'), $keyAuthorization)

            function Connect-TestTls([string] $ServerName, [string[]] $Protocol) {
                $tcp = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $responder.Port)
                $ssl = [System.Net.Security.SslStream]::new($tcp.GetStream(), $false)
                try {
                    $options = [System.Net.Security.SslClientAuthenticationOptions]::new()
                    $options.TargetHost = $ServerName
                    $options.RemoteCertificateValidationCallback = { $true }
                    if ($Protocol) {
                        $options.ApplicationProtocols = [System.Collections.Generic.List[System.Net.Security.SslApplicationProtocol]]::new()
                        foreach ($p in $Protocol) { $options.ApplicationProtocols.Add([System.Net.Security.SslApplicationProtocol]::new($p)) }
                    }
                    $ssl.AuthenticateAsClient($options)
                    [pscustomobject]@{
                        Protocol    = $ssl.NegotiatedApplicationProtocol.ToString()
                        Certificate = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($ssl.RemoteCertificate)
                    }
                } finally {
                    $ssl.Dispose()
                    $tcp.Dispose()
                }
            }
        }
        AfterAll { $responder.Dispose() }

        It 'answers acme-tls/1 with the RFC 8737 certificate for the name in SNI' {
            $answer = Connect-TestTls -ServerName 'held.test' -Protocol 'acme-tls/1'
            $answer.Protocol | Should -Be 'acme-tls/1'
            $extension = $answer.Certificate.Extensions | Where-Object { $_.Oid.Value -eq '1.3.6.1.5.5.7.1.31' }
            $extension.Critical | Should -BeTrue
            $digest = [System.Security.Cryptography.SHA256]::HashData([System.Text.Encoding]::ASCII.GetBytes($keyAuthorization))
            [Convert]::ToHexString($extension.RawData) | Should -Be ('0420' + [Convert]::ToHexString($digest))
            $san = [System.Security.Cryptography.X509Certificates.X509SubjectAlternativeNameExtension]::new(
                ($answer.Certificate.Extensions | Where-Object { $_.Oid.Value -eq '2.5.29.17' }).RawData)
            @($san.EnumerateDnsNames()) | Should -Be @('held.test')
        }

        It 'refuses a handshake <Case>' -ForEach @(
            @{ Case = 'that offers no ALPN'; ServerName = 'held.test'; Protocol = @() }
            @{ Case = 'that offers only h2 and http/1.1'; ServerName = 'held.test'; Protocol = @('h2', 'http/1.1') }
            @{ Case = 'for a name it holds no challenge for'; ServerName = 'other.test'; Protocol = @('acme-tls/1') }
        ) {
            $refusedBefore = $responder.HandshakesRefused
            { Connect-TestTls -ServerName $ServerName -Protocol $Protocol } | Should -Throw
            Wait-Until { $responder.HandshakesRefused -gt $refusedBefore } -TimeoutSec 5
        }
    }
}

Describe 'Mixed orders' {
    It 'issues one certificate with the wildcard by dns-01 and the apex by http-01' {
        $name = New-TestName 'mixed'
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $blocks = New-ChallTestSrvBlock -Log $log
        $order = $account | New-AcmeOrder -DnsName $name, "*.$name"
        $cert = $order | Start-AcmeHttpChallenge -Port $pebble.HttpPort |
            Start-AcmeDnsChallenge -AddRecord $blocks.Add -RemoveRecord $blocks.Remove -DnsServer $dnsServer |
            Complete-AcmeOrder

        ($cert.Names | Sort-Object) | Should -Be (@($name, "*.$name") | Sort-Object)
        $validatedBy = Get-ValidChallengeType $order
        $validatedBy[$name] | Should -Be 'http-01'
        $validatedBy["*.$name"] | Should -Be 'dns-01'
        @($log | Where-Object { $_ -like 'add *' }).Count | Should -Be 1
    }

    It 'passes the order on when its own part is already valid (a reused authorization)' {
        $name = New-TestName 'reuse'
        $null = $account | New-AcmeOrder -DnsName $name | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $blocks = New-ChallTestSrvBlock -Log $log
        $order = $account | New-AcmeOrder -DnsName $name, "*.$name"
        ($order.Authorizations | Where-Object { $_.Identifier.Value -eq $name }).Status | Should -Be 'Valid' -Because 'Pebble reuses the apex authorization'

        $cert = $order | Start-AcmeHttpChallenge -Port $pebble.HttpPort -ErrorAction Stop |
            Start-AcmeDnsChallenge -AddRecord $blocks.Add -RemoveRecord $blocks.Remove -DnsServer $dnsServer -ErrorAction Stop |
            Complete-AcmeOrder -ErrorAction Stop
        ($cert.Names | Sort-Object) | Should -Be (@($name, "*.$name") | Sort-Object)
    }
}

Describe 'Building blocks for a custom responder' {
    It 'Get-AcmeChallenge gives what a responder needs, computed as RFC 8555 sections 8.1, 8.3 and 8.4 say' {
        $name = New-TestName 'blocks'
        $order = $account | New-AcmeOrder -DnsName $name, "*.$name"
        # Pebble 2.10.1 also offers dns-account-01 and dns-persist-01, which have no key authorization of this form.
        $challenges = $order | Get-AcmeChallenge | Where-Object Type -In 'http-01', 'dns-01', 'tls-alpn-01'
        $challenges | ForEach-Object { $_ | Should -BeOfType ([Acme.Protocol.Model.AcmeChallenge]) }
        foreach ($c in $challenges) {
            $c.KeyAuthorization | Should -Be "$($c.Token).$($account.KeyThumbprint)"
            $c.Account.Location | Should -Be $account.Location
            $c.Order.Location | Should -Be $order.Location
        }
        $http = $challenges | Where-Object { $_.Type -eq 'http-01' }
        @($http).Count | Should -Be 1 -Because 'the wildcard offers no http-01'
        $http.HttpPath | Should -Be "/.well-known/acme-challenge/$($http.Token)"
        $dns = $order | Get-AcmeChallenge -Type dns-01
        @($dns).Count | Should -Be 2
        foreach ($d in $dns) {
            $d.DnsRecordName | Should -Be "_acme-challenge.$name"
            $digest = [System.Security.Cryptography.SHA256]::HashData([System.Text.Encoding]::ASCII.GetBytes($d.KeyAuthorization))
            $d.DnsRecordValue | Should -Be ([Convert]::ToBase64String($digest).TrimEnd('=').Replace('+', '-').Replace('/', '_'))
        }
        $authorizations = $order | Get-AcmeAuthorization
        @($authorizations).Count | Should -Be 2
        @($authorizations | Get-AcmeChallenge -Type tls-alpn-01).Count | Should -Be 1
    }

    It 'issues a certificate with answers served by the test''s own listener: Submit-AcmeChallenge | Wait-AcmeOrder | Complete-AcmeOrder' {
        $name1 = New-TestName 'own1'
        $name2 = New-TestName 'own2'
        $store = Join-Path $TestDrive 'shared-store'
        $null = New-Item -ItemType Directory $store
        # The shared store many instances behind a load balancer would serve from; here one file server.
        $server = Start-TestFileServer -Root $store -Port $pebble.HttpPort
        try {
            $challenges = $account | New-AcmeOrder -DnsName $name1, $name2 | Get-AcmeChallenge -Type http-01
            foreach ($c in $challenges) {
                $path = Join-Path $store $c.HttpPath.TrimStart('/')
                $null = New-Item -ItemType Directory -Force (Split-Path $path)
                [System.IO.File]::WriteAllText($path, $c.KeyAuthorization)
            }
            $certs = @($challenges | Submit-AcmeChallenge | Wait-AcmeOrder | Complete-AcmeOrder)
        } finally {
            Stop-TestFileServer $server
        }
        $certs.Count | Should -Be 1 -Because 'Wait-AcmeOrder writes each order once'
        ($certs[0].Names | Sort-Object) | Should -Be (@($name1, $name2) | Sort-Object)
        $server.Served.Count | Should -BeGreaterOrEqual 2
    }

    It 'Submit-AcmeChallenge refuses a second challenge for one name, and Wait-AcmeOrder reports the failed validation' {
        $name = New-TestName 'twice'
        $order = $account | New-AcmeOrder -DnsName $name
        $submitErrors = $null
        $waitErrors = $null
        # Nothing answers: the one submitted challenge fails at the CA.
        $order | Get-AcmeChallenge -Type http-01, dns-01 | Submit-AcmeChallenge -ErrorVariable submitErrors -ErrorAction SilentlyContinue |
            Wait-AcmeOrder -TimeoutSec 60 -ErrorVariable waitErrors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

        $submitErrors.Count | Should -Be 1
        $submitErrors[0].FullyQualifiedErrorId | Should -BeLike 'AcmeChallengeAlreadySubmitted,*'
        $waitErrors.Count | Should -Be 1
        $waitErrors[0].FullyQualifiedErrorId | Should -BeLike 'AcmeAuthorizationFailed,*'
        $waitErrors[0].ErrorDetails.Message | Should -BeLike "*$name*"
    }

    It 'binds <Parameter> of <Command> from the pipeline (<How>)' -ForEach @(
        @{ Command = 'Start-AcmeDnsChallenge'; Parameter = 'Order'; How = 'ByValue' }
        @{ Command = 'Start-AcmeTlsAlpnChallenge'; Parameter = 'Order'; How = 'ByValue' }
        @{ Command = 'Get-AcmeAuthorization'; Parameter = 'Order'; How = 'ByValue' }
        @{ Command = 'Get-AcmeChallenge'; Parameter = 'Order'; How = 'ByValue' }
        @{ Command = 'Get-AcmeChallenge'; Parameter = 'Authorization'; How = 'ByValue' }
        @{ Command = 'Submit-AcmeChallenge'; Parameter = 'Challenge'; How = 'ByValue' }
        @{ Command = 'Wait-AcmeOrder'; Parameter = 'Order'; How = 'ByValue' }
        @{ Command = 'Wait-AcmeOrder'; Parameter = 'Order'; How = 'ByPropertyName' }
    ) {
        $attributes = (Get-Command $Command).Parameters[$Parameter].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
        $flag = if ($How -eq 'ByValue') { 'ValueFromPipeline' } else { 'ValueFromPipelineByPropertyName' }
        @($attributes | Where-Object $flag).Count | Should -BeGreaterThan 0
    }
}

Describe '-WhatIf on the new state-changing cmdlets' {
    It '<Name> -WhatIf sends no request and writes nothing' -ForEach @(
        @{ Name = 'Start-AcmeDnsChallenge'; Run = { $script:pending | Start-AcmeDnsChallenge -AddRecord { throw 'ran' } -RemoveRecord { throw 'ran' } -WhatIf } }
        @{ Name = 'Start-AcmeTlsAlpnChallenge'; Run = { $script:pending | Start-AcmeTlsAlpnChallenge -Port $pebble.TlsPort -WhatIf } }
        @{ Name = 'Submit-AcmeChallenge'; Run = { $script:pendingChallenge | Submit-AcmeChallenge -WhatIf } }
    ) {
        $script:pending ??= $account | New-AcmeOrder -DnsName (New-TestName 'whatif')
        $script:pendingChallenge ??= $script:pending | Get-AcmeChallenge -Type http-01
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        & $Run | Should -BeNullOrEmpty
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $before
    }
}

Describe 'Help pages of the challenge cmdlets' {
    It 'docs/en-US/<_>.md lists exactly the cmdlet''s parameters' -ForEach @(
        'Start-AcmeDnsChallenge', 'Start-AcmeTlsAlpnChallenge', 'Get-AcmeAuthorization', 'Get-AcmeChallenge', 'Submit-AcmeChallenge', 'Wait-AcmeOrder'
    ) {
        $page = Join-Path $PSScriptRoot "../../docs/en-US/$_.md"
        Test-Path $page | Should -BeTrue
        $text = Get-Content -Raw $page
        $documented = [regex]::Matches($text, '(?m)^### -(\w+)') | ForEach-Object { $_.Groups[1].Value } | Sort-Object
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters
        $actual = (Get-Command $_).Parameters.Keys | Where-Object { $_ -notin $common } | Sort-Object
        $documented | Should -Be $actual
        $text | Should -Match '(?m)^external help file: Acme\.PowerShell\.dll-Help\.xml'
        foreach ($set in (Get-Command $_).ParameterSets) { $text | Should -Match "(?m)^### $($set.Name)" }
    }
}
