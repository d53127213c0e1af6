#Requires -Version 7.2
# The errors a newcomer meets first, tried as a new user would: each by its ErrorId and a message that
# says what to fix (a directory URL that is not one, an unknown host, an over-long DNS label, a key file
# whose folder is missing), against a real Pebble where a CA takes part.
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:pebble = Start-TestPebble

    function Get-Failure([scriptblock] $Script) {
        try { & $Script; throw 'expected a failure' } catch [System.Management.Automation.RuntimeException] {
            if ($_.Exception.Message -eq 'expected a failure') { throw }
            $_
        }
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'Errors a newcomer understands' {
    It 'says a URL that answers 404 is not an ACME directory, naming the URL (<Case>)' -ForEach @(
        @{ Case = 'a typo in the path'; Path = '/directory-typo' }
        @{ Case = 'the site root'; Path = '/' }
    ) {
        $url = ($pebble.Directory -replace '/dir$', '') + $Path
        $e = Get-Failure { Get-AcmeDirectory -Server $url -TrustedRootCertificate $pebble.ApiRootPath -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeNotADirectory,*'
        $e.Exception.Message | Should -Be "$url is not an ACME directory: it answered HTTP 404 Not Found."
        $e.ErrorDetails.RecommendedAction | Should -BeLike '*directory URL*LetsEncrypt*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'names an unknown host once, with the host' {
        $e = Get-Failure { Get-AcmeDirectory -Server 'https://no-such-ca.invalid/directory' -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeConnectionFailed,*'
        $e.Exception.Message | Should -Be 'GET https://no-such-ca.invalid/directory failed: the host no-such-ca.invalid is not known (no DNS record for it); check its spelling.'
        ([regex]::Matches($e.Exception.Message, 'not known')).Count | Should -Be 1
    }

    It 'names the 63-character rule for a 70-character DNS label' {
        $label = 'a' * 70
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        $e = Get-Failure { New-AcmeCertificate -DnsName "$label.example.com" -Server $pebble.Directory -TrustedRootCertificate $pebble.ApiRootPath `
                -AcceptTermsOfService -StatePath (Join-Path $TestDrive 'label') -HttpPort $pebble.HttpPort -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeInvalidIdentifier,*'
        $e.Exception.Message | Should -BeLike '*is 70 characters long; a DNS label (the part between dots) has at most 63 characters*'
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $before -Because 'bad input is refused before any request'
    }

    It 'names the missing folder of a key file' {
        $missing = Join-Path $TestDrive 'no-such-folder'
        $e = Get-Failure { New-AcmeAccount -Server $pebble.Directory -TrustedRootCertificate $pebble.ApiRootPath -AcceptTermsOfService `
                -KeyPath (Join-Path $missing 'inner/account.pem') -StatePath (Join-Path $TestDrive 'keyfolder') -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeKeyFileNotFound,*'
        $e.Exception.Message | Should -BeLike "*does not exist, nor does the folder '$missing'."
    }

    It 'tells -KeyPassword (a key file''s password) from -KeyPassphrase (the state folder''s) in <Command>''s help' -ForEach @(
        @{ Command = 'New-AcmeAccount' }
        @{ Command = 'Get-AcmeAccount' }
    ) {
        $password = (Get-Help $Command -Parameter KeyPassword).description.Text -join ' '
        $passphrase = (Get-Help $Command -Parameter KeyPassphrase).description.Text -join ' '
        $password | Should -BeLike '*key file*Not to be confused with -KeyPassphrase*state folder*'
        $passphrase | Should -BeLike "*state folder's passphrase*Not to be confused with -KeyPassword*key file*"
    }

    It 'says which object <Command> takes and which cmdlet makes it when the wrong one is piped' -ForEach @(
        @{ Command = 'Complete-AcmeOrder' }
        @{ Command = 'Start-AcmeHttpChallenge' }
        @{ Command = 'Start-AcmeTlsAlpnChallenge' }
        @{ Command = 'Start-AcmeDnsChallenge'; Extra = @{ AddRecord = {}; RemoveRecord = {} } }
        @{ Command = 'Get-AcmeAuthorization' }
    ) {
        $account = New-AcmeAccount -Server $pebble.Directory -TrustedRootCertificate $pebble.ApiRootPath -AcceptTermsOfService -StatePath (Join-Path $TestDrive 'piped')
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        $extra = if ($Extra) { $Extra } else { @{} }
        $e = Get-Failure { $account | & $Command @extra -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentTransformationError,*'
        $e.Exception.Message | Should -BeLike "*$Command takes an AcmeOrder; you piped an AcmeAccount: use New-AcmeOrder first (Get-AcmeOrder reads a saved one)."
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $before
        # The right object still binds, from the pipeline and by name.
        $order = $account | New-AcmeOrder -DnsName "piped-$($Command.ToLowerInvariant()).test"
        @($order | Get-AcmeAuthorization).Count | Should -Be 1
    }

    It 'says New-AcmeOrder takes an AcmeAccount (made by New-AcmeAccount) when an order is piped, and still takes an account or a renewal' {
        $account = New-AcmeAccount -Server $pebble.Directory -TrustedRootCertificate $pebble.ApiRootPath -AcceptTermsOfService -StatePath (Join-Path $TestDrive 'piped-new')
        $order = $account | New-AcmeOrder -DnsName piped-new-order.test
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        $e = Get-Failure { $order | New-AcmeOrder -DnsName again.test -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentTransformationError,*'
        $e.Exception.Message | Should -BeLike '*New-AcmeOrder takes an AcmeAccount; you piped an AcmeOrder: use New-AcmeAccount first (Get-AcmeAccount reads a saved one).'
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $before
        # An object whose Certificate is an AcmeCertificate (what Test-AcmeRenewal writes) is left to the renewal
        # set, which binds it by property name; so is an AcmeCertificate itself.
        $certificate = (Test-AcmeRenewal -CertificatePath $pebble.ApiRootPath -Force -ErrorAction SilentlyContinue).Certificate
        $certificate | Should -BeOfType ([Acme.Protocol.Model.AcmeCertificate])
        foreach ($piped in [pscustomobject]@{ Certificate = $certificate; Due = $true }, $certificate) {
            $err = $null
            $null = $piped | New-AcmeOrder -Account $account -WhatIf -ErrorVariable err -ErrorAction SilentlyContinue
            @($err | Where-Object FullyQualifiedErrorId -Like 'Parameter*') | Should -BeNullOrEmpty
            @($err | Where-Object FullyQualifiedErrorId -Like 'InputObjectNotBound*') | Should -BeNullOrEmpty
        }
    }

    It 'says Wait-AcmeOrder takes an AcmeOrder, and still takes the Order property of what is piped' {
        $account = New-AcmeAccount -Server $pebble.Directory -TrustedRootCertificate $pebble.ApiRootPath -AcceptTermsOfService -StatePath (Join-Path $TestDrive 'piped-wait')
        $order = $account | New-AcmeOrder -DnsName piped-wait.test
        $e = Get-Failure { $account | Wait-AcmeOrder -TimeoutSec 1 -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentTransformationError,*'
        $e.Exception.Message | Should -BeLike '*Wait-AcmeOrder takes an AcmeOrder; you piped an AcmeAccount: use New-AcmeOrder first (Get-AcmeOrder reads a saved one).'
        # By property name: a custom object (as a script or Import-Csv builds) whose Order is the order.
        $err = $null
        $out = [pscustomobject]@{ Order = $order; Name = 'x' } | Wait-AcmeOrder -TimeoutSec 1 -ErrorVariable err -ErrorAction SilentlyContinue
        @($err | Where-Object FullyQualifiedErrorId -Like 'Parameter*') | Should -BeNullOrEmpty
        @($err | Where-Object FullyQualifiedErrorId -Like 'InputObjectNotBound*') | Should -BeNullOrEmpty
        @($out) + @($err) | Should -Not -BeNullOrEmpty -Because 'the order was waited for'
    }

    It 'says <Command> takes an AcmeCertificate (made by Complete-AcmeOrder) when an account is piped' -ForEach @(
        @{ Command = 'Export-AcmeCertificate'; Extra = @{ Path = 'TestDrive:/x' } }
        @{ Command = 'Test-AcmeRenewal' }
        @{ Command = 'Get-AcmeRenewalInfo' }
        @{ Command = 'Revoke-AcmeCertificate'; Extra = @{ WhatIf = $true } }
        @{ Command = 'Remove-AcmeCertificate'; Extra = @{ WhatIf = $true } }
    ) {
        $account = New-AcmeAccount -Server $pebble.Directory -TrustedRootCertificate $pebble.ApiRootPath -AcceptTermsOfService -StatePath (Join-Path $TestDrive 'piped-cert')
        $extra = if ($Extra) { $Extra } else { @{} }
        $e = Get-Failure { $account | & $Command @extra -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentTransformationError,*'
        $e.Exception.Message | Should -BeLike "*$Command takes an AcmeCertificate; you piped an AcmeAccount: use Complete-AcmeOrder first (Get-AcmeCertificate reads a saved one)."
    }

    It 'still binds a certificate file piped to <Command> by FullName, and an ARI identifier by property name' -ForEach @(
        @{ Command = 'Test-AcmeRenewal' }
        @{ Command = 'Get-AcmeRenewalInfo' }
    ) {
        $err = $null
        $null = Get-Item -LiteralPath $pebble.ApiRootPath | & $Command -ErrorVariable err -ErrorAction SilentlyContinue
        @($err | Where-Object FullyQualifiedErrorId -Like 'Parameter*') | Should -BeNullOrEmpty
        @($err | Where-Object FullyQualifiedErrorId -Like 'InputObjectNotBound*') | Should -BeNullOrEmpty
        if ($Command -eq 'Get-AcmeRenewalInfo') {
            $e = Get-Failure { [pscustomobject]@{ CertificateId = 'garbage' } | Get-AcmeRenewalInfo -Server $pebble.Directory -ErrorAction Stop }
            $e.FullyQualifiedErrorId | Should -BeLike 'AcmeInvalidCertificateId,*'
        }
    }

    It 'says <Command> takes <Takes> (made by <MadeBy>) when an account is piped, and still takes what it should' -ForEach @(
        @{ Command = 'Submit-AcmeChallenge'; Takes = 'an AcmeChallenge'; MadeBy = 'Get-AcmeChallenge first.' }
        @{ Command = 'Get-AcmeChallenge'; Takes = 'an AcmeOrder'; MadeBy = 'New-AcmeOrder first (Get-AcmeOrder reads a saved one).' }
        @{ Command = 'Disable-AcmeAuthorization'; Takes = 'an AcmeAuthorization'; MadeBy = 'Get-AcmeAuthorization first.'; Extra = @{ WhatIf = $true } }
        @{ Command = 'Remove-AcmeOrder'; Takes = 'an AcmeOrder'; MadeBy = 'New-AcmeOrder first (Get-AcmeOrder reads a saved one).'; Extra = @{ WhatIf = $true } }
    ) {
        $account = New-AcmeAccount -Server $pebble.Directory -TrustedRootCertificate $pebble.ApiRootPath -AcceptTermsOfService -StatePath (Join-Path $TestDrive 'piped-challenge')
        $extra = if ($Extra) { $Extra } else { @{} }
        $e = Get-Failure { $account | & $Command @extra -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentTransformationError,*'
        $e.Exception.Message | Should -BeLike "*$Command takes $Takes; you piped an AcmeAccount: use $MadeBy"
        # Both of Get-AcmeChallenge's pipeline objects still bind: an order and its authorizations.
        $order = $account | New-AcmeOrder -DnsName "piped-$($Command.ToLowerInvariant()).test"
        @($order | Get-AcmeChallenge -Type http-01).Count | Should -Be 1
        @($order | Get-AcmeAuthorization | Get-AcmeChallenge -Type http-01).Count | Should -Be 1
    }

    It 'says Remove-AcmeAccount takes an AcmeAccount when an order is piped' {
        $account = New-AcmeAccount -Server $pebble.Directory -TrustedRootCertificate $pebble.ApiRootPath -AcceptTermsOfService -StatePath (Join-Path $TestDrive 'piped-remove')
        $order = $account | New-AcmeOrder -DnsName piped-remove.test
        $e = Get-Failure { $order | Remove-AcmeAccount -WhatIf -ErrorAction Stop }
        $e.Exception.Message | Should -BeLike '*Remove-AcmeAccount takes an AcmeAccount; you piped an AcmeOrder: use New-AcmeAccount first (Get-AcmeAccount reads a saved one).'
    }
}
