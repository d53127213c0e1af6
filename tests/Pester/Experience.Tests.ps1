#Requires -Version 7.2
# The PowerShell experience around the cmdlets, against a real Pebble: format views (and that none shows
# a secret), tab completion, -Verbose and -Debug tracing of a whole issuance, progress, and Ctrl+C.
BeforeDiscovery {
    $module = Import-Module $env:ACME_TEST_MODULE -PassThru -Force
    $commands = @(Get-Command -Module $module.Name -CommandType Cmdlet)
    # Every Acme type a cmdlet outputs, and the ones reached through them, needs a table and a list view.
    $viewTypes = @(@($commands.OutputType.Type | Where-Object { $_ -and $_.Namespace -like 'Acme*' }) +
        @([Acme.Protocol.Model.AcmeAuthorization], [Acme.Protocol.Model.AcmeChallenge], [Acme.Protocol.Model.AcmeDirectory], [Acme.Protocol.Crypto.AcmeKey]) |
        Sort-Object FullName -Unique | ForEach-Object { @{ Type = $_.FullName } })
    $completions = @(foreach ($c in $commands) {
            foreach ($p in $c.Parameters.Values) {
                if ($p.Name -eq 'Server') { @{ Command = $c.Name; Parameter = $p.Name; Expected = @([Acme.Protocol.Model.AcmeServer]::Shortcuts.Keys) } }
                elseif ($p.ParameterType.IsEnum -and $p.ParameterType.Namespace -like 'Acme*') {
                    @{ Command = $c.Name; Parameter = $p.Name; Expected = [enum]::GetNames($p.ParameterType) }
                }
            }
        })
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $pebble = Start-TestPebble

    function Get-KeySecret([Acme.Protocol.Crypto.AcmeKey] $Key) {
        <# Strings that would betray the private key: its PKCS#8 PEM lines and its private scalar in base64, base64url and hex. #>
        $pem = $Key.ExportPkcs8Pem()
        $pem -split "`n" | Where-Object { $_ -and $_ -notlike '-----*' } | ForEach-Object Trim
        $ec = [System.Security.Cryptography.ECDsa]::Create()
        $ec.ImportFromPem($pem)
        $d = $ec.ExportParameters($true).D
        [Convert]::ToBase64String($d)
        [Convert]::ToBase64String($d).TrimEnd('=').Replace('+', '-').Replace('/', '_')
        [Convert]::ToHexString($d)
    }

    function Assert-NoSecret([string] $Text, [string[]] $Secret, [string] $Where) {
        $Text | Should -Not -Match 'PRIVATE KEY' -Because "$Where must not show a private key"
        $Text | Should -Not -Match '"d"\s*:' -Because "$Where must not show a private JWK member"
        foreach ($s in $Secret) {
            $Text.Contains($s, [StringComparison]::OrdinalIgnoreCase) | Should -BeFalse -Because "$Where must not contain key material or a password"
        }
    }
}

AfterAll {
    if ($pebble) { Stop-TestPebble $pebble }
}

Describe 'Format views' {
    BeforeAll {
        $account = New-TestAccount $pebble -Contact 'views@acme.test'
        $pending = $account | New-AcmeOrder -DnsName views.test, www.views.test
        $authorizations = @($pending.Authorizations)
        $challenges = @($authorizations.Challenges)
        $ready = $pending | Start-AcmeHttpChallenge -Port $pebble.HttpPort
        $certificate = $ready | Complete-AcmeOrder
        $directory = [Acme.Protocol.Client.AcmeClient]::new($account.Server).GetDirectoryAsync().GetAwaiter().GetResult()
        $objects = @($account, $account.Key, $pending, $ready, $certificate, $certificate.Key, $directory) + $authorizations + $challenges
        $secrets = @(Get-KeySecret $account.Key) + @(Get-KeySecret $certificate.Key)
    }

    It 'has a table view of 3 to 5 columns and a list view for <Type>' -ForEach $viewTypes {
        $views = (Get-FormatData -TypeName $Type -PowerShellVersion $PSVersionTable.PSVersion).FormatViewDefinition
        $table = @($views | Where-Object { $_.Control -is [System.Management.Automation.TableControl] })
        $table.Count | Should -BeGreaterThan 0 -Because "$Type needs a table view in a *.format.ps1xml file"
        $table[0].Control.Headers.Count | Should -BeIn (3..5)
        @($views | Where-Object { $_.Control -is [System.Management.Automation.ListControl] }).Count | Should -BeGreaterThan 0 -Because "$Type needs a list view"
        # The table is the default display, so it must be defined first.
        $views[0].Control | Should -BeOfType ([System.Management.Automation.TableControl])
    }

    It 'shows each object of a real issuance as its table by default' {
        foreach ($o in $objects) {
            $labels = @(((Get-FormatData -TypeName $o.GetType().FullName -PowerShellVersion $PSVersionTable.PSVersion).FormatViewDefinition |
                        Where-Object { $_.Control -is [System.Management.Automation.TableControl] } | Select-Object -First 1).Control.Headers.Label)
            $header = ($o | Out-String -Width 400) -split "`n" | Where-Object { $_.Trim() } | Select-Object -First 1
            foreach ($label in $labels) { $header | Should -Match "\b$label\b" -Because "the default display of $($o.GetType().Name)" }
        }
    }

    It 'shows an order''s names, status and authorizations done, and a certificate''s days left' {
        # The order is Valid by now: Complete-AcmeOrder refreshed the same object.
        ($ready | Format-Table | Out-String -Width 400) | Should -Match '(www\.)?views\.test, (www\.)?views\.test\s+Valid\s+2 of 2\s'
        ($certificate | Format-Table | Out-String -Width 400) | Should -Match "\s$([int][Math]::Floor(($certificate.NotAfter - [DateTime]::Now).TotalDays))\s+$($certificate.Thumbprint)"
        ($certificate | Format-List | Out-String -Width 400) | Should -Match 'ChainIssuer\s*:'
    }

    It 'shows no private key in any view of any object, with Format-Table, Format-List, their * forms, or Out-String' {
        $secrets.Count | Should -BeGreaterThan 10
        foreach ($o in $objects) {
            $text = @(
                $o | Out-String -Width 400
                $o | Format-Table | Out-String -Width 400
                $o | Format-List | Out-String -Width 400
                $o | Format-Table -Property * | Out-String -Width 400
                $o | Format-List -Property * | Out-String -Width 400
            ) -join "`n"
            Assert-NoSecret $text $secrets "the display of $($o.GetType().Name)"
        }
    }
}

Describe 'Tab completion' {
    It 'completes -<Parameter> of <Command>' -ForEach $completions {
        $line = "$Command -$Parameter "
        $offered = @((TabExpansion2 $line $line.Length).CompletionMatches.CompletionText)
        foreach ($e in $Expected) { $offered | Should -Contain $e }
    }

    It 'narrows the -Server names to what was typed' {
        $line = 'New-AcmeAccount -Server letsen'
        $offered = @((TabExpansion2 $line $line.Length).CompletionMatches)
        @($offered.CompletionText | Sort-Object) | Should -Be @('LetsEncrypt', 'LetsEncryptStaging')
        $offered[0].ToolTip | Should -Match '^https://'
    }
}

Describe 'Tracing and progress of a whole issuance' {
    BeforeAll {
        $out = Join-Path $TestDrive 'traced'
        $password = 'trace-pfx-password-5c1e'
        $ps = [PowerShell]::Create()
        $null = $ps.AddScript({
                param($ModulePath, $Pebble, $Out, $Password)
                Import-Module $ModulePath
                $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
                $account = New-AcmeAccount -Server $Pebble.Directory -TrustedRootCertificate $Pebble.ApiRootPath -AcceptTermsOfService `
                    -Contact 'trace@acme.test' -Verbose -Debug
                $certificate = $account | New-AcmeOrder -DnsName trace.test, www.trace.test -Verbose -Debug |
                    Start-AcmeHttpChallenge -Port $Pebble.HttpPort -Verbose -Debug |
                    Complete-AcmeOrder -Verbose -Debug
                $null = $certificate | Export-AcmeCertificate -Path $Out -PfxPath (Join-Path $Out 'c.pfx') -Verbose -Debug `
                    -Password (ConvertTo-SecureString $Password -AsPlainText -Force)
                [pscustomobject]@{ Requests = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount - $before; Account = $account; Certificate = $certificate }
            }).AddParameters(@{ ModulePath = $env:ACME_TEST_MODULE; Pebble = $pebble; Out = $out; Password = $password })
        $result = $ps.Invoke()[0]
        $streams = $ps.Streams
        $verbose = @($streams.Verbose.Message)
        $debug = @($streams.Debug.Message)
        $ps.Dispose()
        $origin = [regex]::Escape($pebble.Directory -replace '/dir$')
        $requestLine = "^(GET|HEAD|POST) $origin/\S* -> \d{3} [\w ]+ \(\d+ ms(, \d+ retr(y|ies))?\)$"
    }

    It 'issues the certificate with no error' {
        $streams.Error | Should -BeNullOrEmpty
        $result.Certificate.Names | Should -Contain 'trace.test'
    }

    It 'writes exactly one -Verbose line per ACME request: method, URL, status, milliseconds and retries' {
        $result.Requests | Should -BeGreaterThan 8
        @($verbose -match $requestLine).Count | Should -Be $result.Requests
    }

    It 'writes a -Verbose line for each state change' {
        # Pebble lists the identifiers in either order.
        @($verbose -match '^Order https://\S+ for (www\.)?trace\.test, (www\.)?trace\.test is pending\.$').Count | Should -Be 1
        @($verbose -match '^Authorization for (www\.)?trace\.test is now valid\.$').Count | Should -Be 2
        @($verbose -match "^Issued $($result.Certificate.Thumbprint) for ").Count | Should -Be 1
    }

    It 'adds request and response bodies with -Debug' {
        @($debug -match "^POST $origin/\S+ payload: ").Count | Should -BeGreaterThan 3
        @($debug -match "^(GET|POST) $origin/\S+ response \(").Count | Should -BeGreaterThan 3
        # Once per newAccount request: Pebble's random badNonce rejection makes some runs send it twice.
        $newAccountRequests = @($verbose -match "^POST $origin/sign-me-up -> ").Count
        $newAccountRequests | Should -BeGreaterThan 0
        @($debug -match 'payload: \{.*"contact":\["mailto:trace@acme\.test"\]').Count | Should -Be $newAccountRequests -Because 'the newAccount body is traced'
    }

    It 'writes no key material and no password to any stream' {
        $secrets = @(Get-KeySecret $result.Account.Key) + @(Get-KeySecret $result.Certificate.Key) + $password
        $text = @($verbose + $debug + @($streams.Warning.Message) + @($streams.Information | ForEach-Object { "$($_.MessageData)" })) -join "`n"
        $text.Length | Should -BeGreaterThan 1000
        Assert-NoSecret $text $secrets 'the -Verbose and -Debug output'
    }

    It 'reports progress while it waits: authorizations done of total, "times out in N s", and an end' {
        $waits = @($streams.Progress | Where-Object Activity -EQ 'Waiting for the CA to validate')
        $waits.Count | Should -BeGreaterThan 0
        # The time left is said in words in the status ("times out in 296 s"), not as SecondsRemaining, which PowerShell shows as a bare "296s".
        $waits[0].StatusDescription -match '^\d of 2 authorization\(s\) valid; times out in (\d+) s$' | Should -BeTrue -Because $waits[0].StatusDescription
        [int]$Matches[1] | Should -BeGreaterThan 0
        $waits[0].SecondsRemaining | Should -Be -1
        $waits[0].PercentComplete | Should -BeIn 0, 50
        foreach ($activity in 'Answering challenges', 'Finalizing the order') {
            @($streams.Progress | Where-Object { $_.Activity -eq $activity -and $_.RecordType -eq 'Completed' }).Count | Should -Be 1 -Because "$activity ends its progress bar"
        }
    }
}

Describe 'Ctrl+C' {
    BeforeAll {
        $account = New-TestAccount $pebble
        # Pebble validates http-01 by connecting to its http-01 port. A socket there that accepts and never
        # answers keeps the validation, and so the cmdlet's wait, going until the pipeline is stopped.
        $stall = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, $pebble.HttpPort)
        $stall.Start()

        function Start-StoppableWait([scriptblock] $Script, [hashtable] $Parameters) {
            $ps = [PowerShell]::Create()
            $null = $ps.AddScript($Script).AddParameters($Parameters)
            $null = $ps.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            while (-not ($ps.Streams.Progress | Where-Object Activity -EQ 'Waiting for the CA to validate') -and [DateTime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 20
            }
            $ps
        }

        function Test-PortFree([int] $Port) {
            $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::IPv6Any, $Port)
            $probe.Server.DualMode = $true
            try { $probe.Start(); $true } catch { $false } finally { $probe.Stop() }
        }
    }

    AfterAll {
        $stall.Stop()
    }

    It 'stops Start-AcmeHttpChallenge waiting on its listener within a second, and frees the port' {
        $port = Get-FreeTcpPort
        $order = $account | New-AcmeOrder -DnsName stop-listener.test
        $ps = Start-StoppableWait { param($ModulePath, $Order, $Port) Import-Module $ModulePath; $Order | Start-AcmeHttpChallenge -Port $Port -TimeoutSec 120 } @{
            ModulePath = $env:ACME_TEST_MODULE; Order = $order; Port = $port
        }
        try {
            $ps.InvocationStateInfo.State | Should -Be 'Running' -Because 'the cmdlet is waiting for the CA'
            Test-PortFree $port | Should -BeFalse -Because 'the listener answers on the port while it waits'
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 1
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            Test-PortFree $port | Should -BeTrue -Because 'stopping closes the listener'
        } finally {
            $ps.Dispose()
        }
    }

    It 'stops Start-AcmeHttpChallenge -WebRoot within a second, and removes the answer files' {
        $webRoot = Join-Path $TestDrive 'stop-www'
        $null = New-Item -ItemType Directory $webRoot
        $order = $account | New-AcmeOrder -DnsName stop-webroot.test
        $ps = Start-StoppableWait { param($ModulePath, $Order, $WebRoot) Import-Module $ModulePath; $Order | Start-AcmeHttpChallenge -WebRoot $WebRoot -TimeoutSec 120 } @{
            ModulePath = $env:ACME_TEST_MODULE; Order = $order; WebRoot = $webRoot
        }
        try {
            $ps.InvocationStateInfo.State | Should -Be 'Running'
            @(Get-ChildItem -Recurse -Force -File $webRoot).Count | Should -Be 1 -Because 'the answer is in the web root while it waits'
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 1
            Get-ChildItem -Recurse -Force $webRoot | Should -BeNullOrEmpty -Because 'stopping withdraws the answer and the folders made for it'
        } finally {
            $ps.Dispose()
        }
    }
}
