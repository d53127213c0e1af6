# Issue 19: what a fresh process (a runbook's job) reads and asks for when the state folder is warm.
# Each case runs in a child pwsh against a real Pebble.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:pebble = Start-TestPebble
    $script:root = Join-Path ([System.IO.Path]::GetTempPath()) ('acme-coldstart-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $script:state = Join-Path $root 'state'
    $null = New-Item -ItemType Directory $state -Force
    $script:issue = "New-AcmeCertificate -Server '$($pebble.Directory)' -TrustedRootCertificate '$($pebble.ApiRootPath)' -AcceptTermsOfService -HttpPort $($pebble.HttpPort)"
    function Invoke-Child([string] $Script) {
        $run = Invoke-TestChild -Script "`$ErrorActionPreference = 'Stop'`nImport-Module '$env:ACME_TEST_MODULE'`n$Script" -Environment @{ ACME_STATE_PATH = $state; NO_COLOR = '1' }
        $run.Err | Should -BeNullOrEmpty
        $run.ExitCode | Should -Be 0
        $run
    }

    # The warm folder: the default account (made by the first certificate) and a second account, 'other'.
    $null = Invoke-Child "$issue -DnsName 'setup.cold.test' -Path '$root/setup' | Out-Null
New-AcmeAccount -Name other -Server '$($pebble.Directory)' -TrustedRootCertificate '$($pebble.ApiRootPath)' -AcceptTermsOfService | Out-Null"
}

AfterAll {
    if ($pebble) { Stop-TestPebble $pebble }
    Remove-Item -LiteralPath $root -Recurse -Force -ErrorAction Ignore
}

Describe 'A fresh process with a warm state folder' {
    It 'issues with the saved account while another account''s files are corrupted, and does not read them' {
        $other = @(Get-ChildItem -LiteralPath $state -Recurse -Directory -Filter 'other')
        $other.Count | Should -Be 1
        $files = @(Get-ChildItem -LiteralPath $other[0].FullName -Recurse -File)
        $files.Count | Should -BeGreaterThan 0
        foreach ($f in $files) { [System.IO.File]::WriteAllText($f.FullName, '{ this is not JSON nor PEM') }
        # The text first: reading it moves the access time (relatime moves it once after a write), then the time.
        $before = $files | ForEach-Object { [pscustomobject]@{ Path = $_.FullName; Text = Get-Content -Raw -LiteralPath $_.FullName } }
        foreach ($b in $before) { $b | Add-Member Access (Get-Item -LiteralPath $b.Path).LastAccessTimeUtc }

        # 'other' is named neither default nor the only one: the default account is used, the other one not opened.
        $run = Invoke-Child "`$c = $issue -DnsName 'corrupt.cold.test' -Path '$root/corrupt' -Verbose 4>&1 | ForEach-Object { if (`$_ -is [System.Management.Automation.VerboseRecord]) { 'VERBOSE: ' + `$_.Message } else { 'THUMB: ' + `$_.Thumbprint } }
`$c"
        $run.Out | Should -Match 'THUMB: [0-9A-F]{40}'
        $run.Out | Should -Match 'saved account'
        $run.Out | Should -Not -Match '[/\\]other[/\\]'
        Test-Path (Join-Path $root 'corrupt/fullchain.pem') | Should -BeTrue
        # A file opened for reading would have its access time moved on a filesystem that keeps it (not noatime).
        foreach ($b in $before) { (Get-Item -LiteralPath $b.Path).LastAccessTimeUtc | Should -Be $b.Access -Because "$($b.Path) is not read" }
        foreach ($b in $before) {
            Get-Content -Raw -LiteralPath $b.Path | Should -Be $b.Text -Because "$($b.Path) is not rewritten"
        }
    }

    It 'fetches the directory once and asks for a nonce only when the directory response carried none' {
        # What Pebble sends with its directory: a Replay-Nonce header or not (Pebble 2.4 sends one only on POST and newNonce).
        $handler = [System.Net.Http.HttpClientHandler]::new()
        $handler.ServerCertificateCustomValidationCallback = [System.Net.Http.HttpClientHandler]::DangerousAcceptAnyServerCertificateValidator
        $client = [System.Net.Http.HttpClient]::new($handler)
        try {
            $response = $client.GetAsync($pebble.Directory).GetAwaiter().GetResult()
            $directoryNonce = $response.Headers.Contains('Replay-Nonce')
        } finally { $client.Dispose() }
        $expectedHeads = if ($directoryNonce) { 0 } else { 1 }

        $log = $pebble.PebbleLog
        $pebble.Processes[-1].Log.Flush()
        $start = @(Get-Content -LiteralPath $log).Count
        $null = Invoke-Child "$issue -DnsName 'count.cold.test' -Path '$root/count' | Out-Null"
        $pebble.Processes[-1].Log.Flush()
        $requests = @(Get-Content -LiteralPath $log | Select-Object -Skip $start | Where-Object { $_ -match '^Pebble \S+ \S+ (GET|HEAD|POST) \S+ -> calling handler' } |
            ForEach-Object { $_ -replace '^Pebble \S+ \S+ (\S+) (\S+) .*$', '$1 $2' })
        $requests.Count | Should -BeGreaterThan 0
        @($requests | Where-Object { $_ -match '^GET /dir' }).Count | Should -Be 1 -Because ($requests -join '; ')
        @($requests | Where-Object { $_ -match '^HEAD ' }).Count | Should -Be $expectedHeads -Because ($requests -join '; ')
        # The saved account is used as it is: no newAccount lookup in a warm process.
        @($requests | Where-Object { $_ -match 'new-acct|newAccount' }).Count | Should -Be 0 -Because ($requests -join '; ')
    }
}
