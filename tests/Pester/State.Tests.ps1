#Requires -Version 7.2
# The state folder against a real Pebble (default 5% bad-nonce rejection) and real processes: what one
# pwsh saves another finds, a process killed after finalize is resumed, New-AcmeCertificate does nothing
# twice, concurrent processes leave the folder whole, keys are owner-only, PFX files open in OpenSSL, and
# the runbook issues, skips and renews unattended.
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:pebble = Start-TestPebble
    $script:root = Get-PebbleRootCertificate $pebble
    $script:ca = @{ Server = $pebble.Directory; TrustedRootCertificate = $pebble.ApiRootPath }
    $script:runbook = (Resolve-Path (Join-Path $PSScriptRoot '../../examples/Update-AcmeCertificates.ps1')).Path

    function Get-PebbleCount([string] $Pattern) {
        $pebble.Processes[-1].Log.Flush()
        @(Select-String -LiteralPath $pebble.PebbleLog -Pattern $Pattern).Count
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'State across processes' {
    BeforeAll {
        $script:sp = Join-Path $TestDrive 'state'
        $script:account = New-AcmeAccount @ca -Name keep -StatePath $sp -AcceptTermsOfService -Contact 'keep@acme.test'
        $script:pending = $account | New-AcmeOrder -DnsName pending.test
        $script:issued = $account | New-AcmeOrder -DnsName done.test, www.done.test | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder
    }

    It 'saves the account under its name, the order under its first name, and the certificate as current' {
        $account.Name | Should -Be 'keep'
        $account.StatePath | Should -Be (Resolve-Path $sp).Path
        $pending.Name | Should -Be 'pending.test'
        $issued.Name | Should -Be 'done.test'
        $server = Join-Path $sp ($pebble.Directory -replace '^https://', '' -replace '[:/]', '-')
        Join-Path $server 'accounts/keep/account-key.pem' | Should -Exist
        (Get-Content -Raw (Join-Path $server 'certificates/done.test/current')).Trim() | Should -Be $issued.Thumbprint
        Join-Path $server "certificates/done.test/$($issued.Thumbprint)/key.pem" | Should -Exist
    }

    It 'finds the account, order and certificate by name in a new pwsh process, and the order goes on through the pipeline' {
        $result = Invoke-TestChild -Environment @{ ACME_STATE_PATH = $sp; T_PORT = $pebble.HttpPort } -Script {
            $ErrorActionPreference = 'Stop'
            Import-Module Acme
            $account = Get-AcmeAccount -Name keep
            $certificate = Get-AcmeCertificate -Name done.test
            $completed = Get-AcmeOrder -Name pending.test | Start-AcmeHttpChallenge -Port $env:T_PORT | Complete-AcmeOrder
            [pscustomobject]@{
                Account     = $account.Location.AbsoluteUri
                Contact     = $account.Contact
                Thumbprint  = $certificate.Thumbprint
                KeyMatches  = $certificate.Key.MatchesCertificate($certificate.Certificate)
                OrderedBy   = $certificate.Order.Account.Location.AbsoluteUri
                Completed   = $completed.Thumbprint
                CompletedBy = $completed.Order.Account.Name
            } | ConvertTo-Json -Compress
        }.ToString()
        $result.ExitCode | Should -Be 0 -Because $result.Err
        $found = $result.Out | ConvertFrom-Json
        $found.Account | Should -Be $account.Location.AbsoluteUri
        $found.Contact | Should -Be 'mailto:keep@acme.test'
        $found.Thumbprint | Should -Be $issued.Thumbprint
        $found.KeyMatches | Should -BeTrue
        $found.OrderedBy | Should -Be $account.Location.AbsoluteUri
        $found.CompletedBy | Should -Be 'keep'
        (Get-AcmeCertificate -StatePath $sp -Name pending.test).Thumbprint | Should -Be $found.Completed
    }

    It 'writes every key file owner-only and leaves no half-written file' {
        @(Get-StateFile $sp '*key*.pem').Count | Should -BeGreaterOrEqual 3
        Assert-StateIntact $sp
    }

    It 'lists with wildcards and filters by server, and names what it does not find' {
        @(Get-AcmeCertificate -StatePath $sp -Name '*.test').Name | Sort-Object | Should -Be @('done.test', 'pending.test')
        @(Get-AcmeCertificate -StatePath $sp -Server $pebble.Directory).Count | Should -Be 2
        @(Get-AcmeCertificate -StatePath $sp -Server LetsEncryptStaging) | Should -BeNullOrEmpty
        @(Get-AcmeAccount -StatePath $sp -Name 'k*').Name | Should -Be @('keep')
        $err = $null
        Get-AcmeAccount -StatePath $sp -Name nobody -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeAccountNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        Get-AcmeCertificate -StatePath $sp -Name 'nothing*' | Should -BeNullOrEmpty
    }

    It 'remembers a private CA''s root for the next command on the same server' {
        $again = New-AcmeAccount -Server $pebble.Directory -StatePath $sp -AcceptTermsOfService
        $again.Name | Should -Be 'default'
        $again.Server.TrustedRoot.Thumbprint | Should -Be ([System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pebble.ApiRootPath)).Thumbprint
        (New-AcmeAccount -Server $pebble.Directory -StatePath $sp -AcceptTermsOfService).Name | Should -Be 'default-2'
        # The same name again is the same account: its saved key asks the CA, which returns it.
        (New-AcmeAccount -Server $pebble.Directory -StatePath $sp -Name keep -AcceptTermsOfService).Location | Should -Be $account.Location
    }

    It 'completes account and certificate names from the state folder' {
        $line = "Get-AcmeCertificate -StatePath '$sp' -Name do"
        @((TabExpansion2 $line $line.Length).CompletionMatches.CompletionText) | Should -Be @('done.test')
        $line = "Get-AcmeAccount -StatePath '$sp' -Name "
        @((TabExpansion2 $line $line.Length).CompletionMatches.CompletionText) | Should -Contain 'keep'
    }
}

Describe 'Account changes are saved' {
    It 'saves new contacts, a rolled-over key and a deactivation, so the next session reads them' {
        $sp = Join-Path $TestDrive 'account-changes'
        $account = New-AcmeAccount @ca -StatePath $sp -Name changing -AcceptTermsOfService -Contact 'before@acme.test'
        $account | Set-AcmeAccount -Contact 'after@acme.test'
        (Get-AcmeAccount -StatePath $sp -Name changing).Contact | Should -Be @('mailto:after@acme.test')

        $rolled = $account | Update-AcmeAccountKey -NewKeyAlgorithm EC384 -Confirm:$false -WarningVariable warnings
        $warnings | Should -BeNullOrEmpty -Because 'the new key is saved in the state folder'
        $saved = Get-AcmeAccount -StatePath $sp -Name changing -WarningVariable warnings
        $warnings | Should -BeNullOrEmpty -Because 'the rollover finished'
        $saved.KeyThumbprint | Should -Be $rolled.KeyThumbprint
        $saved.Key.Name | Should -Be 'EC384'
        ($saved | New-AcmeOrder -DnsName rolled-state.test).Status | Should -Be 'Pending' -Because 'the CA accepts the saved key'

        $saved | Disable-AcmeAccount -Confirm:$false
        (Get-AcmeAccount -StatePath $sp -Name changing).Status | Should -Be 'Deactivated'
        Assert-StateIntact $sp
    }
}

Describe 'A process killed right after finalize' {
    It 'is resumed with Get-AcmeOrder | Complete-AcmeOrder, for the key saved before finalize' {
        $sp = Join-Path $TestDrive 'killed'
        $signal = Join-Path $TestDrive 'finalized.signal'
        $null = New-AcmeAccount @ca -StatePath $sp -AcceptTermsOfService
        $child = Start-TestChild -Environment @{
            ACME_STATE_PATH = $sp; T_PORT = $pebble.HttpPort; ACME_TEST_FAILPOINT = 'finalized'; ACME_TEST_FAILPOINT_SIGNAL = $signal
        } -Script {
            $ErrorActionPreference = 'Stop'
            Import-Module Acme
            Get-AcmeAccount -Name default | New-AcmeOrder -DnsName killed.test | Start-AcmeHttpChallenge -Port $env:T_PORT | Complete-AcmeOrder
            'not reached'
        }.ToString() -ModulePath (Get-TestFailpointModule)
        try {
            Wait-TestEndpoint -What 'the child reaching finalize' -TimeoutSec 60 -Probe { Test-Path $signal }
        } finally {
            Stop-Process -Id $child.Process.Id -Force
        }
        $ended = Wait-TestChild $child
        $ended.Out | Should -Not -Match 'not reached'

        $saved = Get-AcmeOrder -StatePath $sp -Name killed.test
        $saved.Status | Should -BeIn 'Processing', 'Valid' -Because 'the state says finalize was accepted'
        Get-AcmeCertificate -StatePath $sp -Name killed.test -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $keyFile = Get-StateFile $sp 'order-key-*.pem'
        $keyFile.Count | Should -Be 1
        $key = [Acme.Protocol.Crypto.AcmeKey]::ImportPem((Get-Content -Raw $keyFile[0].FullName))
        $finalizes = Get-PebbleCount "POST /finalize-order/$(Split-Path -Leaf $saved.Location.AbsolutePath)"

        $certificate = $saved | Complete-AcmeOrder

        $certificate.Key.Thumbprint | Should -Be $key.Thumbprint
        $key.MatchesCertificate($certificate.Certificate) | Should -BeTrue
        Test-CertificateChain -Certificate $certificate.Certificate -Intermediate $certificate.Chain -Root $root | Should -BeTrue
        Get-PebbleCount "POST /finalize-order/$(Split-Path -Leaf $saved.Location.AbsolutePath)" | Should -Be $finalizes -Because 'the order is not finalized twice'
        (Get-AcmeCertificate -StatePath $sp -Name killed.test).Thumbprint | Should -Be $certificate.Thumbprint
        Get-StateFile $sp 'order-key-*.pem' | Should -BeNullOrEmpty -Because 'the key now lives with the certificate'
        Assert-StateIntact $sp
    }
}

Describe 'New-AcmeCertificate' {
    BeforeAll {
        $script:sp = Join-Path $TestDrive 'oneshot'
        $script:oneShot = @{ StatePath = $sp; HttpPort = $pebble.HttpPort; AcceptTermsOfService = $true } + $ca
    }

    It 'orders once, returns the saved certificate the second time, and orders again with -Force' {
        $orders = Get-PebbleCount 'Added order "'
        $out = Join-Path $TestDrive 'oneshot-out'
        $first = New-AcmeCertificate -DnsName once.test, www.once.test @oneShot -Path $out
        Get-PebbleCount 'Added order "' | Should -Be ($orders + 1)
        $first.Name | Should -Be 'once.test'
        $written = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPemFile((Join-Path $out 'cert.pem'), (Join-Path $out 'key.pem'))
        $written.Thumbprint | Should -Be $first.Thumbprint

        $second = New-AcmeCertificate -DnsName once.test, www.once.test @oneShot
        Get-PebbleCount 'Added order "' | Should -Be ($orders + 1) -Because 'a valid certificate that is not due is returned as it is'
        $second.Thumbprint | Should -Be $first.Thumbprint

        $forced = New-AcmeCertificate -DnsName once.test, www.once.test @oneShot -Force
        Get-PebbleCount 'Added order "' | Should -Be ($orders + 2)
        $forced.Thumbprint | Should -Not -Be $first.Thumbprint
        (Get-AcmeCertificate -StatePath $sp -Name once.test).Thumbprint | Should -Be $forced.Thumbprint
        @(Get-StateFile $sp 'fullchain.pem').Count | Should -Be 2 -Because 'the earlier version is kept beside the current one'
        @(Get-AcmeAccount -StatePath $sp).Name | Should -Be @('default') -Because 'every call used the one saved account'
    }

    It 'converges on its files without ordering: a deleted export, another -Path, files of another certificate, a PFX (Result Reexported)' {
        $orders = Get-PebbleCount 'Added order "'
        $out = Join-Path $TestDrive 'converge-out'
        $first = New-AcmeCertificate -DnsName converge.test @oneShot -Path $out
        $first.Result | Should -Be 'Issued'
        $first.RenewAt | Should -BeGreaterThan ([datetimeoffset]::UtcNow)
        $first.RenewAt | Should -BeLessThan ([datetimeoffset] $first.NotAfter)
        $other = New-AcmeCertificate -DnsName converge-other.test @oneShot -Path (Join-Path $TestDrive 'converge-other')
        $orders += 2
        function Assert-Folder([string] $Folder, $Certificate) {
            $written = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPemFile((Join-Path $Folder 'cert.pem'), (Join-Path $Folder 'key.pem'))
            $written.Thumbprint | Should -Be $Certificate.Thumbprint
            (Get-Content -Raw (Join-Path $Folder 'fullchain.pem')) | Should -BeLike "$((Get-Content -Raw (Join-Path $Folder 'cert.pem')).Trim())*"
        }

        $same = New-AcmeCertificate -DnsName converge.test @oneShot -Path $out -InformationVariable info
        $same.Result | Should -Be 'Unchanged'
        $same.RenewAt | Should -Be $first.RenewAt -Because 'the renewal check of the saved certificate says the same moment'
        "$info" | Should -BeLike "converge.test: Unchanged*renews at*$($first.Thumbprint)*"
        @(Get-AcmeCertificate -StatePath $sp | Where-Object Result -EQ 'Unchanged') | Should -BeNullOrEmpty -Because 'Result describes a run, not the saved certificate'

        Remove-Item -LiteralPath $out -Recurse
        $restored = New-AcmeCertificate -DnsName converge.test @oneShot -Path $out -InformationVariable info
        $restored.Result | Should -Be 'Reexported'
        "$info" | Should -BeLike 'converge.test: Reexported*'
        $restored.Thumbprint | Should -Be $first.Thumbprint
        Assert-Folder $out $first
        Get-PebbleCount 'Added order "' | Should -Be $orders -Because 'a missing export is written from the saved certificate'

        Remove-Item -LiteralPath (Join-Path $out 'chain.pem')
        (New-AcmeCertificate -DnsName converge.test @oneShot -Path $out).Result | Should -Be 'Reexported'
        Test-Path -LiteralPath (Join-Path $out 'chain.pem') | Should -BeTrue

        $moved = Join-Path $TestDrive 'converge-moved'
        (New-AcmeCertificate -DnsName converge.test @oneShot -Path $moved).Result | Should -Be 'Reexported' -Because '-Path changed'
        Assert-Folder $moved $first

        Copy-Item -LiteralPath (Join-Path $TestDrive 'converge-other' 'cert.pem') -Destination (Join-Path $out 'cert.pem') -Force
        (New-AcmeCertificate -DnsName converge.test @oneShot -Path $out).Result | Should -Be 'Reexported' -Because 'cert.pem held another certificate'
        Assert-Folder $out $first
        Copy-Item -LiteralPath (Join-Path $TestDrive 'converge-other' 'key.pem') -Destination (Join-Path $out 'key.pem') -Force
        (New-AcmeCertificate -DnsName converge.test @oneShot -Path $out).Result | Should -Be 'Reexported' -Because 'key.pem held another key'
        Assert-Folder $out $first
        (New-AcmeCertificate -DnsName converge.test @oneShot -Path $out).Result | Should -Be 'Unchanged'

        $pfx = Join-Path $TestDrive 'converge.pfx'
        $password = ConvertTo-SecureString 'converge-pfx' -AsPlainText -Force
        (New-AcmeCertificate -DnsName converge.test @oneShot -PfxPath $pfx -Password $password).Result | Should -Be 'Reexported'
        [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pfx, $password).Thumbprint | Should -Be $first.Thumbprint
        (New-AcmeCertificate -DnsName converge.test @oneShot -PfxPath $pfx -Password $password).Result | Should -Be 'Unchanged'
        $newPassword = ConvertTo-SecureString 'converge-pfx-2' -AsPlainText -Force
        (New-AcmeCertificate -DnsName converge.test @oneShot -PfxPath $pfx -Password $newPassword).Result | Should -Be 'Reexported' -Because 'the PFX did not open with the password given'
        Copy-Item -LiteralPath (Join-Path $TestDrive 'converge-other' 'cert.pem') -Destination $pfx -Force
        (New-AcmeCertificate -DnsName converge.test @oneShot -PfxPath $pfx -Password $newPassword).Result | Should -Be 'Reexported'
        [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pfx, $newPassword).Thumbprint | Should -Be $first.Thumbprint
        $other.Thumbprint | Should -Not -Be $first.Thumbprint
        Get-PebbleCount 'Added order "' | Should -Be $orders -Because 'nothing was ordered to write the files again'
    }

    It 'orders anew when the names differ from the saved certificate''s' {
        $more = New-AcmeCertificate -DnsName once.test, www.once.test, api.once.test @oneShot
        @($more.Names | Sort-Object) | Should -Be @('api.once.test', 'once.test', 'www.once.test')
    }

    It 'refuses a name that is not a safe folder name before any request' {
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        { New-AcmeCertificate -DnsName x.test -Name '../escape' @oneShot -ErrorAction Stop } | Should -Throw -ErrorId 'AcmeInvalidName,*'
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $before
    }

    It 'issues a wildcard through dns-01 script blocks under a file-system-safe name' {
        $challSrv = $pebble.ChallSrvUrl
        $add = { param($RecordName, $Value) Invoke-RestMethod -Method Post -Uri "$challSrv/set-txt" -Body (@{ host = "$RecordName."; value = $Value } | ConvertTo-Json) | Out-Null }.GetNewClosure()
        $remove = { param($RecordName) Invoke-RestMethod -Method Post -Uri "$challSrv/clear-txt" -Body (@{ host = "$RecordName." } | ConvertTo-Json) | Out-Null }.GetNewClosure()
        $wild = New-AcmeCertificate -DnsName '*.wild.test' -StatePath $sp -AcceptTermsOfService @ca -AddRecord $add -RemoveRecord $remove `
            -DnsServer "127.0.0.1:$($pebble.DnsPort)"
        $wild.Name | Should -Be '_.wild.test'
        $wild.Names | Should -Be @('*.wild.test')
        (Get-AcmeCertificate -StatePath $sp -Name '_.wild.test').Thumbprint | Should -Be $wild.Thumbprint
    }

    It 'issues through a dns-01 script file (-DnsScriptPath) whose functions keep their helpers, and leaves nothing in the session' {
        # The contract of about_Acme_Dsc: Add-AcmeDnsRecord and Remove-AcmeDnsRecord take the record name, the value and the identifier.
        $log = Join-Path $TestDrive 'dns-script.log'
        $script = Join-Path $TestDrive 'dns-script.ps1'
        @'
$script:api = '@API@'
function Send-Record([string] $Verb, [hashtable] $Body) { Invoke-RestMethod -Method Post -Uri "$script:api/$Verb" -Body ($Body | ConvertTo-Json) | Out-Null }
function Add-AcmeDnsRecord {
    param($RecordName, $Value, $Identifier)
    Send-Record set-txt @{ host = "$RecordName."; value = $Value }
    Add-Content -LiteralPath '@LOG@' -Value "add $RecordName $Identifier"
}
function Remove-AcmeDnsRecord {
    param($RecordName, $Value, $Identifier)
    Send-Record clear-txt @{ host = "$RecordName." }
    Add-Content -LiteralPath '@LOG@' -Value "remove $RecordName $Identifier"
}
'@.Replace('@API@', $pebble.ChallSrvUrl).Replace('@LOG@', $log) | Set-Content -LiteralPath $script

        $issued = New-AcmeCertificate -DnsName '*.dnsfile.test', dnsfile.test -StatePath $sp -AcceptTermsOfService @ca -DnsScriptPath $script `
            -DnsServer "127.0.0.1:$($pebble.DnsPort)"
        @($issued.Names | Sort-Object) | Should -Be @('*.dnsfile.test', 'dnsfile.test')
        @(Get-Content -LiteralPath $log | Sort-Object) | Should -Be @(
            'add _acme-challenge.dnsfile.test *.dnsfile.test', 'add _acme-challenge.dnsfile.test dnsfile.test',
            'remove _acme-challenge.dnsfile.test *.dnsfile.test', 'remove _acme-challenge.dnsfile.test dnsfile.test')
        Get-Command Add-AcmeDnsRecord, Send-Record -ErrorAction Ignore | Should -BeNullOrEmpty -Because 'the script runs in a module of its own'
    }
}

Describe 'Renewal as a pipeline' {
    BeforeAll {
        $script:sp = Join-Path $TestDrive 'renewal'
        $account = New-AcmeAccount @ca -StatePath $sp -AcceptTermsOfService
        $script:old = $account | New-AcmeOrder -DnsName renew.test | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder -KeyAlgorithm EC384
    }

    It 'renews what Test-AcmeRenewal says is due, with the same names, account and key type, and exports it' {
        $checks = @(Get-AcmeCertificate -StatePath $sp | Test-AcmeRenewal)
        $checks.Count | Should -Be 1
        $checks[0].Due | Should -BeFalse
        $checks[0].Reason | Should -Be 'NotDue' -Because 'Pebble''s five-year certificate has most of its life left'
        $checks[0].RenewAt | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddYears(3))

        $out = Join-Path $TestDrive 'renewed'
        $files = Get-AcmeCertificate -StatePath $sp | Test-AcmeRenewal -Force | Where-Object Due | New-AcmeOrder |
            Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder | Export-AcmeCertificate -Path $out

        @($files.Name | Sort-Object) | Should -Be @('cert.pem', 'chain.pem', 'fullchain.pem', 'key.pem')
        $new = Get-AcmeCertificate -StatePath $sp -Name renew.test
        $new.Thumbprint | Should -Not -Be $old.Thumbprint
        $new.Key.Name | Should -Be 'EC384' -Because 'a renewal keeps the key type'
        $new.Order.Account.Location | Should -Be $old.Order.Account.Location
        $new.Names | Should -Be @('renew.test')
        $new.Order.Replaces | Should -BeNullOrEmpty -Because 'Pebble 2.4 has no ARI, so the order does not say what it replaces'
        ([System.Security.Cryptography.X509Certificates.X509Certificate2]::new((Join-Path $out 'cert.pem'))).Thumbprint | Should -Be $new.Thumbprint
    }

    It 'says Revoked for a certificate revoked through the module, and Forced with -Force' {
        $current = Get-AcmeCertificate -StatePath $sp -Name renew.test
        $current | Revoke-AcmeCertificate -Confirm:$false
        $check = Get-AcmeCertificate -StatePath $sp -Name renew.test | Test-AcmeRenewal
        $check.Due | Should -BeTrue
        $check.Reason | Should -Be 'Revoked'
        (Get-AcmeCertificate -StatePath $sp -Name renew.test).RevokedAt | Should -Not -BeNullOrEmpty
        ($old | Test-AcmeRenewal -Force).Reason | Should -Be 'Forced'
    }

    It 'decides a certificate from a file by the lifetime rule, with no server to ask' {
        $file = Join-Path $TestDrive 'from-file.pem'
        Set-Content -LiteralPath $file -Value $old.Pem
        $check = Test-AcmeRenewal -CertificatePath $file
        $check.Name | Should -BeNullOrEmpty
        $check.Reason | Should -Be 'NotDue'
    }
}

Describe 'Key protection and removal' {
    BeforeAll {
        $script:sp = Join-Path $TestDrive 'protected'
    }

    It 'encrypts saved keys with a passphrase, and reads them only with it' {
        $passphrase = ConvertTo-SecureString 'state-passphrase-9f2' -AsPlainText -Force
        $account = New-AcmeAccount @ca -StatePath $sp -Name locked -KeyPassphrase $passphrase -AcceptTermsOfService
        $keyFile = Get-StateFile $sp 'account-key.pem'
        (Get-Content -Raw $keyFile[0].FullName) | Should -Match '^-----BEGIN ENCRYPTED PRIVATE KEY-----'
        (Get-Content -Raw $keyFile[0].FullName) | Should -Not -Match 'state-passphrase'

        $err = $null
        Get-AcmeAccount -StatePath $sp -Name locked -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeKeyPasswordRequired,*'
        $err[0].ErrorDetails.RecommendedAction | Should -BeLike '*ACME_KEY_PASSPHRASE*'

        $env:ACME_KEY_PASSPHRASE = 'state-passphrase-9f2'
        try {
            (Get-AcmeAccount -StatePath $sp -Name locked).KeyThumbprint | Should -Be $account.KeyThumbprint
        } finally {
            Remove-Item Env:ACME_KEY_PASSPHRASE
        }
    }

    It 'waits for an item another process holds, then fails with AcmeStateLocked' {
        $account = New-AcmeAccount @ca -StatePath $sp -AcceptTermsOfService
        $null = $account | New-AcmeOrder -DnsName held.test
        $lock = Get-StateFile $sp '.lock' | Where-Object { $_.Directory.Name -eq 'held.test' }
        $holder = [System.IO.FileStream]::new($lock[0].FullName, 'Open', 'ReadWrite', 'None')
        $env:ACME_STATE_LOCK_TIMEOUT = '1'
        try {
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $err = $null
            Get-AcmeOrder -StatePath $sp -Name held.test | Remove-AcmeOrder -Force -ErrorVariable err -ErrorAction SilentlyContinue
            $watch.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.9 -Because 'it waited for the holder first'
            $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeStateLocked,*'
            $err[0].CategoryInfo.Category | Should -Be 'ResourceBusy'
            $err[0].Exception.Message | Should -BeLike '*held.test*'
        } finally {
            Remove-Item Env:ACME_STATE_LOCK_TIMEOUT
            $holder.Dispose()
        }
        Get-AcmeOrder -StatePath $sp -Name held.test | Should -Not -BeNullOrEmpty -Because 'nothing was removed'
    }

    It 'removes an order and a certificate only when asked, and -WhatIf removes nothing' {
        $account = Get-AcmeAccount -StatePath $sp -Name default
        $certificate = $account | New-AcmeOrder -DnsName gone.test | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder
        $null = $account | New-AcmeOrder -DnsName pending-gone.test

        Get-AcmeOrder -StatePath $sp -Name pending-gone.test | Remove-AcmeOrder -WhatIf
        Get-AcmeOrder -StatePath $sp -Name pending-gone.test | Should -Not -BeNullOrEmpty
        Get-AcmeOrder -StatePath $sp -Name pending-gone.test | Remove-AcmeOrder -Confirm:$false
        Get-AcmeOrder -StatePath $sp -Name 'pending-gone*' | Should -BeNullOrEmpty

        $certificate | Remove-AcmeCertificate -WhatIf
        Get-AcmeCertificate -StatePath $sp -Name gone.test | Should -Not -BeNullOrEmpty
        (Get-AcmeCertificate -StatePath $sp -Name gone.test | Remove-AcmeCertificate -Confirm:$false -PassThru).Thumbprint | Should -Be $certificate.Thumbprint
        Get-AcmeCertificate -StatePath $sp -Name 'gone*' | Should -BeNullOrEmpty
        Get-AcmeOrder -StatePath $sp -Name 'gone*' | Should -BeNullOrEmpty
        Get-AcmeAccount -StatePath $sp -Name default | Should -Not -BeNullOrEmpty -Because 'the account stays'
        Assert-StateIntact $sp
    }
}

Describe 'Two processes issuing into one folder at once' {
    It 'gives one account, one certificate per name, and an intact folder' {
        $sp = Join-Path $TestDrive 'concurrent'
        $orders = Get-PebbleCount 'Added order "'
        $common = @{ ACME_STATE_PATH = $sp; T_DIR = $pebble.Directory; T_ROOT = $pebble.ApiRootPath }
        $issue = 'Import-Module Acme; $ErrorActionPreference = ''Stop''; $c = New-AcmeCertificate -DnsName same.test -Server $env:T_DIR -TrustedRootCertificate $env:T_ROOT -AcceptTermsOfService {0}; $c.Thumbprint'
        $children = @(
            Start-TestChild ($issue -f '-HttpPort $env:T_PORT') ($common + @{ T_PORT = $pebble.HttpPort })
            Start-TestChild ($issue -f '-TlsAlpnPort $env:T_PORT') ($common + @{ T_PORT = $pebble.TlsPort })
            Start-TestChild (($issue -replace 'same\.test', 'other.test') -f (
                    '-AddRecord { param($RecordName, $Value) Invoke-RestMethod -Method Post -Uri "$env:T_CHALL/set-txt" -Body (@{ host = "$RecordName."; value = $Value } | ConvertTo-Json) | Out-Null } ' +
                    '-RemoveRecord { param($RecordName) Invoke-RestMethod -Method Post -Uri "$env:T_CHALL/clear-txt" -Body (@{ host = "$RecordName." } | ConvertTo-Json) | Out-Null } ' +
                    '-DnsServer $env:T_DNS')) ($common + @{ T_CHALL = $pebble.ChallSrvUrl; T_DNS = "127.0.0.1:$($pebble.DnsPort)" })
        )
        $results = @($children | ForEach-Object { Wait-TestChild $_ })
        foreach ($r in $results) { $r.ExitCode | Should -Be 0 -Because $r.Err }

        $same = @($results[0..1] | ForEach-Object { $_.Out.Trim() })
        $same[0] | Should -Match '^[0-9A-F]{40}$'
        $same[1] | Should -Be $same[0] -Because 'the second process waited for the first, then found its certificate'
        (Get-AcmeCertificate -StatePath $sp -Name same.test).Thumbprint | Should -Be $same[0]
        (Get-AcmeCertificate -StatePath $sp -Name other.test).Thumbprint | Should -Be $results[2].Out.Trim()
        Get-PebbleCount 'Added order "' | Should -Be ($orders + 2)
        @(Get-AcmeAccount -StatePath $sp).Name | Should -Be @('default') -Because 'the processes created the account once'
        @(Get-StateFile $sp 'fullchain.pem').Count | Should -Be 2
        Assert-StateIntact $sp
    }
}

Describe 'PFX files' {
    BeforeAll {
        Install-TestPackage @{ openssl = 'openssl' }
        $script:certificate = New-TestAccount $pebble | New-AcmeOrder -DnsName pfx-state.test | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder
        $script:password = ConvertTo-SecureString 'openssl-pfx-password' -AsPlainText -Force
    }

    It 'opens with openssl pkcs12 and the password: AES-256 under PBKDF2 by default, 3DES with -LegacyPfxEncryption' -ForEach @(
        @{ Legacy = $false; Algorithm = 'AES-256-CBC' }
        @{ Legacy = $true; Algorithm = '3-KeyTripleDES-CBC' }
    ) {
        $file = Join-Path $TestDrive "openssl-$Legacy.pfx"
        $certificate | Export-AcmeCertificate -PfxPath $file -Password $password -LegacyPfxEncryption:$Legacy | Out-Null
        $info = & openssl pkcs12 -in $file -passin pass:openssl-pfx-password -info -nodes 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $info
        $info | Should -Match ([regex]::Escape($Algorithm))
        $info | Should -Match 'subject=CN\s*=\s*pfx-state\.test'
        $info | Should -Match 'BEGIN PRIVATE KEY'
        & openssl pkcs12 -in $file -passin pass:wrong -info -nodes 2>&1 | Out-Null
        $LASTEXITCODE | Should -Not -Be 0
    }

    It 'says the certificate store is Windows-only instead of pretending' -Skip:$IsWindows {
        $err = $null
        $files = $certificate | Export-AcmeCertificate -Path (Join-Path $TestDrive 'store-pem') -CertStoreLocation Cert:\LocalMachine\My -ErrorVariable err -ErrorAction SilentlyContinue
        @($files).Count | Should -Be 4 -Because 'the other targets are still written'
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeCertificateStoreUnavailable,*'
        $err[0].CategoryInfo.Category | Should -Be 'NotImplemented'
        { $certificate | Export-AcmeCertificate -CertStoreLocation 'Cert:\Nowhere' -ErrorAction Stop } | Should -Throw -ErrorId 'AcmeInvalidCertStoreLocation,*'
    }
}

Describe 'The runbook examples/Update-AcmeCertificates.ps1' {
    BeforeAll {
        # Certificates valid for 30 seconds: due after 15 (half-life, under 10 days), so the test can watch one fall due.
        $script:shortLived = Start-TestPebble -CertificateValidityPeriod 30
        $script:sp = Join-Path $TestDrive 'runbook'
        $script:exportPath = Join-Path $TestDrive 'runbook-export'

        function Invoke-Runbook([string[]] $Certificate = @('rb.test,www.rb.test'), [switch] $Force) {
            $resultFile = Join-Path $TestDrive "runbook-$([guid]::NewGuid().ToString('N')).json"
            $result = Invoke-TestChild -Environment @{
                T_RESULT = $resultFile
                T_RUNBOOK = $runbook; T_STATE = $sp; T_DIR = $shortLived.Directory; T_ROOT = $shortLived.ApiRootPath; T_PORT = $shortLived.HttpPort
                T_EXPORT = $exportPath; T_CERTS = ($Certificate -join ';'); T_FORCE = [string][bool]$Force
            } -Script {
                $results = & $env:T_RUNBOOK -StatePath $env:T_STATE -Server $env:T_DIR -TrustedRootCertificate $env:T_ROOT -HttpPort $env:T_PORT `
                    -Certificate @($env:T_CERTS -split ';' | Where-Object { $_ }) -AcceptTermsOfService -ExportPath $env:T_EXPORT -Force:($env:T_FORCE -eq 'True')
                $code = $LASTEXITCODE
                ConvertTo-Json -InputObject @($results | Select-Object Name, Action, Reason, NotAfter, RenewAt, Thumbprint, Error) -EnumsAsStrings |
                    Set-Content -LiteralPath $env:T_RESULT
                exit $code
            }.ToString()
            Test-Path $resultFile | Should -BeTrue -Because "the runbook wrote its results (output: $($result.Out) $($result.Err))"
            [pscustomobject]@{ ExitCode = $result.ExitCode; Results = @(Get-Content -Raw $resultFile | ConvertFrom-Json); Output = $result.Out; Err = $result.Err }
        }
    }

    AfterAll {
        if ($script:shortLived) { Stop-TestPebble $script:shortLived }
    }

    It 'issues with pwsh -NonInteractive, does nothing the second time, and renews the certificate once it is due' {
        $first = Invoke-Runbook
        $first.ExitCode | Should -Be 0 -Because $first.Err
        $first.Results.Count | Should -Be 1
        $first.Results[0].Action | Should -Be 'Issued'
        $issued = $first.Results[0].Thumbprint
        ([System.Security.Cryptography.X509Certificates.X509Certificate2]::new((Join-Path $exportPath 'rb.test/cert.pem'))).Thumbprint |
            Should -Be $issued

        $second = Invoke-Runbook
        $second.ExitCode | Should -Be 0 -Because $second.Err
        $second.Results[0].Action | Should -Be 'NotDue'
        $second.Results[0].Thumbprint | Should -Be $issued

        # Wait until the lifetime rule makes it due, then run again.
        $due = (Get-AcmeCertificate -StatePath $sp -Name rb.test | Test-AcmeRenewal).RenewAt
        $wait = ($due - [DateTimeOffset]::UtcNow).TotalSeconds + 1
        if ($wait -gt 0) { Start-Sleep -Seconds $wait }
        $third = Invoke-Runbook -Certificate @()
        $third.ExitCode | Should -Be 0 -Because $third.Err
        $third.Results.Count | Should -Be 1
        $third.Results[0].Action | Should -Be 'Renewed'
        $third.Results[0].Reason | Should -BeIn 'LifetimeFraction', 'Expired'
        $third.Results[0].Thumbprint | Should -Not -Be $issued
        ([System.Security.Cryptography.X509Certificates.X509Certificate2]::new((Join-Path $exportPath 'rb.test/cert.pem'))).Thumbprint |
            Should -Be $third.Results[0].Thumbprint
        (Get-AcmeCertificate -StatePath $sp -Name rb.test).Thumbprint | Should -Be $third.Results[0].Thumbprint
        Assert-StateIntact $sp
    }

    It 'exits 1 and reports the certificate that failed, handling the others' {
        $run = Invoke-Runbook -Certificate 'blocked.test', 'ok.test'
        $run.ExitCode | Should -Be 1
        $run.Output | Should -Match 'WARNING: 1 certificate\(s\) could not be issued or renewed'
        $failed = @($run.Results | Where-Object Action -EQ 'Failed')
        $failed.Count | Should -Be 1
        $failed[0].Name | Should -Be 'blocked.test'
        $failed[0].Error | Should -BeLike 'AcmeRejectedIdentifier,*'
        ($run.Results | Where-Object Name -EQ 'ok.test').Action | Should -Be 'Issued'
    }
}
