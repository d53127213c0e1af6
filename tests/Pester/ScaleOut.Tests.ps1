#Requires -Version 7.2
<#
    Scale-out with real parts (issue 10): nginx on Pebble's http-01 port round-robins to three
    responder processes (Start-AcmeChallengeResponder) serving a shared store; this process orders
    with no listener of its own, publishing into the store (Start-AcmeHttpChallenge -Store). Run once
    with Redis (redis-server) and once with a shared folder. Needs its own Pebble (no reused
    authorizations, so every name is validated), so it is skipped against an external one.
#>
BeforeDiscovery {
    $kinds = @(
        @{ Kind = 'Redis'; DownErrorId = 'AcmeStoreUnavailable'; DownCategory = 'ResourceUnavailable' }
        @{ Kind = 'Directory'; DownErrorId = 'AcmeStoreNotFound'; DownCategory = 'ObjectNotFound' }
    )
    $external = [bool]$env:ACME_TEST_DIRECTORY
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'ScaleOutHelpers.psm1') -Force
    if (-not $env:ACME_TEST_DIRECTORY) {
        $script:pebble = Start-TestPebble -AuthzReusePercent 0
        $script:pebbleRoot = Get-PebbleRootCertificate $pebble
        $script:account = New-TestAccount $pebble
    }

    # A whole pipeline in a separate process, started with the others at a barrier (a file each
    # writes when ready), so two processes really race for one name. Writes its outcome as JSON.
    $script:racer = Join-Path $TestDrive 'racer.ps1'
    Set-Content -LiteralPath $racer -Value {
        param([string] $Name, [string] $Barrier, [int] $Count, [int] $LockTimeoutSec)
        $ErrorActionPreference = 'Stop'
        Import-Module $env:ACME_TEST_MODULE
        $account = New-AcmeAccount -Server $env:ACME_TEST_DIR -TrustedRootCertificate $env:ACME_TEST_ROOT -AcceptTermsOfService
        $null = New-Item -ItemType File -Path (Join-Path $Barrier ([guid]::NewGuid()))
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (@(Get-ChildItem $Barrier).Count -lt $Count -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 5 }
        $result = [ordered]@{ Order = $null; Thumbprint = $null; ErrorId = $null; Category = $null; Message = $null }
        try {
            $order = $account | New-AcmeOrder -DnsName $Name -LockStore $env:ACME_TEST_STORE -LockTimeoutSec $LockTimeoutSec
            $result.Order = $order.Location.AbsoluteUri
            $result.Thumbprint = ($order | Start-AcmeHttpChallenge -Store $env:ACME_TEST_STORE | Complete-AcmeOrder).Thumbprint
        } catch {
            $result.ErrorId = $_.FullyQualifiedErrorId
            $result.Category = "$($_.CategoryInfo.Category)"
            $result.Message = "$_"
        }
        $result | ConvertTo-Json -Compress
    }.ToString()

    function Invoke-Race([string] $Store, [string] $Name, [int] $Count = 2) {
        $barrier = Join-Path $TestDrive ("barrier-" + [guid]::NewGuid().ToString('N').Substring(0, 6))
        $null = New-Item -ItemType Directory $barrier
        $pwsh = Get-PwshCommand
        $runs = 1..$Count | ForEach-Object {
            $psi = [System.Diagnostics.ProcessStartInfo]::new($pwsh[0])
            foreach ($a in @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $racer, '-Name', $Name, '-Barrier', $barrier, '-Count', $Count, '-LockTimeoutSec', 0)) {
                $psi.ArgumentList.Add([string]$a)
            }
            $psi.RedirectStandardOutput = $true
            $psi.RedirectStandardError = $true
            $psi.Environment['ACME_TEST_STORE'] = $Store
            $psi.Environment['ACME_TEST_DIR'] = $pebble.Directory
            $psi.Environment['ACME_TEST_ROOT'] = $pebble.ApiRootPath
            $p = [System.Diagnostics.Process]::Start($psi)
            [pscustomobject]@{ Process = $p; Out = $p.StandardOutput.ReadToEndAsync(); Err = $p.StandardError.ReadToEndAsync() }
        }
        foreach ($r in $runs) {
            if (-not $r.Process.WaitForExit(120000)) { $r.Process.Kill($true); throw 'A racing process did not finish in two minutes.' }
        }
        foreach ($r in $runs) {
            $line = @($r.Out.Result -split "`n" | Where-Object { $_ -like '{*' })[-1]
            if (-not $line) { throw "A racing process wrote no result: $($r.Out.Result) $($r.Err.Result)" }
            $line | ConvertFrom-Json
        }
    }

    function Invoke-ScaleOutPipeline {
        [CmdletBinding()]
        param([string] $Store, [string[]] $Names, [string] $CheckUrl)
        $check = if ($CheckUrl) { @{ CheckUrl = $CheckUrl } } else { @{} }
        $account | New-AcmeOrder -DnsName $Names -LockStore $Store |
            Start-AcmeHttpChallenge -Store $Store @check -TimeoutSec 60 |
            Complete-AcmeOrder -TimeoutSec 60
    }

    function Assert-Issued($Certificate, [string[]] $Names) {
        @($Certificate.Names | Sort-Object) | Should -Be @($Names | Sort-Object)
        Test-CertificateChain -Certificate $Certificate.Certificate -Intermediate $Certificate.Chain -Root $pebbleRoot | Should -BeTrue
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'Scale-out behind a load balancer: <Kind> store' -ForEach $kinds -Skip:$external {
    BeforeAll {
        $folder = Join-Path $TestDrive $Kind
        $null = New-Item -ItemType Directory $folder
        $prefix = $Kind.ToLowerInvariant()
        # Handles the tests replace (Redis restarted) live in a table, so AfterAll stops the current ones.
        $parts = @{}
        if ($Kind -eq 'Redis') {
            $parts.Redis = Start-TestRedis -Folder (Join-Path $folder 'redis')
            $store = "redis://:$($parts.Redis.Password)@127.0.0.1:$($parts.Redis.Port)/0?prefix=acme-test:"
        } else {
            $shared = Join-Path $folder 'shared'
            $null = New-Item -ItemType Directory $shared
            $store = $shared
        }
        $responders = 1..3 | ForEach-Object { Start-TestResponder -Store $store -Port (Get-FreeTcpPort) -LogPath (Join-Path $folder "responder$_.log") }
        $responders | ForEach-Object { Wait-TestResponder $_ }
        $nginx = Start-TestNginx -Folder (Join-Path $folder 'nginx') -Port $pebble.HttpPort -Upstream $responders.Port
    }

    AfterAll {
        foreach ($r in @($responders)) { if ($r) { Stop-TestProcess $r.Process } }
        if ($nginx) { Stop-TestProcess $nginx.Process }
        if ($parts.Redis) { Stop-TestProcess $parts.Redis.Process }
    }

    It 'issues every certificate from answers published to the store, each responder answering validations' {
        $listenersBefore = [Acme.Protocol.Challenges.Http01.Http01PortLease]::ActiveCount
        $batches = @(
            @("$prefix-a.test", "www.$prefix-a.test"),
            @("$prefix-b.test", "www.$prefix-b.test"),
            @("$prefix-c.test", "www.$prefix-c.test"))
        $verbose = foreach ($names in $batches) {
            $certificate = Invoke-ScaleOutPipeline -Store $store -Names $names -Verbose 4>&1 |
                Tee-Object -Variable lines | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] }
            Assert-Issued $certificate $names
            $lines | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message
        }

        [Acme.Protocol.Challenges.Http01.Http01PortLease]::ActiveCount | Should -Be $listenersBefore -Because 'the ordering process runs no listener'
        @($verbose -like 'Started the http-01 listener*').Count | Should -Be 0
        @($verbose -like '*the http-01 answer for*').Count | Should -Be 6 -Because 'each name''s answer went to the store'
        @($verbose -like 'Released the lock on*').Count | Should -Be 3
        $answers = $responders | ForEach-Object { Get-TestAnswerCount $_ }
        ($answers | Measure-Object -Sum).Sum | Should -BeGreaterOrEqual 6 -Because 'Pebble validated six names through nginx'
        foreach ($count in $answers) { $count | Should -BeGreaterThan 0 -Because "every responder answered (answers: $($answers -join ', '))" }
        if ($Kind -eq 'Directory') { Get-ChildItem -Force -Recurse $store | Should -BeNullOrEmpty -Because 'answers and locks are withdrawn' }
    }

    It 'keeps issuing with one responder stopped mid-way, self-checking through the balancer' {
        Stop-TestProcess $responders[0].Process
        $before = $responders | ForEach-Object { Get-TestAnswerCount $_ }
        foreach ($names in @(@("$prefix-d.test", "www.$prefix-d.test"), @("$prefix-e.test", "www.$prefix-e.test"))) {
            Assert-Issued (Invoke-ScaleOutPipeline -Store $store -Names $names -CheckUrl "http://127.0.0.1:$($pebble.HttpPort)") $names
        }
        $after = $responders | ForEach-Object { Get-TestAnswerCount $_ }
        $after[0] | Should -Be $before[0] -Because 'the stopped responder answers nothing'
        ($after[1] - $before[1]) + ($after[2] - $before[2]) | Should -BeGreaterOrEqual 8 -Because 'the other two answered four self-checks and four validations'
    }

    It 'gives one order when two processes race for one certificate name' {
        $results = @(Invoke-Race -Store $store -Name "$prefix-race.test")
        $results.Count | Should -Be 2
        $won = @($results | Where-Object Order)
        $lost = @($results | Where-Object { -not $_.Order })
        $won.Count | Should -Be 1 -Because ($results | ConvertTo-Json)
        $won[0].Thumbprint | Should -Not -BeNullOrEmpty -Because $won[0].Message
        $lost[0].ErrorId | Should -Be 'AcmeCertificateLocked,Acme.PowerShell.Commands.NewAcmeOrderCommand'
        $lost[0].Category | Should -Be 'ResourceBusy'
        $lost[0].Message | Should -BeLike "*$prefix-race.test is being ordered by process *"
    }

    It 'makes a second order for a locked name wait with -LockTimeoutSec until the first is done' {
        $first = $account | New-AcmeOrder -DnsName "$prefix-wait.test" -LockStore $store
        $first.Lock.IsReleased | Should -BeFalse
        $waiting = Start-ThreadJob -ArgumentList $account, $store, "$prefix-wait.test" -ScriptBlock {
            param($Account, $Store, $Name)
            Import-Module $using:env:ACME_TEST_MODULE
            $order = $Account | New-AcmeOrder -DnsName $Name -LockStore $Store -LockTimeoutSec 60
            [pscustomobject]@{ At = [DateTimeOffset]::UtcNow; Order = $order }
        }
        try {
            Start-Sleep -Seconds 2
            $waiting.State | Should -Be 'Running' -Because 'the name is locked'
            $certificate = $first | Start-AcmeHttpChallenge -Store $store | Complete-AcmeOrder
            $released = [DateTimeOffset]::UtcNow
            Assert-Issued $certificate "$prefix-wait.test"
            $second = $waiting | Wait-Job -Timeout 30 | Receive-Job
            $second.Order.Location | Should -Not -Be $first.Location
            $second.At | Should -BeGreaterThan $released.AddSeconds(-1)
            $first.Lock.IsReleased | Should -BeTrue
        } finally {
            $waiting | Remove-Job -Force
            $held = @($second.Order.Lock) | Where-Object { $_ }
            foreach ($l in $held) { $null = $l.ReleaseAsync().GetAwaiter().GetResult() }
        }
    }

    It 'fails with a clear error before the CA is told anything when the store is down' {
        $order = $account | New-AcmeOrder -DnsName "$prefix-down.test"
        $null = $order | Get-AcmeAuthorization
        $redis = $parts.Redis
        if ($Kind -eq 'Redis') { Stop-TestProcess $redis.Process } else { Rename-Item $store "$store-away" }
        try {
            if ($Kind -eq 'Redis') {
                Wait-TestEndpoint -What 'the responders noticing Redis is gone' -Probe { (Get-TestHealth $responders[1].Port) -eq 503 }
            }
            $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
            $published = Invoke-Captured { $order | Start-AcmeHttpChallenge -Store $store -ErrorAction Continue -Verbose 4>&1 }
            $locked = Invoke-Captured { $account | New-AcmeOrder -DnsName "$prefix-down2.test" -LockStore $store -ErrorAction Continue }
            [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $before -Because 'nothing was sent to the CA'

            @($published.Output + $locked.Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeOrder] }) | Should -BeNullOrEmpty
            foreach ($e in @($published.Errors[0], $locked.Errors[0])) {
                $e.FullyQualifiedErrorId | Should -BeLike "$DownErrorId,*"
                $e.CategoryInfo.Category | Should -Be $DownCategory
            }
            if ($Kind -eq 'Redis') {
                $text = "$($published.Errors[0]) $($published.Errors[0].ErrorDetails.RecommendedAction)"
                $text | Should -BeLike "*127.0.0.1:$($redis.Port)*Redis running*"
                "$text $($published.Output | Out-String) $($locked.Errors | Out-String)" | Should -Not -BeLike "*$($redis.Password)*" -Because 'the password is never shown'
            }
            $authorization = @($order | Get-AcmeAuthorization)[0]
            $authorization.Status | Should -Be 'Pending' -Because 'the challenge was never submitted'
            $authorization.GetChallenge('http-01').Status | Should -Be 'Pending'
        } finally {
            if ($Kind -eq 'Redis') {
                $parts.Redis = Start-TestRedis -Folder $redis.Folder -Port $redis.Port -Password $redis.Password
            } else {
                Rename-Item "$store-away" $store
            }
        }
        # StackExchange.Redis reconnects by itself: the responders are healthy again without a restart.
        Wait-TestEndpoint -What 'the responders serving again' -TimeoutSec 30 -Probe { (Get-TestHealth $responders[2].Port) -eq 200 }
    }
}

Describe 'The Redis client loads only when a redis:// store is used' -Skip:$external {
    It 'loads nothing of Redis on Import-Module, and loads it from the module''s redis folder on first use' {
        $pwsh = Get-PwshCommand
        $script = 'Import-Module $env:ACME_TEST_MODULE; $n = { @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -match "Redis|Pipelines" } | ForEach-Object { $_.GetName().Name }) -join "," }; ' +
            '"import:" + (& $n); $s = [Acme.Protocol.ChallengeStores.ChallengeStoreFactory]::Open("redis://127.0.0.1:1"); "opened:" + (& $n); ' +
            'try { $s.CheckAsync([Threading.CancellationToken]::None).GetAwaiter().GetResult() } catch { "check:" + $_.Exception.InnerException.GetType().Name }; "used:" + (& $n)'
        $out = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $script
        $out | Should -Contain 'import:'
        $out | Should -Contain 'opened:Acme.Redis'
        $out | Should -Contain 'check:AcmeLocalException' -Because 'nothing listens on port 1: AcmeStoreUnavailable'
        ($out | Where-Object { $_ -like 'used:*' }) | Should -BeLike '*Acme.Redis*StackExchange.Redis*Pipelines.Sockets.Unofficial*'
    }
}

Describe 'Start-AcmeChallengeResponder' -Skip:$external {
    It 'stops on Ctrl+C within a second and frees its port' {
        $shared = Join-Path $TestDrive 'ctrl-c'
        $null = New-Item -ItemType Directory $shared
        $port = Get-FreeTcpPort
        $ps = [PowerShell]::Create()
        $null = $ps.AddScript({ param($ModulePath, $Store, $Port) Import-Module $ModulePath; Start-AcmeChallengeResponder -Store $Store -Port $Port -ListenAddress 127.0.0.1 }).
            AddArgument($env:ACME_TEST_MODULE).AddArgument($shared).AddArgument($port)
        $async = $ps.BeginInvoke()
        try {
            Wait-TestEndpoint -What 'the responder' -Probe { (Get-TestHealth $port) -eq 200 }
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 1
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            Test-TcpPortFree $port | Should -BeTrue
        } finally {
            $ps.Dispose()
        }
    }

    It 'refuses a store it cannot parse with AcmeInvalidStore, naming no password' {
        $e = { Start-AcmeChallengeResponder -Store 'redis://:hunter2@host:notaport' -Port 1 -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Be 'AcmeInvalidStore,Acme.PowerShell.Commands.StartAcmeChallengeResponderCommand'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        "$e" | Should -Not -BeLike '*hunter2*'
    }

    It 'answers only after -TimeoutSec with a summary of what it served' {
        $shared = Join-Path $TestDrive 'summary'
        $null = New-Item -ItemType Directory $shared
        $store = [Acme.Protocol.ChallengeStores.ChallengeStoreFactory]::Open($shared)
        $store.PublishAsync('summaryToken', 'summaryToken.thumb', [DateTimeOffset]::UtcNow.AddMinutes(5), [Threading.CancellationToken]::None).GetAwaiter().GetResult()
        $port = Get-FreeTcpPort
        $probe = Start-ThreadJob -ArgumentList $port -ScriptBlock {
            param($Port)
            $deadline = [DateTime]::UtcNow.AddSeconds(10)
            while ([DateTime]::UtcNow -lt $deadline) {
                try { return (Invoke-WebRequest "http://127.0.0.1:$Port/.well-known/acme-challenge/summaryToken" -SkipHttpErrorCheck).Content } catch { Start-Sleep -Milliseconds 100 }
            }
        }
        $summary = Start-AcmeChallengeResponder -Store $shared -Port $port -ListenAddress 127.0.0.1 -TimeoutSec 3
        [System.Text.Encoding]::ASCII.GetString(($probe | Wait-Job | Receive-Job)) | Should -Be 'summaryToken.thumb'
        $summary | Should -BeOfType ([Acme.Protocol.Challenges.Http01.AcmeResponderSummary])
        $summary.Answered | Should -Be 1
        $summary.Port | Should -Be $port
        $summary.Store | Should -Be "directory $shared"
        Test-TcpPortFree $port | Should -BeTrue
    }
}
