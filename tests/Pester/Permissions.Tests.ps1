#Requires -Version 7.2
# File permissions as another local user sees them. Linux as root only: the tests create an
# unprivileged user (removed in AfterAll) and compile the inotify watcher tools/keywatch.c with cc.
BeforeDiscovery {
    $script:canRun = $IsLinux -and ((id -u) -eq '0') -and [bool](Get-Command cc, useradd, userdel, runuser -ErrorAction Ignore)
    if (-not $canRun) { Write-Warning 'Permissions.Tests: skipped, they need Linux, root, cc, useradd and runuser.' }
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:pebble = Start-TestPebble
    $script:ca = @{ Server = $pebble.Directory; TrustedRootCertificate = $pebble.ApiRootPath; AcceptTermsOfService = $true; HttpPort = $pebble.HttpPort }

    # Outside $TestDrive: the other user must be able to reach the folders the module creates in here.
    $script:base = Join-Path ([System.IO.Path]::GetTempPath()) ('acme-perm-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $null = New-Item -ItemType Directory -Path $base
    if ($IsLinux) { chmod 0755 $base }
    $script:spy = 'acmespy' + (Get-Random -Minimum 1000 -Maximum 9999)
    $script:watcher = Join-Path $base 'keywatch'

    function script:Get-Mode([string] $Path) { [Convert]::ToString([int][System.IO.File]::GetUnixFileMode($Path), 8) }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
    if ($IsLinux -and (Get-Command userdel -ErrorAction Ignore)) { userdel $script:spy 2>$null }
    Remove-Item -LiteralPath $script:base -Recurse -Force -ErrorAction Ignore
}

Describe 'Key files as another local user sees them' -Skip:(-not $canRun) {
    BeforeAll {
        cc -O2 -o $watcher (Join-Path $PSScriptRoot 'tools/keywatch.c')
        if ($LASTEXITCODE -ne 0) { throw 'Could not compile tools/keywatch.c.' }
        useradd --system --no-create-home --shell /usr/sbin/nologin $spy
        if ($LASTEXITCODE -ne 0) { throw "Could not create the user $spy." }
    }

    It 'lets an unprivileged user watching with inotify read no private key during 10 issuances, in the state folder or the export folders' {
        $run = Join-Path $base 'watched'
        $reports = Join-Path $base 'reports'
        $null = New-Item -ItemType Directory -Path $run, $reports
        chmod 0755 $run
        chown $spy $reports
        $report = Join-Path $reports 'report.txt'
        $stop = Join-Path $reports 'stop'
        $state = Join-Path $run 'state'
        $out = Join-Path $run 'out'

        $psi = [System.Diagnostics.ProcessStartInfo]::new('runuser')
        foreach ($a in '-u', $spy, '--', $watcher, $report, $stop, $run) { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        $process = [System.Diagnostics.Process]::Start($psi)
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            while (-not ((Test-Path $report) -and (Get-Content $report -Raw) -match 'READY') -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            Get-Content $report -Raw | Should -Match 'READY' -Because 'the watcher must be watching before the first write'

            foreach ($i in 1..10) {
                $c = New-AcmeCertificate -DnsName "spy$i.test" @ca -StatePath $state -Path (Join-Path $out $i) -Force -WarningAction SilentlyContinue
                $c.Thumbprint | Should -Not -BeNullOrEmpty
            }
        } finally {
            $null = New-Item -ItemType File -Path $stop -Force
            if (-not $process.WaitForExit(20000)) { $process.Kill() }
        }

        $lines = Get-Content $report
        $lines | Should -Contain 'DONE'
        @($lines | Where-Object { $_ -like 'KEY *' }) | Should -BeNullOrEmpty -Because 'no private key may be readable by another user at any moment'
        # The watcher worked: it saw the export folders and read their public files, and was kept out of the state folder.
        $lines | Should -Contain "OPENED $(Join-Path $out '1' 'cert.pem')"
        $lines | Should -Contain "OPENED $(Join-Path $out '10' 'fullchain.pem')"
        $lines | Should -Contain "NOWATCH $state"
        @($lines | Where-Object { $_ -like "OPENED $state*" }) | Should -BeNullOrEmpty
        @($lines | Where-Object { $_ -like 'DENIED *key.pem*' }).Count | Should -BeGreaterOrEqual 10 -Because 'each key.pem was tried, and refused'
    }
}

Describe 'Modes under umask 000' -Skip:(-not $IsLinux) {
    It 'creates state folders 0700, key files 0600, other files 0644 and export folders 0755 whatever the umask' {
        $run = Join-Path $base 'umask'
        $state = Join-Path $run 'deep/state'
        $out = Join-Path $run 'out/a'
        $pfx = Join-Path $run 'pfx/a.pfx'
        $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$env:ACME_TEST_MODULE'
`$p = ConvertTo-SecureString -String 'pfx-password' -AsPlainText -Force
`$c = New-AcmeCertificate -DnsName umask.test -Server '$($pebble.Directory)' -TrustedRootCertificate '$($pebble.ApiRootPath)' -AcceptTermsOfService -HttpPort $($pebble.HttpPort) -StatePath '$state' -Path '$out'
`$c | Export-AcmeCertificate -PfxPath '$pfx' -Password `$p | Out-Null
"umask `$(sh -c umask)"
"@
        $pwsh = Get-PwshCommand
        $psi = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
        foreach ($a in @('-c', 'umask 000 && exec "$@"', 'sh') + $pwsh + @('-NoProfile', '-NonInteractive', '-Command', $script)) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        $child = [System.Diagnostics.Process]::Start($psi)
        $stdout = $child.StandardOutput.ReadToEndAsync()
        $stderr = $child.StandardError.ReadToEndAsync()
        $child.WaitForExit(120000) | Should -BeTrue
        $child.ExitCode | Should -Be 0 -Because $stderr.Result
        $stdout.Result | Should -Match 'umask 0+\b' -Because 'the child ran under umask 000'

        $checked = 0
        foreach ($item in @(Get-Item -LiteralPath $state) + @(Get-ChildItem -LiteralPath $state -Recurse -Force)) {
            $mode = Get-Mode $item.FullName
            $expected = if ($item.PSIsContainer) { '700' } elseif ($item.Name -like '*key*.pem') { '600' } elseif ($item.Name -eq '.lock') { $null } else { '644' }
            if ($expected) { $mode | Should -Be $expected -Because $item.FullName; $checked++ }
            elseif ($item.Name -eq '.lock') { $mode | Should -Not -Match '[2367]$' -Because "$($item.FullName) must not be writable by others" }
        }
        $checked | Should -BeGreaterThan 8
        Get-Mode (Join-Path $run 'deep') | Should -Be '700' -Because 'a parent the module creates for its state folder is no wider than the folder'
        Get-Mode $out | Should -Be '755'
        Get-Mode (Join-Path $run 'out') | Should -Be '755'
        Get-Mode (Join-Path $out 'key.pem') | Should -Be '600'
        foreach ($f in 'cert.pem', 'chain.pem', 'fullchain.pem') { Get-Mode (Join-Path $out $f) | Should -Be '644' -Because $f }
        Get-Mode $pfx | Should -Be '600'
        Get-Mode (Split-Path $pfx) | Should -Be '755'
    }
}

Describe 'Leftover key material' {
    It 'removes the saved key of an abandoned order on the next issuance of that name' {
        $state = Join-Path $TestDrive 'abandoned'
        $first = New-AcmeCertificate -DnsName abandoned.test @ca -StatePath $state
        $folder = Split-Path (Get-StateFile $state 'current').FullName
        # What an order abandoned after its key was saved leaves (a failed validation, Ctrl+C after finalize).
        $stale = Join-Path $folder 'order-key-0123456789ab.pem'
        Copy-Item (Get-StateFile $state 'key.pem')[0].FullName $stale
        $second = New-AcmeCertificate -DnsName abandoned.test @ca -StatePath $state -Force
        $second.Thumbprint | Should -Not -Be $first.Thumbprint
        Test-Path $stale | Should -BeFalse
        Get-StateFile $state 'order-key-*.pem' | Should -BeNullOrEmpty
        Assert-StateIntact $state
    }

    It 'on a full disk names the file it could not write, and leaves no temporary file or folder with a key behind' -Skip:(-not $canRun) {
        $mount = Join-Path $base 'full'
        $null = New-Item -ItemType Directory -Path $mount
        mount -t tmpfs -o size=256k tmpfs $mount
        if ($LASTEXITCODE -ne 0) { Set-ItResult -Skipped -Because 'tmpfs cannot be mounted here'; return }
        try {
            $state = Join-Path $mount 'state'
            New-AcmeCertificate -DnsName full-a.test @ca -StatePath $state | Out-Null
            $failures = 0
            foreach ($free in 1..12) {
                # Leave $free KiB: each round runs out of space at another write.
                $filler = Join-Path $mount 'filler'
                Remove-Item $filler -ErrorAction Ignore
                $avail = [System.IO.DriveInfo]::new($mount).AvailableFreeSpace
                [System.IO.File]::WriteAllBytes($filler, [byte[]]::new([Math]::Max(0, $avail - $free * 1024)))
                $r = Invoke-Captured { New-AcmeCertificate -DnsName full-b.test @ca -StatePath $state -Force -ErrorAction Stop }
                if ($r.Errors) {
                    $failures++
                    $e = $r.Errors[0]
                    $e.FullyQualifiedErrorId | Should -BeLike 'AcmeStateWriteFailed,*' -Because "$free KiB free: $($e.Exception.Message)"
                    # The message names the file being written: a real place in the state folder.
                    $written = [regex]::Match($e.Exception.Message, 'Could not write (\S+?): ').Groups[1].Value
                    $written | Should -BeLike "$state*" -Because $e.Exception.Message
                    Split-Path -Leaf $written | Should -Match '^(account|order|server|certificate|renewal)\.json$|key.*\.pem$|^(chain|fullchain|cert)\.pem$|^alternate-\d+\.pem$|^current$|^trusted-root\.pem$' -Because $written
                }
                @(Get-ChildItem -LiteralPath $state -Recurse -Force | Where-Object Name -Like '*.tmp') | Should -BeNullOrEmpty -Because "$free KiB free"
            }
            $failures | Should -BeGreaterThan 0 -Because 'some rounds must run out of space'
            Remove-Item (Join-Path $mount 'filler')
            (New-AcmeCertificate -DnsName full-b.test @ca -StatePath $state -Force).Thumbprint | Should -Not -BeNullOrEmpty
            Assert-StateIntact $state
        } finally {
            umount $mount
        }
    }
}
