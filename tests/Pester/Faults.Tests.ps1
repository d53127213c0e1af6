#Requires -Version 7.2
<#
    Transport faults, end to end: the whole pipeline (New-AcmeAccount through Complete-AcmeOrder) runs
    against Pebble through a real HTTPS proxy (tests/Acme.TestKit/FaultProxy.cs) that injects one fault
    per case. Each case ends either in success after a bounded retry, or in one clear error with the
    right ErrorId and category within a bounded time; then the same pipeline, run again with the fault
    gone, completes the order. Every case uses a fresh connection (New-ProxyConnection), so directory
    and nonce faults hit a cold cache, and a 3-second request timeout, so the slow faults stay quick.

    Pebble paths: /dir, /nonce-plz (newNonce), /sign-me-up (newAccount), /order-plz (newOrder),
    /authZ/ (authorizations), /chalZ/ (challenges), /my-order/, /finalize-order/, /certZ/ (certificates).
#>
BeforeDiscovery {
    # Name; Rule (a FaultRule as a hashtable); either Succeeds with the minimum number of requests the
    # rule must have hit, or ErrorId + Category (+ Message, a wildcard the error's text must match).
    # MinSeconds proves a Retry-After was honoured; MaxRequests bounds what a refused request may cost;
    # NothingSaved checks that no fullchain.pem was saved for the connection (and that the run without the fault saves one).
    # A throwaway self-signed certificate, sent eleven times as the chain: one more than a chain may hold.
    $key = [System.Security.Cryptography.ECDsa]::Create()
    $copy = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=Copy', $key, 'SHA256').CreateSelfSigned(
        [DateTimeOffset]::UtcNow.AddDays(-1), [DateTimeOffset]::UtcNow.AddDays(1)).ExportCertificatePem()
    $elevenCopies = (1..11 | ForEach-Object { $copy }) -join "`n"
    $problem503 = '{"type":"urn:ietf:params:acme:error:serverInternal","detail":"the database is being migrated","status":503}'
    $script:faults = @(
        @{ Name = '503 with Retry-After on the directory GET is retried after the wait'
            Rule = @{ Kind = 'ServiceUnavailable'; Method = 'GET'; Path = '^/dir$'; Times = 2; RetryAfter = '1' }
            Succeeds = 2; MinSeconds = 2 }
        @{ Name = '503 with Retry-After on HEAD newNonce is retried after the wait'
            Rule = @{ Kind = 'ServiceUnavailable'; Method = 'HEAD'; Times = 1; RetryAfter = '1' }
            Succeeds = 1; MinSeconds = 1 }
        @{ Name = '503 on every unsigned request ends in AcmeServerUnavailable after the bounded retries'
            Rule = @{ Kind = 'ServiceUnavailable'; Class = 'Unsigned'; Times = 0; RetryAfter = '0' }
            ErrorId = 'AcmeServerUnavailable'; Category = 'ResourceUnavailable'; Message = '*503*'; MaxRequests = 4 }
        @{ Name = '503 asking for a 2-minute pause is not retried and says when to come back'
            Rule = @{ Kind = 'ServiceUnavailable'; Class = 'Unsigned'; Times = 0; RetryAfter = '120' }
            ErrorId = 'AcmeServerUnavailable'; Category = 'ResourceUnavailable'; Action = '*120 seconds*'; MaxRequests = 1 }
        @{ Name = '503 serverInternal with a problem document asking for a 2-minute pause is not retried and says when to come back'
            Rule = @{ Kind = 'Status'; StatusCode = 503; ContentType = 'application/problem+json'; Body = $problem503; Class = 'Unsigned'; Times = 0; RetryAfter = '120' }
            ErrorId = 'AcmeServerInternal'; Category = 'ResourceUnavailable'; Message = '*database is being migrated*'; Action = '*120 seconds*'; MaxRequests = 1 }
        @{ Name = '503 on finalize (a POST that changes state) is not retried'
            Rule = @{ Kind = 'ServiceUnavailable'; Path = '^/finalize-order/'; Times = 1; RetryAfter = '1' }
            ErrorId = 'AcmeServerUnavailable'; Category = 'ResourceUnavailable'; MaxRequests = 1 }
        @{ Name = '429 rateLimited with a 1-second Retry-After on newOrder is waited out and retried'
            Rule = @{ Kind = 'RateLimited'; Path = '^/order-plz$'; Times = 1; RetryAfter = '1' }
            Succeeds = 1; MinSeconds = 1 }
        @{ Name = '429 rateLimited with a 1-hour Retry-After on newOrder ends in AcmeRateLimited with the time'
            Rule = @{ Kind = 'RateLimited'; Path = '^/order-plz$'; Times = 0; RetryAfter = '3600' }
            ErrorId = 'AcmeRateLimited'; Category = 'LimitsExceeded'; Message = '*too many new orders*'; Action = 'Retry after *(3600 seconds)*'; MaxRequests = 1 }
        @{ Name = '429 rateLimited with short waits that never end gives up after the bounded retries'
            Rule = @{ Kind = 'RateLimited'; Path = '^/order-plz$'; Times = 0; RetryAfter = '0' }
            ErrorId = 'AcmeRateLimited'; Category = 'LimitsExceeded'; MaxRequests = 3 }
        @{ Name = 'a connection reset mid-response on an authorization read is retried'
            Rule = @{ Kind = 'ResetMidResponse'; Path = '^/authZ/'; Times = 1 }
            Succeeds = 1 }
        @{ Name = 'a connection reset mid-response on newOrder (not repeatable) ends in AcmeConnectionFailed'
            Rule = @{ Kind = 'ResetMidResponse'; Path = '^/order-plz$'; Times = 1 }
            ErrorId = 'AcmeConnectionFailed'; Category = 'ConnectionError'; MaxRequests = 1 }
        @{ Name = 'an answer slower than the request timeout ends in AcmeTimeout'
            Rule = @{ Kind = 'SlowResponse'; Path = '^/order-plz$'; Times = 1; DelayMilliseconds = 6000 }
            ErrorId = 'AcmeTimeout'; Category = 'OperationTimeout'; Message = '*did not answer within 3 seconds*'; MaxRequests = 1 }
        @{ Name = 'a body that trickles in slower than the request timeout ends in AcmeTimeout'
            Rule = @{ Kind = 'SlowBody'; Path = '^/authZ/'; Times = 1; DelayMilliseconds = 1000 }
            ErrorId = 'AcmeTimeout'; Category = 'OperationTimeout'; MaxRequests = 1 }
        @{ Name = 'truncated JSON on newOrder ends in AcmeProtocolViolation'
            Rule = @{ Kind = 'TruncateBody'; Path = '^/order-plz$'; Times = 1 }
            ErrorId = 'AcmeProtocolViolation'; Category = 'ProtocolError'; Message = '*not a JSON object*'; MaxRequests = 1 }
        @{ Name = 'truncated JSON on the order poll ends in AcmeProtocolViolation'
            Rule = @{ Kind = 'TruncateBody'; Path = '^/my-order/'; Times = 1 }
            ErrorId = 'AcmeProtocolViolation'; Category = 'ProtocolError'; MaxRequests = 1 }
        @{ Name = 'a missing Replay-Nonce on some answers is made up with HEAD newNonce'
            Rule = @{ Kind = 'DropReplayNonce'; Class = 'Post'; Times = 4 }
            Succeeds = 4 }
        @{ Name = 'a missing Replay-Nonce everywhere ends in AcmeProtocolViolation naming the header'
            Rule = @{ Kind = 'DropReplayNonce'; Times = 0 }
            ErrorId = 'AcmeProtocolViolation'; Category = 'ProtocolError'; Message = '*Replay-Nonce*' }
        @{ Name = 'a wrong Content-Type on newOrder ends in AcmeProtocolViolation'
            Rule = @{ Kind = 'WrongContentType'; Path = '^/order-plz$'; Times = 1; ContentType = 'text/html' }
            ErrorId = 'AcmeProtocolViolation'; Category = 'ProtocolError'; Message = "*Content-Type 'text/html'*"; MaxRequests = 1 }
        @{ Name = 'a wrong Content-Type on the certificate ends in AcmeProtocolViolation'
            Rule = @{ Kind = 'WrongContentType'; Path = '^/certZ/'; Times = 1; ContentType = 'application/json' }
            ErrorId = 'AcmeProtocolViolation'; Category = 'ProtocolError'; Message = '*application/pem-certificate-chain*'; MaxRequests = 1 }
        @{ Name = 'a certificate chain of 11 certificates ends in AcmeChainTooLong and nothing is saved'
            Rule = @{ Kind = 'ReplaceBody'; Path = '^/certZ/'; Times = 1; Body = $elevenCopies }
            ErrorId = 'AcmeChainTooLong'; Category = 'InvalidData'; Message = '*11 certificates, more than the 10*'; MaxRequests = 1; NothingSaved = $true }
        @{ Name = 'a 10 MB body with its length declared is refused before it is read'
            Rule = @{ Kind = 'HugeBody'; Path = '^/order-plz$'; Times = 1 }
            ErrorId = 'AcmeProtocolViolation'; Category = 'ProtocolError'; Message = '*10485760 bytes*1048576*'; MaxRequests = 1 }
        @{ Name = 'a 10 MB body without a length is cut off at 1 MiB'
            Rule = @{ Kind = 'HugeBodyUndeclared'; Path = '^/authZ/'; Times = 1 }
            ErrorId = 'AcmeProtocolViolation'; Category = 'ProtocolError'; Message = '*more than the 1048576 bytes*'; MaxRequests = 1 }
        @{ Name = 'a redirect to another host on newOrder is not followed with the signed body'
            Rule = @{ Kind = 'Redirect'; Path = '^/order-plz$'; Times = 1 }
            ErrorId = 'AcmeProtocolViolation'; Category = 'ProtocolError'; Message = '*redirect (307)*localhost*'; MaxRequests = 1 }
        @{ Name = 'a redirect to another host on the directory is not followed'
            Rule = @{ Kind = 'Redirect'; Method = 'GET'; Path = '^/dir$'; Times = 1 }
            ErrorId = 'AcmeProtocolViolation'; Category = 'ProtocolError'; MaxRequests = 1 }
    )
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $ErrorActionPreference = 'Continue'
    $script:pebble = Start-TestPebble
    $script:proxy = Start-TestFaultProxy $pebble
    $script:case = 0

    # The fullchain.pem files saved in the state folder for one proxy connection (each has its own server folder).
    function Get-SavedChain([string] $Directory) {
        $connection = ([uri]$Directory).Query -replace '^\?connection=', ''
        Get-ChildItem -LiteralPath $env:ACME_STATE_PATH -Recurse -Filter fullchain.pem -ErrorAction SilentlyContinue |
            Where-Object { $_.FullName -like "*connection-$connection*" }
    }
}

AfterAll {
    if ($script:proxy) { $script:proxy.Dispose() }
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'Faults between the client and the CA' {
    AfterEach { $proxy.Clear() }

    It '<Name>' -ForEach $faults {
        $name = "fault$(++$script:case).test"
        $directory = New-ProxyConnection $proxy -TimeoutSec 3
        $proxy.ResetLog()
        $rule = $proxy.Add([Acme.TestKit.FaultRule]$Rule)

        $run = Invoke-Captured { Invoke-TestPipeline $directory $proxy.RootCertificate $pebble.HttpPort $name }

        $rule.Hits | Should -BeGreaterThan 0 -Because 'the fault must have been injected'
        $run.Seconds | Should -BeLessThan 30 -Because 'a fault ends in a bounded time, never a hang'
        if ($Succeeds) {
            $run.Errors | Should -BeNullOrEmpty
            $run.Output.Names | Should -Be @($name)
            $rule.Hits | Should -BeGreaterOrEqual $Succeeds
            if ($MinSeconds) { $run.Seconds | Should -BeGreaterOrEqual ($MinSeconds - 0.05) -Because 'the Retry-After was honoured' }
        } else {
            $run.Output | Should -BeNullOrEmpty
            $run.Errors.Count | Should -Be 1 -Because ($run.Errors | Out-String)
            $record = $run.Errors[0]
            $record.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
            $record.CategoryInfo.Category | Should -Be $Category
            $text = if ($record.ErrorDetails) { $record.ErrorDetails.Message } else { $record.Exception.Message }
            $text | Should -Not -Match '\n\s+at \S' -Because 'the message is not a stack trace'
            if ($Message) { "$text $($record.Exception.Message)" | Should -BeLike $Message }
            if ($Action) { $record.ErrorDetails.RecommendedAction | Should -BeLike $Action }
            if ($MaxRequests) { $rule.Hits | Should -BeLessOrEqual $MaxRequests -Because 'a refused request is retried a bounded number of times' }
            if ($NothingSaved) { Get-SavedChain $directory | Should -BeNullOrEmpty -Because 'a refused chain is neither saved nor exported' }
        }
        $proxy.OtherHostConnections | Should -Be 0 -Because 'no request follows a redirect to another host'
        Test-TcpPortFree $pebble.HttpPort | Should -BeTrue -Because 'no listener is left open'

        # The fault is gone: the same pipeline, run again, completes the order.
        $proxy.Clear()
        $again = Invoke-Captured { Invoke-TestPipeline $directory $proxy.RootCertificate $pebble.HttpPort $name }
        $again.Errors | Should -BeNullOrEmpty
        $again.Output.Names | Should -Be @($name)
        if ($NothingSaved) { Get-SavedChain $directory | Should -Not -BeNullOrEmpty -Because 'the check above finds a saved chain when there is one' }
    }

    It 'resumes a failed certificate download from the same order object, with its key, without finalizing again' {
        $directory = New-ProxyConnection $proxy -TimeoutSec 3
        $account = New-AcmeAccount -Server $directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService
        $order = $account | New-AcmeOrder -DnsName resume.test | Start-AcmeHttpChallenge -Port $pebble.HttpPort
        $null = $proxy.Add(@{ Kind = 'ResetMidResponse'; Path = '^/certZ/'; Times = 0 })
        $failed = Invoke-Captured { $order | Complete-AcmeOrder }
        $failed.Errors[0].FullyQualifiedErrorId | Should -BeLike 'AcmeConnectionFailed,*'
        $order.Status | Should -Be 'Valid' -Because 'the order was finalized before the download failed'

        $proxy.Clear()
        $proxy.ResetLog()
        $cert = $order | Complete-AcmeOrder
        $cert.Names | Should -Be @('resume.test')
        $proxy.Count('POST', '^/finalize-order/') | Should -Be 0
        $cert.Key | Should -Not -BeNullOrEmpty -Because 'the key the first attempt made travels with the order'
        # CreateFromPem refuses a key that does not match the certificate.
        $paired = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem(
            $cert.Certificate.ExportCertificatePem(), $cert.Key.ExportPkcs8Pem())
        $paired.HasPrivateKey | Should -BeTrue
    }

    It 'shares one nonce pool: a 429 answer''s nonce is used for the retry, with no HEAD newNonce' {
        $directory = New-ProxyConnection $proxy -TimeoutSec 3
        $account = New-AcmeAccount -Server $directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService
        $proxy.ResetLog()
        $null = $proxy.Add(@{ Kind = 'RateLimited'; Path = '^/order-plz$'; Times = 1; RetryAfter = '0' })
        $order = $account | New-AcmeOrder -DnsName nonce-after-429.test
        $order.Status | Should -Be 'Pending'
        $posts = @($proxy.Requests | Where-Object Path -EQ '/order-plz')
        $posts[0].Status | Should -Be 429
        $posts[0].ReplayNonce | Should -Not -BeNullOrEmpty
        $posts[1].Nonce | Should -Be $posts[0].ReplayNonce -Because 'the retry after a 429 uses the nonce that answer carried'
        $proxy.Count('HEAD', '.') | Should -Be 0 -Because 'no nonce had to be fetched (no badNonce after a 429)'
    }
}
