#Requires -Version 7.2
# Alternate chains (RFC 8555 section 7.4.2, Link rel="alternate") against a Pebble with two alternate
# roots (PEBBLE_ALTERNATE_ROOTS) and two intermediates per chain (PEBBLE_CHAIN_LENGTH).
BeforeDiscovery {
    $script:external = [bool]$env:ACME_TEST_DIRECTORY
}

Describe 'Certificate chains' -Skip:$external {
    BeforeAll {
        Import-Module $env:ACME_TEST_MODULE -Force
        Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
        $script:pebble = Start-TestPebble -AlternateRoots 2 -ChainLength 2
        $script:roots = 0..2 | ForEach-Object { Get-PebbleRootCertificate $pebble -Index $_ }
        $script:account = New-TestAccount $pebble
        function Get-Issued([string] $Name, [hashtable] $Options = @{}) {
            $account | New-AcmeOrder -DnsName $Name | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder @Options
        }
        $script:default = Get-Issued 'chains.test'
    }

    AfterAll {
        if ($script:pebble) { Stop-TestPebble $script:pebble }
    }

    It 'downloads every chain the CA offers' {
        $default.AlternateChains | Should -HaveCount 2
        $all = @($default) + $default.AlternateChains
        ($all.ChainIssuer | Sort-Object -Unique) | Should -HaveCount 3
        $all | ForEach-Object { $_.Thumbprint | Should -Be $default.Thumbprint -Because 'every chain carries the same certificate' }
        $all | ForEach-Object { $_.Chain | Should -HaveCount 2 -Because 'PEBBLE_CHAIN_LENGTH=2 puts two intermediates in each chain' }
        $all | ForEach-Object { $_.Key.Thumbprint | Should -Be $default.Key.Thumbprint }
    }

    It 'verifies each chain to its own root, and to no other' {
        foreach ($chain in @($default) + $default.AlternateChains) {
            $own = @($roots | Where-Object Subject -EQ $chain.ChainIssuer)
            $own | Should -HaveCount 1
            Test-CertificateChain -Certificate $chain.Certificate -Intermediate $chain.Chain -Root $own[0] | Should -BeTrue
            foreach ($other in $roots | Where-Object Subject -NE $chain.ChainIssuer) {
                Test-CertificateChain -Certificate $chain.Certificate -Intermediate $chain.Chain -Root $other | Should -BeFalse
            }
        }
    }

    It '-PreferredChain returns the chain to the root named by <How>' -ForEach @(
        @{ How = 'its common name'; Index = 1; Name = { param($r) $r.GetNameInfo('SimpleName', $false) } }
        @{ How = 'its distinguished name, in another case'; Index = 2; Name = { param($r) $r.Subject.ToUpperInvariant() } }
    ) {
        $wanted = $roots[$Index]
        $cert = Get-Issued "preferred-$Index.test" @{ PreferredChain = (& $Name $wanted) }
        $cert.ChainIssuer | Should -Be $wanted.Subject
        Test-CertificateChain -Certificate $cert.Certificate -Intermediate $cert.Chain -Root $wanted | Should -BeTrue
        $cert.AlternateChains | Should -HaveCount 2
        $cert.AlternateChains.ChainIssuer | Should -Not -Contain $wanted.Subject
    }

    It 'keeps the default chain, with a verbose note, when no chain matches' {
        $output = Get-Issued 'unmatched.test' @{ PreferredChain = 'No Such Root CA'; Verbose = $true } 4>&1
        $cert = $output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] }
        $cert.ChainIssuer | Should -Be $roots[0].Subject
        @(($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message |
            Where-Object { $_ -like "No chain the CA offered is issued by 'No Such Root CA'*the default chain was kept." }) | Should -HaveCount 1
    }

    It 'exports the chosen chain' {
        $wanted = $roots[2]
        $folder = Join-Path $TestDrive 'preferred'
        Get-Issued 'export-preferred.test' @{ PreferredChain = $wanted.GetNameInfo('SimpleName', $false) } | Export-AcmeCertificate -Path $folder | Out-Null
        $chain = [System.Security.Cryptography.X509Certificates.X509Certificate2Collection]::new()
        $chain.ImportFromPemFile((Join-Path $folder 'chain.pem'))
        $chain[$chain.Count - 1].Issuer | Should -Be $wanted.Subject
    }
}
