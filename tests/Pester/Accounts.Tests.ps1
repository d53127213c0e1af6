#Requires -Version 7.2
# The account lifecycle against a real Pebble (default 5% bad-nonce rejection): directory, key
# export and lookup, contacts, key rollover, deactivation.
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:pebble = Start-TestPebble
    $script:ca = @{ Server = $pebble.Directory; TrustedRootCertificate = $pebble.ApiRootPath }

    function Get-Failure([scriptblock] $Run) {
        $all = @(try { & $Run 2>&1 } catch { $_ })
        $errors = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] }) | Should -BeNullOrEmpty
        $errors | Should -HaveCount 1
        $errors[0]
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'Get-AcmeDirectory' {
    It 'shows the directory with its meta' {
        $d = Get-AcmeDirectory @ca
        $d | Should -BeOfType ([Acme.Protocol.Model.AcmeDirectory])
        $d.Url.AbsoluteUri | Should -Be $pebble.Directory
        $d.TermsOfService.AbsoluteUri | Should -BeLike 'data:text/plain,*'
        $d.ExternalAccountRequired | Should -BeFalse
        $d.KeyChange | Should -Not -BeNullOrEmpty
        $d.RevokeCert | Should -Not -BeNullOrEmpty
        if ($pebble.Version -eq '2.4.0') { $d.RenewalInfo | Should -BeNullOrEmpty -Because 'Pebble 2.4 predates ARI' } else { $d.RenewalInfo | Should -Not -BeNullOrEmpty }
        $d.Profiles.Count | Should -Be $(if ($pebble.Version -eq '2.4.0') { 0 } else { $pebble.Profiles.Count }) -Because 'Pebble 2.4 predates profiles; 2.10.1 has the harness''s two'
        ($d | Format-Table | Out-String) | Should -Match 'ExternalAccountRequired'
    }

    It 'takes the server by position and refuses an http URL' {
        (Get-AcmeDirectory $pebble.Directory -TrustedRootCertificate $pebble.ApiRootPath).NewOrder | Should -Not -BeNullOrEmpty
        $e = Get-Failure { Get-AcmeDirectory -Server 'http://ca.example/dir' }
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeInvalidServer,*'
    }
}

Describe 'Account keys move between machines' {
    BeforeAll {
        $script:account = New-TestAccount $pebble -Contact 'keys@acme.test'
    }

    It 'exports the key owner-only and Get-AcmeAccount finds the same account with it' {
        $path = Join-Path $TestDrive 'account.pem'
        $file = $account | Export-AcmeAccountKey -Path $path
        $file | Should -BeOfType ([System.IO.FileInfo])
        (Get-Content -Raw $path) | Should -Match '^-----BEGIN PRIVATE KEY-----'
        if (-not $IsWindows) { [int][System.IO.File]::GetUnixFileMode($path) | Should -Be 0x180 }

        $found = Get-AcmeAccount @ca -KeyPath $path
        $found.Location | Should -Be $account.Location
        $found.KeyThumbprint | Should -Be $account.KeyThumbprint
        $found.Contact | Should -Be @('mailto:keys@acme.test')
    }

    It 'exports an encrypted key that only its passphrase opens' {
        $path = Join-Path $TestDrive 'account-encrypted.pem'
        $password = ConvertTo-SecureString 'account-key-passphrase' -AsPlainText -Force
        $account | Export-AcmeAccountKey -Path $path -Password $password | Out-Null
        (Get-Content -Raw $path) | Should -Match '^-----BEGIN ENCRYPTED PRIVATE KEY-----'

        (Get-Failure { Get-AcmeAccount @ca -KeyPath $path }).FullyQualifiedErrorId | Should -BeLike 'AcmeKeyPasswordRequired,*'
        $wrong = Get-Failure { Get-AcmeAccount @ca -KeyPath $path -KeyPassword (ConvertTo-SecureString 'nope' -AsPlainText -Force) }
        $wrong.FullyQualifiedErrorId | Should -BeLike 'AcmeKeyPasswordIncorrect,*'
        $wrong.CategoryInfo.Category | Should -Be 'AuthenticationError'
        (Get-AcmeAccount @ca -KeyPath $path -KeyPassword $password).Location | Should -Be $account.Location
    }

    It 'does not overwrite a key file without -Force' {
        $path = Join-Path $TestDrive 'taken.pem'
        Set-Content -LiteralPath $path -Value 'someone else''s key'
        $e = Get-Failure { $account | Export-AcmeAccountKey -Path $path }
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeFileExists,*'
        $e.CategoryInfo.Category | Should -Be 'ResourceExists'
        (Get-Content -Raw $path) | Should -BeLike 'someone else*'
        $account | Export-AcmeAccountKey -Path $path -Force | Out-Null
        (Get-Content -Raw $path) | Should -Match 'BEGIN PRIVATE KEY'
    }

    It 'writes no key material to any stream' {
        $path = Join-Path $TestDrive 'quiet.pem'
        $streams = $account | Export-AcmeAccountKey -Path $path -Verbose -Debug *>&1 | Out-String
        $body = (Get-Content $path | Where-Object { $_ -notmatch '^-----' }) -join ''
        $streams | Should -Not -Match 'PRIVATE KEY'
        $streams.Replace("`n", '').Contains($body.Substring(0, 40)) | Should -BeFalse
    }

    It 'says when no account exists for a key' {
        $path = Join-Path $TestDrive 'stranger.pem'
        Set-Content -LiteralPath $path -Value ([Acme.Protocol.Crypto.AcmeKey]::Generate('EC256').ExportPkcs8Pem())
        $e = Get-Failure { Get-AcmeAccount @ca -KeyPath $path }
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeAccountDoesNotExist,*'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $e.ErrorDetails.RecommendedAction | Should -BeLike '*New-AcmeAccount*'
    }

    It 'names a missing key file' {
        $e = Get-Failure { Get-AcmeAccount @ca -KeyPath (Join-Path $TestDrive 'missing.pem') }
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeKeyFileNotFound,*'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'New-AcmeAccount -KeyPath creates an account with a given key, and returns the existing one the second time' {
        $path = Join-Path $TestDrive 'given.pem'
        $key = [Acme.Protocol.Crypto.AcmeKey]::Generate('EC384')
        Set-Content -LiteralPath $path -Value $key.ExportPkcs8Pem()
        $first = New-AcmeAccount @ca -KeyPath $path -AcceptTermsOfService -Contact 'given@acme.test'
        $first.KeyThumbprint | Should -Be $key.Thumbprint
        $first.Key.Name | Should -Be 'EC384'
        $again = New-AcmeAccount @ca -KeyPath $path -AcceptTermsOfService
        $again.Location | Should -Be $first.Location
    }
}

Describe 'Set-AcmeAccount' {
    BeforeAll {
        $script:account = New-TestAccount $pebble -Contact 'before@acme.test'
        $script:keyPath = Join-Path $TestDrive 'contacts.pem'
        $account | Export-AcmeAccountKey -Path $keyPath | Out-Null
    }

    It 'replaces the contacts, and the CA reads them back' {
        $result = $account | Set-AcmeAccount -Contact 'after@acme.test', 'mailto:ops@acme.test' -PassThru
        $result | Should -Be $account
        $account.Contact | Should -Be @('mailto:after@acme.test', 'mailto:ops@acme.test')
        (Get-AcmeAccount @ca -KeyPath $keyPath).Contact | Should -Be @('mailto:after@acme.test', 'mailto:ops@acme.test')
    }

    It 'removes every contact with an empty list' {
        $account | Set-AcmeAccount -Contact @() | Should -BeNullOrEmpty
        (Get-AcmeAccount @ca -KeyPath $keyPath).Contact | Should -BeNullOrEmpty
    }

    It 'refuses a malformed contact before any request' {
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        { $account | Set-AcmeAccount -Contact 'not an address' -ErrorAction Stop } | Should -Throw -ErrorId 'AcmeInvalidContact,*'
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $before
    }
}

Describe 'Update-AcmeAccountKey' {
    BeforeAll {
        $script:old = New-TestAccount $pebble -Contact 'rollover@acme.test'
        $script:oldPath = Join-Path $TestDrive 'old.pem'
        $old | Export-AcmeAccountKey -Path $oldPath | Out-Null
        $script:newPath = Join-Path $TestDrive 'new.pem'
        $script:new = $old | Update-AcmeAccountKey -NewKeyAlgorithm EC384 -NewKeyExportPath $newPath -Confirm:$false
    }

    It 'returns the same account with a new key, saved to -NewKeyExportPath' {
        $new.Location | Should -Be $old.Location
        $new.KeyThumbprint | Should -Not -Be $old.KeyThumbprint
        $new.Key.Name | Should -Be 'EC384'
        if (-not $IsWindows) { [int][System.IO.File]::GetUnixFileMode($newPath) | Should -Be 0x180 }
        (Get-AcmeAccount @ca -KeyPath $newPath).Location | Should -Be $old.Location
    }

    It 'orders with the new key and is refused with the old one' {
        ($new | New-AcmeOrder -DnsName rolled.test).Status | Should -Be 'Pending'
        $e = Get-Failure { $old | New-AcmeOrder -DnsName stale.test }
        # Pebble 2.4 answers malformed, 2.10.1 badSignatureAlgorithm: either way the old key is refused.
        $expected = if ($pebble.Version -eq '2.4.0') { 'AcmeMalformed,*' } else { 'AcmeBadSignatureAlgorithm,*' }
        $e.FullyQualifiedErrorId | Should -BeLike $expected -Because 'Pebble cannot verify the old key''s signature for this account'
        (Get-Failure { Get-AcmeAccount @ca -KeyPath $oldPath }).FullyQualifiedErrorId | Should -BeLike 'AcmeAccountDoesNotExist,*'
    }

    It 'rolls over to an existing key file with -NewKeyPath' {
        $path = Join-Path $TestDrive 'third.pem'
        Set-Content -LiteralPath $path -Value ([Acme.Protocol.Crypto.AcmeKey]::Generate('RSA2048').ExportPkcs8Pem())
        $third = $new | Update-AcmeAccountKey -NewKeyPath $path -Confirm:$false
        $third.Key.Name | Should -Be 'RSA2048'
        ($third | New-AcmeOrder -DnsName third.test).Status | Should -Be 'Pending'
    }

    It 'warns that a generated key not saved anywhere lives only in the session' {
        # An account found by its key file is not in the state folder, so nothing saves its new key.
        $keyFile = Join-Path $TestDrive 'unsaved.pem'
        New-TestAccount $pebble | Export-AcmeAccountKey -Path $keyFile | Out-Null
        $account = Get-AcmeAccount @ca -KeyPath $keyFile
        $account.Name | Should -BeNullOrEmpty
        $warnings = $null
        $rolled = $account | Update-AcmeAccountKey -Confirm:$false -WarningVariable warnings -WarningAction SilentlyContinue
        $rolled.KeyThumbprint | Should -Not -Be $account.KeyThumbprint
        $warnings | Should -HaveCount 1
        "$($warnings[0])" | Should -BeLike '*Export-AcmeAccountKey*'
    }

    It 'refuses a rollover to a key that already belongs to an account' {
        $other = New-TestAccount $pebble
        $otherPath = Join-Path $TestDrive 'other.pem'
        $other | Export-AcmeAccountKey -Path $otherPath | Out-Null
        $account = New-TestAccount $pebble
        $e = Get-Failure { $account | Update-AcmeAccountKey -NewKeyPath $otherPath -Confirm:$false }
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeAccountKeyInUse,*'
        ($account | New-AcmeOrder -DnsName still-mine.test).Status | Should -Be 'Pending'
    }
}

Describe 'Disable-AcmeAccount' {
    It 'deactivates the account, and the CA refuses it afterwards' {
        $account = New-TestAccount $pebble
        $path = Join-Path $TestDrive 'deactivated.pem'
        $account | Export-AcmeAccountKey -Path $path | Out-Null
        ($account | Disable-AcmeAccount -Confirm:$false -PassThru).Status | Should -Be 'Deactivated'

        $e = Get-Failure { $account | New-AcmeOrder -DnsName after-deactivation.test }
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeUnauthorized,*'
        $e.CategoryInfo.Category | Should -Be 'PermissionDenied'
        $e.ErrorDetails.Message | Should -BeLike '*deactivated*'
        (Get-Failure { Get-AcmeAccount @ca -KeyPath $path }).ErrorDetails.Message | Should -BeLike '*deactivated*'
    }
}

Describe 'Account cmdlets with -WhatIf' {
    BeforeAll {
        $script:account = New-TestAccount $pebble
        $script:keyFile = Join-Path $TestDrive 'whatif-key.pem'
        Set-Content -LiteralPath $keyFile -Value ([Acme.Protocol.Crypto.AcmeKey]::Generate('EC256').ExportPkcs8Pem())
    }

    It '<Name> -WhatIf sends no request and changes nothing' -ForEach @(
        @{ Name = 'Set-AcmeAccount'; Run = { $account | Set-AcmeAccount -Contact 'whatif@acme.test' -WhatIf } }
        @{ Name = 'Update-AcmeAccountKey'; Run = { $account | Update-AcmeAccountKey -WhatIf } }
        @{ Name = 'Disable-AcmeAccount'; Run = { $account | Disable-AcmeAccount -WhatIf } }
        @{ Name = 'New-AcmeAccount -KeyPath'; Run = { New-AcmeAccount @ca -KeyPath $keyFile -AcceptTermsOfService -WhatIf } }
    ) {
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        & $Run | Should -BeNullOrEmpty
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $before
        $account.Status | Should -Be 'Valid'
        $account.Contact | Should -BeNullOrEmpty
    }

    It 'Export-AcmeAccountKey -WhatIf writes no file' {
        $path = Join-Path $TestDrive 'whatif-export.pem'
        $account | Export-AcmeAccountKey -Path $path -WhatIf | Should -BeNullOrEmpty
        Test-Path $path | Should -BeFalse
    }
}

Describe 'Reruns and the saved account' {
    BeforeAll {
        $script:rerunState = Join-Path $TestDrive 'reruns'
        $script:rerun = @{ StatePath = $rerunState; AcceptTermsOfService = $true } + $ca
    }

    It 'a second run of the QuickStart makes no new account' {
        $folder = Join-Path $TestDrive 'quickstart'
        $null = New-Item -ItemType Directory $folder
        $savedState = $env:ACME_STATE_PATH
        $env:ACME_STATE_PATH = Join-Path $folder '.acme-state'
        $global:PSDefaultParameterValues['*-Acme*:TrustedRootCertificate'] = $pebble.ApiRootPath
        Push-Location $folder
        try {
            $quickStart = Join-Path $PSScriptRoot '..' '..' 'examples' 'QuickStart.ps1'
            $first = @(& $quickStart -Server $pebble.Directory -HttpPort $pebble.HttpPort)
            $firstAccounts = @(Get-AcmeAccount)
            $second = @(& $quickStart -Server $pebble.Directory -HttpPort $pebble.HttpPort)
            $accounts = @(Get-AcmeAccount)
        } finally {
            Pop-Location
            $global:PSDefaultParameterValues.Remove('*-Acme*:TrustedRootCertificate')
            $env:ACME_STATE_PATH = $savedState
        }

        $first.Count | Should -Be 4
        $second.Count | Should -Be 4 -Because 'the second run still issues and exports'
        $firstAccounts.Count | Should -Be 1
        $accounts.Count | Should -Be 1 -Because 'the rerun found the account with the same contact'
        $accounts[0].Name | Should -Be 'default'
        $accounts[0].Location | Should -Be $firstAccounts[0].Location
    }

    It 'New-AcmeAccount returns the saved account with the same contacts or key, saying so; -Force and -Name make another' {
        $first = New-AcmeAccount @rerun -Contact rerun@acme.test
        $requests = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        $again = New-AcmeAccount @rerun -Contact 'mailto:rerun@acme.test' -InformationVariable info
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $requests -Because 'the saved account is returned without asking the CA'
        $again.Name | Should -Be $first.Name
        $again.Location | Should -Be $first.Location
        "$info" | Should -BeLike "The account '$($first.Name)'*same contacts*-Force or -Name*"

        $keyFile = Join-Path $TestDrive 'rerun-key.pem'
        $null = $first | Export-AcmeAccountKey -Path $keyFile -Confirm:$false
        (New-AcmeAccount @rerun -KeyPath $keyFile -Contact other@acme.test).Location | Should -Be $first.Location -Because 'the same key is the same account'

        (New-AcmeAccount @rerun -Contact rerun@acme.test -KeyAlgorithm RSA2048).Name | Should -Be 'default-2' -Because 'another key type asks for another account'
        (New-AcmeAccount @rerun -Contact rerun@acme.test -Force).Name | Should -Be 'default-3'
        (New-AcmeAccount @rerun -Contact rerun@acme.test -Name second).Name | Should -Be 'second'
        (New-AcmeAccount @rerun -Contact another@acme.test).Name | Should -Be 'default-4' -Because 'other contacts are another account'
        @(Get-AcmeAccount -StatePath $rerunState).Count | Should -Be 5
    }

    It 'New-AcmeOrder without an account orders with the server''s default account and says which' {
        $verbose = New-AcmeOrder -DnsName default-account.test -Server $pebble.Directory -StatePath $rerunState -Verbose 4>&1
        $order = @($verbose | Where-Object { $_ -is [Acme.Protocol.Model.AcmeOrder] })
        $order.Count | Should -Be 1
        $order[0].Account.Name | Should -Be 'default'
        "$(@($verbose | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }))" | Should -BeLike "*Using the saved account 'default'*$rerunState*"

        $env:ACME_SERVER, $saved = $pebble.Directory, $env:ACME_SERVER
        try {
            (New-AcmeOrder -DnsName env-account.test -StatePath $rerunState).Account.Name | Should -Be 'default' -Because '$env:ACME_SERVER names the server'
        } finally {
            $env:ACME_SERVER = $saved
        }
    }

    It 'New-AcmeOrder without an account stops with AcmeNoAccount naming New-AcmeAccount when none is saved, or several and no default' {
        $empty = Join-Path $TestDrive 'no-accounts'
        $err = Get-Failure { New-AcmeOrder -DnsName none.test -Server $pebble.Directory -StatePath $empty }
        $err.FullyQualifiedErrorId | Should -BeLike 'AcmeNoAccount,*'
        $err.Exception.Message | Should -BeLike "*No account for*$empty*New-AcmeAccount*"

        $several = Join-Path $TestDrive 'several-accounts'
        $null = New-AcmeAccount -StatePath $several -Name one -AcceptTermsOfService @ca
        $null = New-AcmeAccount -StatePath $several -Name two -AcceptTermsOfService @ca
        $err = Get-Failure { New-AcmeOrder -DnsName several.test -Server $pebble.Directory -StatePath $several }
        $err.FullyQualifiedErrorId | Should -BeLike 'AcmeNoAccount,*'
        $err.Exception.Message | Should -BeLike "*2 accounts*(one, two)*Get-AcmeAccount -Name*"
    }

    Context 'the other cmdlets that need an account, with none piped' {
        BeforeEach {
            # A fresh state folder per test: each changes (or ends) its account.
            $script:own = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
            $script:saved = New-AcmeAccount -StatePath $own -Contact own@acme.test -AcceptTermsOfService @ca
            $script:here = @{ Server = $pebble.Directory; StatePath = $own }
        }

        It 'Set-AcmeAccount -Contact changes the default account and says which' {
            $verbose = Set-AcmeAccount @here -Contact changed@acme.test -PassThru -Verbose 4>&1
            $account = @($verbose | Where-Object { $_ -is [Acme.Protocol.Model.AcmeAccount] })
            $account.Count | Should -Be 1
            $account[0].Location | Should -Be $saved.Location
            "$(@($verbose | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }))" | Should -BeLike "*Using the saved account 'default'*$own*"
            (Get-AcmeAccount -StatePath $own).Contact | Should -Be @('mailto:changed@acme.test')
        }

        It 'Export-AcmeAccountKey exports the default account''s key' {
            $file = Join-Path $TestDrive "$([guid]::NewGuid().ToString('n')).pem"
            $null = Export-AcmeAccountKey @here -Path $file -Confirm:$false
            (Get-AcmeAccount -KeyPath $file @ca).Location | Should -Be $saved.Location -Because 'the file holds the saved account''s key'
        }

        It 'Export-AcmeAccountKey takes the server from $env:ACME_SERVER' {
            $file = Join-Path $TestDrive "$([guid]::NewGuid().ToString('n')).pem"
            $env:ACME_SERVER, $before = $pebble.Directory, $env:ACME_SERVER
            try {
                $null = Export-AcmeAccountKey -StatePath $own -Path $file -Confirm:$false
            } finally {
                $env:ACME_SERVER = $before
            }
            (Get-AcmeAccount -KeyPath $file @ca).Location | Should -Be $saved.Location
        }

        It 'Update-AcmeAccountKey -Confirm:$false rolls the default account over to a new key' {
            $rolled = Update-AcmeAccountKey @here -Confirm:$false -WarningAction SilentlyContinue
            $rolled.Location | Should -Be $saved.Location
            $rolled.Key.Thumbprint | Should -Not -Be $saved.Key.Thumbprint
            (Get-AcmeAccount -StatePath $own).Key.Thumbprint | Should -Be $rolled.Key.Thumbprint -Because 'the saved account has the new key'
        }

        It 'Disable-AcmeAccount -Confirm:$false deactivates the default account' {
            Disable-AcmeAccount @here -Confirm:$false
            (Get-AcmeAccount -StatePath $own).Status | Should -Be 'Deactivated'
            $err = Get-Failure { $saved | Set-AcmeAccount -Contact after@acme.test }
            $err.FullyQualifiedErrorId | Should -Not -BeNullOrEmpty -Because 'the CA refuses the deactivated account'
        }

        It 'Disable-AcmeAccount and Update-AcmeAccountKey still ask (ConfirmImpact High), and -WhatIf changes nothing' {
            (Get-Command Disable-AcmeAccount).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'High'
            (Get-Command Update-AcmeAccountKey).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'High'
            Disable-AcmeAccount @here -WhatIf
            $null = Update-AcmeAccountKey @here -WhatIf
            $after = Get-AcmeAccount -StatePath $own
            $after.Status | Should -Be 'Valid'
            $after.Key.Thumbprint | Should -Be $saved.Key.Thumbprint
        }

        It '<Name> with none saved stops with AcmeNoAccount' -TestCases @(
            @{ Name = 'Set-AcmeAccount'; Invoke = { param($p) Set-AcmeAccount @p -Contact x@acme.test } }
            @{ Name = 'Export-AcmeAccountKey'; Invoke = { param($p) Export-AcmeAccountKey @p -Path (Join-Path $TestDrive 'none.pem') -Confirm:$false } }
            @{ Name = 'Update-AcmeAccountKey'; Invoke = { param($p) Update-AcmeAccountKey @p -Confirm:$false } }
            @{ Name = 'Disable-AcmeAccount'; Invoke = { param($p) Disable-AcmeAccount @p -Confirm:$false } }
        ) {
            param($Name, $Invoke)
            $empty = Join-Path $TestDrive "empty-$Name"
            $err = Get-Failure { & $Invoke @{ Server = $pebble.Directory; StatePath = $empty } }
            $err.FullyQualifiedErrorId | Should -BeLike "AcmeNoAccount,*$($Name -replace '-')*"
            $err.Exception.Message | Should -BeLike "*No account for*$empty*New-AcmeAccount*"
            Test-Path (Join-Path $TestDrive 'none.pem') | Should -BeFalse
        }
    }
}
