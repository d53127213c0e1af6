#Requires -Version 7.2
# dns-account-01 and dns-persist-01 through the DNS providers (RFC2136 on a real BIND 9, DnsServers.psm1),
# New-AcmeCertificate -DnsChallengeType and the DSC resource's DnsChallengeType, with Pebble 2.10.1
# validating against that BIND (-dnsserver). The provider saved with the certificate remembers the
# challenge type, so the renewal pipeline with no DNS parameters answers the same type; a dns-persist-01
# renewal that finds its record valid makes no DNS change (the zone's SOA serial stays). Skipped, with a
# warning that says so, when no Pebble 2.10.1 is found (Debian's 2.4.0 offers neither type).
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:noCurrent = -not (Find-CurrentPebble)
    if ($noCurrent) {
        Write-Warning 'DnsTypesProviders.Tests: no Pebble 2.10.1 (ACME_TEST_PEBBLE or ../shared/servers/pebble-2.10.1): dns-account-01 and dns-persist-01 through the DNS providers are NOT tested.'
    }
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'DnsServers.psm1') -Force

    function New-TestLabel([string] $Prefix) { $Prefix + [guid]::NewGuid().ToString('N').Substring(0, 8) }

    function Get-AccountLabel([string] $Url) {
        # draft-ietf-acme-dns-account-label as Pebble 2.10.1 computes it, independently of the module:
        # base32 of the first 10 bytes of SHA-256(account URL), lower case.
        $hash = [System.Security.Cryptography.SHA256]::HashData([System.Text.Encoding]::UTF8.GetBytes($Url))
        $alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
        $bits = ($hash[0..9] | ForEach-Object { [Convert]::ToString($_, 2).PadLeft(8, '0') }) -join ''
        -join (0..15 | ForEach-Object { $alphabet[[Convert]::ToInt32($bits.Substring($_ * 5, 5), 2)] })
    }

    function Get-ZoneSerial {
        <# The SOA serial BIND serves for the zone now: every dynamic update raises it. #>
        $soa = & dig +short +tcp +time=2 +tries=1 -p $bind.Port '@127.0.0.1' $bind.Zone SOA 2>$null
        [long](($soa -split '\s+')[2])
    }

    function Wait-Due($Certificate) {
        $wait = (($Certificate | Test-AcmeRenewal).RenewAt - [DateTimeOffset]::UtcNow).TotalSeconds + 1
        if ($wait -gt 0) { Start-Sleep -Seconds ([Math]::Min($wait, 60)) }
    }

    function Read-SavedProvider([string] $State, [string] $Name) {
        $file = @(Get-ChildItem -LiteralPath $State -Recurse -Filter 'dns-provider.json' | Where-Object { $_.Directory.Name -eq $Name })
        $file.Count | Should -Be 1 -Because "the provider is saved with '$Name'"
        Get-Content -LiteralPath $file[0].FullName -Raw | ConvertFrom-Json
    }

    function Get-StateText([string] $Folder) { (Get-ChildItem -LiteralPath $Folder -Recurse -File | ForEach-Object { Get-Content -LiteralPath $_.FullName -Raw }) -join "`n" }

    if (-not (Find-CurrentPebble)) { return }
    $script:bind = Start-TestBind
    # Short-lived certificates fall due during the test; Pebble validates against the BIND.
    $script:pebble = Start-TestPebble -Current -DnsServer $bind.Server -AuthzReusePercent 0 -CertificateValidityPeriod 30
    $script:zone = $bind.Zone
    $script:issuer = (Invoke-RestMethod -Uri $pebble.Directory -SkipCertificateCheck).meta.caaIdentities[0]
    $script:passphrase = ConvertTo-SecureString 'state passphrase 17' -AsPlainText -Force
    $script:tsig = @{ Server = $bind.Server; KeyName = $bind.KeyName; KeySecret = (ConvertTo-SecureString $bind.KeySecret -AsPlainText -Force); KeyAlgorithm = $bind.KeyAlgorithm }
    # The zone's NS records name no server this machine reaches: the propagation check asks the BIND.
    $PSDefaultParameterValues['Start-AcmeDnsChallenge:DnsServer'] = $bind.Server
    $PSDefaultParameterValues['New-AcmeCertificate:DnsServer'] = $bind.Server
    $PSDefaultParameterValues['*-Acme*:TrustedRootCertificate'] = $pebble.ApiRootPath
    Remove-Item Env:ACME_KEY_PASSPHRASE -ErrorAction Ignore
}

AfterAll {
    $PSDefaultParameterValues.Remove('Start-AcmeDnsChallenge:DnsServer')
    $PSDefaultParameterValues.Remove('New-AcmeCertificate:DnsServer')
    $PSDefaultParameterValues.Remove('*-Acme*:TrustedRootCertificate')
    if (Get-Variable -Name pebble -Scope Script -ErrorAction SilentlyContinue) { Stop-TestPebble $pebble }
    if (Get-Variable -Name bind -Scope Script -ErrorAction SilentlyContinue) { Stop-TestBind $bind }
}

Describe 'dns-account-01 through the RFC2136 provider on BIND, Pebble 2.10.1 validating' -Skip:$noCurrent {
    It 'issues at _(account label)._acme-challenge.(name), removes the record, saves the type, and the renewal with no DNS parameters answers dns-account-01 again' {
        $state = Join-Path $TestDrive 'account'
        $label = New-TestLabel 'a'
        $name = "$label.$zone"
        $account = New-AcmeAccount -Server $pebble.Directory -Name acct -AcceptTermsOfService -StatePath $state -KeyPassphrase $passphrase -Confirm:$false
        $streams = $account | New-AcmeOrder -DnsName $name -Name $label |
            Start-AcmeDnsChallenge -Provider RFC2136 -ProviderParameter $tsig -ChallengeType dns-account-01 -Verbose *>&1
        $order = @($streams | Where-Object { $_ -is [Acme.Protocol.Model.AcmeOrder] })
        $order.Count | Should -Be 1 -Because ($streams | Out-String)
        $cert = $order[0] | Complete-AcmeOrder
        $cert.Names | Should -Be @($name)

        $record = "_$(Get-AccountLabel $account.Location.AbsoluteUri)._acme-challenge.$name"
        $text = $streams | Out-String
        $text | Should -BeLike "*UPDATE of zone $zone (add 1 TXT record(s) at $record)*"
        $text | Should -BeLike "*UPDATE of zone $zone (delete 1 TXT record(s) at $record)*"
        @(Get-TestDnsTxt $bind $record).Count | Should -Be 0 -Because 'a dns-account-01 record is withdrawn'
        @(Get-TestDnsTxt $bind "_acme-challenge.$name").Count | Should -Be 0
        (Read-SavedProvider $state $label).challengeType | Should -Be 'dns-account-01'
        $text.Contains($bind.KeySecret) | Should -BeFalse
        Get-StateText $state | Should -Not -Match ([regex]::Escape($bind.KeySecret))

        # Pebble reuses a valid authorization now and then even with reuse at 0 (Disable-SavedAuthorization): given up
        # here, so the renewal below must answer dns-account-01 again.
        @($order[0].Authorizations | Disable-AcmeAuthorization -Confirm:$false -PassThru | Where-Object Status -EQ 'Deactivated').Count | Should -Be 1
        Wait-Due $cert
        $renewal = & {
            Get-AcmeCertificate -Name $label -StatePath $state -KeyPassphrase $passphrase | Test-AcmeRenewal | Where-Object Due |
                New-AcmeOrder | Start-AcmeDnsChallenge -Verbose | Complete-AcmeOrder
        } *>&1
        $renewed = @($renewal | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] })
        $renewed.Count | Should -Be 1 -Because "the renewal ran: $($renewal | Out-String)"
        $renewed[0].Thumbprint | Should -Not -Be $cert.Thumbprint
        $again = $renewal | Out-String
        $again | Should -BeLike "*saved with '$label' for dns-account-01*"
        $again | Should -BeLike "*add 1 TXT record(s) at $record)*"
        $again.Contains($bind.KeySecret) | Should -BeFalse
        @(Get-TestDnsTxt $bind $record).Count | Should -Be 0
    }
}

Describe 'dns-persist-01 through the RFC2136 provider on BIND, Pebble 2.10.1 validating' -Skip:$noCurrent {
    It 'New-AcmeCertificate -DnsChallengeType dns-persist-01 issues apex + wildcard (policy=wildcard), keeps the record, and the renewal through the saved provider changes no DNS' {
        $state = Join-Path $TestDrive 'persist'
        $label = New-TestLabel 'p'
        $name = "$label.$zone"
        $first = New-AcmeCertificate -DnsName $name, "*.$name" -Name $label -Server $pebble.Directory -AcceptTermsOfService -StatePath $state -KeyPassphrase $passphrase `
            -DnsProvider RFC2136 -DnsProviderParameter $tsig -DnsChallengeType dns-persist-01 -Confirm:$false -ErrorAction Stop -Verbose *>&1
        $cert = @($first | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] })
        $cert.Count | Should -Be 1 -Because ($first | Out-String)
        @($cert[0].Names | Sort-Object) | Should -Be @("*.$name", $name)

        $account = Get-AcmeAccount -StatePath $state -KeyPassphrase $passphrase | Select-Object -First 1
        $values = @(Get-TestDnsTxt $bind "_validation-persist.$name" | Sort-Object)
        $values | Should -Contain "$issuer; accounturi=$($account.Location.AbsoluteUri); policy=wildcard" -Because 'the record stays for the renewals'
        ($first | Out-String) | Should -Not -BeLike '*(delete * TXT record(s) at _validation-persist*' -Because 'persistent records are never removed'
        (Read-SavedProvider $state $label).challengeType | Should -Be 'dns-persist-01'
        ($first | Out-String).Contains($bind.KeySecret) | Should -BeFalse
        $serial = Get-ZoneSerial
        $serial | Should -BeGreaterThan 0

        Wait-Due $cert[0]
        $renewal = & {
            Get-AcmeCertificate -Name $label -StatePath $state -KeyPassphrase $passphrase | Test-AcmeRenewal | Where-Object Due |
                New-AcmeOrder | Start-AcmeDnsChallenge -Verbose | Complete-AcmeOrder
        } *>&1
        $renewed = @($renewal | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] })
        $renewed.Count | Should -Be 1 -Because "the renewal ran: $($renewal | Out-String)"
        $renewed[0].Thumbprint | Should -Not -Be $cert[0].Thumbprint
        $text = $renewal | Out-String
        $text | Should -BeLike "*saved with '$label' for dns-persist-01*"
        $text | Should -BeLike "*_validation-persist.$name already authorizes this account; no DNS change*"
        $text | Should -Not -BeLike '*sending the UPDATE*'
        Get-ZoneSerial | Should -Be $serial -Because 'a valid persistent record means no DNS change at all'
        @(Get-TestDnsTxt $bind "_validation-persist.$name" | Sort-Object) | Should -Be $values
    }
}

Describe 'New-AcmeCertificate -DnsChallengeType with script blocks, and the DSC resource' -Skip:$noCurrent {
    It 'dns-account-01 through -AddRecord/-RemoveRecord (nsupdate to BIND) publishes at the account-label name and withdraws it' {
        $state = Join-Path $TestDrive 'blocks'
        $label = New-TestLabel 'b'
        $name = "$label.$zone"
        $log = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        $port = $bind.Port; $keyFile = $bind.KeyFile
        $update = {
            param([string] $Verb, [string] $RecordName, [string] $Value)
            $script = "server 127.0.0.1 $port`nupdate $Verb $RecordName. 60 TXT `"$Value`"`nsend`n"
            $script | & nsupdate -k $keyFile
            if ($LASTEXITCODE -ne 0) { throw "nsupdate $Verb failed" }
        }.GetNewClosure()
        $add = { param($RecordName, $Value, $Identifier) & $update add $RecordName $Value; $null = $log.Add("add $RecordName") }.GetNewClosure()
        $remove = { param($RecordName, $Value, $Identifier) & $update delete $RecordName $Value; $null = $log.Add("remove $RecordName") }.GetNewClosure()

        $cert = New-AcmeCertificate -DnsName $name -Name $label -Server $pebble.Directory -AcceptTermsOfService -StatePath $state -AddRecord $add -RemoveRecord $remove `
            -DnsChallengeType dns-account-01 -Confirm:$false -ErrorAction Stop
        $cert.Names | Should -Be @($name)
        $account = Get-AcmeAccount -StatePath $state | Select-Object -First 1
        $record = "_$(Get-AccountLabel $account.Location.AbsoluteUri)._acme-challenge.$name"
        @($log) | Should -Be @("add $record", "remove $record")
        @(Get-TestDnsTxt $bind $record).Count | Should -Be 0
    }

    It 'refuses a -DnsChallengeType that is no DNS challenge type' {
        { New-AcmeCertificate -DnsName "x.$zone" -AddRecord {} -RemoveRecord {} -DnsChallengeType http-01 -StatePath (Join-Path $TestDrive 'bad') -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
    }

    It 'DSC: DnsChallengeType dns-account-01 with DnsProvider RFC2136 issues the certificate and saves the type' {
        $resourceType = & ([scriptblock]::Create("using module '$env:ACME_TEST_MODULE'`n[AcmeCertificate]"))
        $state = Join-Path $TestDrive 'dsc'
        $label = New-TestLabel 'd'
        $resource = $resourceType::new()
        $resource.DnsChallengeType | Should -Be 'dns-01' -Because 'dns-01 is the default'
        $resource.Name = $label; $resource.DnsName = @("$label.$zone"); $resource.Server = $pebble.Directory; $resource.AcceptTermsOfService = $true
        $resource.StatePath = $state; $resource.ChallengeType = 'Dns'; $resource.DnsProvider = 'RFC2136'; $resource.DnsServer = @($bind.Server)
        $resource.TrustedRootCertificate = $pebble.ApiRootPath
        $resource.DnsProviderParameter = @{ Server = $bind.Server; KeyName = $bind.KeyName; KeyAlgorithm = $bind.KeyAlgorithm }
        $resource.DnsProviderCredential = [pscredential]::new('KeySecret', $tsig.KeySecret)
        $resource.DnsChallengeType = 'dns-account-01'
        $resource.Test() | Should -BeFalse
        $resource.Set()
        $resource.Test() | Should -BeTrue
        (Get-AcmeCertificate -Name $label -StatePath $state).Names | Should -Be @("$label.$zone")
        (Read-SavedProvider $state $label).challengeType | Should -Be 'dns-account-01'
        $resource.Get().DnsChallengeType | Should -Be 'dns-account-01'
        Get-StateText $state | Should -Not -Match ([regex]::Escape($bind.KeySecret))
        { $resource.DnsChallengeType = 'http-01' } | Should -Throw
    }
}
