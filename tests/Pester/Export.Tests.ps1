#Requires -Version 7.2
# Export-AcmeCertificate for many certificates against a real Pebble: the README's renewal pipeline
# renews three due certificates, each into its own folder (-PerCertificateFolder, or a script block for
# -Path); two certificates aimed at the same files are refused for the second; every export is recorded
# in the state folder (CertFile, KeyFile, ChainFile, FullChainFile, PfxFile); the files come out as
# Get-Item shows them; DaysLeft is a property to filter and sort on.
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    # Certificates valid for 30 seconds fall due after 15 (a third of the lifetime left), so the test watches three fall due.
    $script:pebble = Start-TestPebble -CertificateValidityPeriod 30
    $script:ca = @{ Server = $pebble.Directory; TrustedRootCertificate = $pebble.ApiRootPath }
    $script:sp = Join-Path $TestDrive 'state'
    $script:savedStatePath = $env:ACME_STATE_PATH
    $env:ACME_STATE_PATH = $sp
    $script:work = Join-Path $TestDrive 'work'
    $null = New-Item -ItemType Directory $work
    Push-Location $work

    $account = New-AcmeAccount @ca -AcceptTermsOfService
    $script:names = 'one.test', 'three.test', 'two.test'
    $script:first = @{}
    foreach ($name in $names) {
        $issued = $account | New-AcmeOrder -DnsName $name | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder
        $first[$name] = $issued.Thumbprint
    }

    function Get-Exported([string] $Folder) {
        # Throws unless key.pem holds the private key of cert.pem.
        [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPemFile((Join-Path $Folder 'cert.pem'), (Join-Path $Folder 'key.pem'))
    }
}

AfterAll {
    Pop-Location
    $env:ACME_STATE_PATH = $script:savedStatePath
    if ($script:pebble) { Stop-TestPebble $script:pebble }
    if ($script:longLived) { Stop-TestPebble $script:longLived }
}

Describe 'Export-AcmeCertificate for many certificates' {
    It 'renews three due certificates through the README pipeline, each into its own folder with its own key' {
        $due = @(Get-AcmeCertificate | Test-AcmeRenewal | Measure-Object -Property RenewAt -Maximum).Maximum
        $wait = ($due - [DateTimeOffset]::UtcNow).TotalSeconds + 1
        if ($wait -gt 0) { Start-Sleep -Seconds $wait }

        $files = Get-AcmeCertificate | Test-AcmeRenewal | Where-Object Due | New-AcmeOrder |
            Start-AcmeHttpChallenge -Port $pebble.HttpPort |
            Complete-AcmeOrder |
            Export-AcmeCertificate -Path ./certs -PerCertificateFolder

        @($files).Count | Should -Be 12
        foreach ($name in $names) {
            $current = Get-AcmeCertificate -Name $name
            $current.Thumbprint | Should -Not -Be $first[$name] -Because "$name was renewed"
            $folder = Join-Path $work "certs/$name"
            $exported = Get-Exported $folder
            $exported.Thumbprint | Should -Be $current.Thumbprint -Because "certs/$name holds the renewed $name"
            $exported.HasPrivateKey | Should -BeTrue
            $exported.GetNameInfo('DnsName', $false) | Should -Be $name
            # The state folder says where the current version went.
            $current.CertFile | Should -Be (Join-Path $folder 'cert.pem')
            $current.KeyFile | Should -Be (Join-Path $folder 'key.pem')
            $current.ChainFile | Should -Be (Join-Path $folder 'chain.pem')
            $current.FullChainFile | Should -Be (Join-Path $folder 'fullchain.pem')
            $current.PfxFile | Should -BeNullOrEmpty
            $current.ExportedAt | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddMinutes(-5))
        }
    }

    It 'evaluates a script block for -Path and -PfxPath per certificate' {
        $password = ConvertTo-SecureString 'pfx-pass' -AsPlainText -Force
        $null = Get-AcmeCertificate | Export-AcmeCertificate -Path { "./sb/$($_.Name)" } -PfxPath { "./pfx/$($_.Name).pfx" } -Password $password
        foreach ($name in $names) {
            $current = Get-AcmeCertificate -Name $name
            (Get-Exported (Join-Path $work "sb/$name")).Thumbprint | Should -Be $current.Thumbprint
            $pfx = Join-Path $work "pfx/$name.pfx"
            [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pfx, 'pfx-pass').Thumbprint | Should -Be $current.Thumbprint
            $current.CertFile | Should -Be (Join-Path $work "sb/$name/cert.pem")
            $current.PfxFile | Should -Be $pfx
        }
    }

    It 'puts -PfxPath in the certificate''s folder with -PerCertificateFolder' {
        $password = ConvertTo-SecureString 'pfx-pass' -AsPlainText -Force
        $null = Get-AcmeCertificate -Name two.test | Export-AcmeCertificate -PfxPath ./per/site.pfx -Password $password -PerCertificateFolder
        Join-Path $work 'per/two.test/site.pfx' | Should -Exist
        (Get-AcmeCertificate -Name two.test).PfxFile | Should -Be (Join-Path $work 'per/two.test/site.pfx')
    }

    It 'refuses the second certificate aimed at the files of the first (AcmeExportCollision), never overwriting it' {
        $out = Get-AcmeCertificate | Export-AcmeCertificate -Path ./same -ErrorVariable failures -ErrorAction SilentlyContinue
        @($out).Count | Should -Be 4
        @($failures).Count | Should -Be 2
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'AcmeExportCollision,*'
        $failures[0].Exception.Message | Should -BeLike "*$(Join-Path $work 'same')*one.test*three.test*"
        $failures[0].ErrorDetails.RecommendedAction | Should -BeLike '*-PerCertificateFolder*'
        $failures[0].TargetObject.Name | Should -Be 'three.test'
        (Get-Exported (Join-Path $work 'same')).Thumbprint | Should -Be (Get-AcmeCertificate -Name one.test).Thumbprint

        $password = ConvertTo-SecureString 'pfx-pass' -AsPlainText -Force
        $null = Get-AcmeCertificate | Export-AcmeCertificate -PfxPath ./same.pfx -Password $password -ErrorVariable pfxFailures -ErrorAction SilentlyContinue
        @($pfxFailures).Count | Should -Be 2
        $pfxFailures[0].FullyQualifiedErrorId | Should -BeLike 'AcmeExportCollision,*'
        [System.Security.Cryptography.X509Certificates.X509Certificate2]::new((Join-Path $work 'same.pfx'), 'pfx-pass').Thumbprint |
            Should -Be (Get-AcmeCertificate -Name one.test).Thumbprint
    }

    It 'exports the same certificate twice in one pipeline without a collision' {
        $certificate = Get-AcmeCertificate -Name one.test
        $out = $certificate, $certificate | Export-AcmeCertificate -Path ./twice -ErrorVariable failures
        @($failures).Count | Should -Be 0
        @($out).Count | Should -Be 8
    }

    It 'writes what Get-Item gives: Mode, Length and a Directory: header' {
        $out = Get-AcmeCertificate -Name one.test | Export-AcmeCertificate -Path ./gi
        $out[0] | Should -BeOfType System.IO.FileInfo
        $out[0].PSParentPath | Should -BeLike '*FileSystem::*'
        $shown = $out | Out-String
        $shown | Should -Match "Directory: $([regex]::Escape((Join-Path $work 'gi')))"
        $shown | Should -Match 'cert\.pem'
        $shown | Should -Be (Get-Item -LiteralPath $out.FullName | Out-String)
        $out.Length | ForEach-Object { $_ | Should -BeGreaterThan 0 }
    }

    It 'writes nothing and records nothing with -WhatIf' {
        $before = (Get-AcmeCertificate -Name one.test).CertFile
        $out = Get-AcmeCertificate -Name one.test | Export-AcmeCertificate -Path ./whatif -WhatIf
        $out | Should -BeNullOrEmpty
        Join-Path $work 'whatif' | Should -Not -Exist
        (Get-AcmeCertificate -Name one.test).CertFile | Should -Be $before
    }

    It 'records what New-AcmeCertificate -Path exports, through the same export step' {
        $issued = New-AcmeCertificate @ca -DnsName nc.test -HttpPort $pebble.HttpPort -Path ./nc -PfxPath ./nc.pfx -Password (ConvertTo-SecureString 'pfx-pass' -AsPlainText -Force)
        $issued.CertFile | Should -Be (Join-Path $work 'nc/cert.pem')
        $saved = Get-AcmeCertificate -Name nc.test
        $saved.Thumbprint | Should -Be $issued.Thumbprint
        $saved.CertFile | Should -Be (Join-Path $work 'nc/cert.pem')
        $saved.KeyFile | Should -Be (Join-Path $work 'nc/key.pem')
        $saved.PfxFile | Should -Be (Join-Path $work 'nc.pfx')
        (Get-Exported (Join-Path $work 'nc')).Thumbprint | Should -Be $issued.Thumbprint
        # Out of the way of the count below.
        $saved | Remove-AcmeCertificate -Confirm:$false
        Get-AcmeCertificate -Name nc.test -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'has DaysLeft as a property: Where-Object DaysLeft -gt 0 and Sort-Object DaysLeft work' {
        # One certificate of a Pebble with its default five years, next to the 30-second ones.
        $script:longLived = Start-TestPebble
        $null = New-AcmeAccount -Server $longLived.Directory -TrustedRootCertificate $longLived.ApiRootPath -AcceptTermsOfService |
            New-AcmeOrder -DnsName long.test | Start-AcmeHttpChallenge -Port $longLived.HttpPort | Complete-AcmeOrder

        $all = @(Get-AcmeCertificate)
        $all.Count | Should -Be 4
        $long = @($all | Where-Object DaysLeft -GT 0)
        $long.Count | Should -Be 1
        $long[0].Name | Should -Be 'long.test'
        $long[0].DaysLeft | Should -BeGreaterThan 300
        ($all | Sort-Object DaysLeft -Descending | Select-Object -First 1).Name | Should -Be 'long.test'
        ($all | Sort-Object DaysLeft | Select-Object -Last 1).Name | Should -Be 'long.test'
        @($all | Where-Object DaysLeft -LT 1).Count | Should -Be 3
        ($all | Format-Table | Out-String) | Should -Match 'DaysLeft'
    }
}
