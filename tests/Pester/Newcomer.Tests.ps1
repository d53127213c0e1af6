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
}
