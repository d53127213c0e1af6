#Requires -Version 7.2
<#
    No secret leaves through a stream: a full issuance with -Verbose -Debug on every cmdlet, a PFX
    password, and failures on purpose, run in its own PowerShell so every stream is captured (output,
    error, warning, verbose, debug, information and progress), plus every error's full exception text
    and every non-key file written. None may hold a private key, the PFX password or an EAB HMAC key.

    EAB: New-AcmeAccount does not take external account binding yet (issue 3). Until it does, the
    binding goes through the core (AcmeClient.NewAccountAsync) with a log that captures its verbose and
    debug text; when the cmdlet parameter lands, move it into $issuance below with -Verbose -Debug.
#>
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:hmacKey = [byte[]]::new(32); [System.Security.Cryptography.RandomNumberGenerator]::Fill($script:hmacKey)
    $script:wrongHmacKey = [byte[]]::new(32); [System.Security.Cryptography.RandomNumberGenerator]::Fill($script:wrongHmacKey)
    $script:pebble = Start-TestPebble -ExternalAccountMacKeys @{ 'secrets-kid' = [Acme.Protocol.Base64Url]::Encode($hmacKey) }

    # The text forms a secret could leak in: as is, base64, base64url and hex.
    function Get-SecretForm([Parameter(Mandatory)] $Secret) {
        $bytes = if ($Secret -is [string]) { [System.Text.Encoding]::UTF8.GetBytes($Secret) } else { [byte[]]$Secret }
        if ($Secret -is [string]) { $Secret }
        [Convert]::ToBase64String($bytes)
        [Acme.Protocol.Base64Url]::Encode($bytes)
        [Convert]::ToHexString($bytes)
        [Convert]::ToHexString($bytes).ToLowerInvariant()
    }

    # The private parts of a key: its PEM body, and its private scalars (EC d; RSA d, p, q) in every form.
    function Get-PrivateKeyForm([Parameter(Mandatory)][Acme.Protocol.Crypto.AcmeKey] $Key) {
        $pem = $Key.ExportPkcs8Pem()
        ($pem -replace '-----[A-Z ]+-----' -replace '\s').Trim()
        '-----BEGIN PRIVATE KEY-----'
        if ($Key.KeyType -eq 'EC') {
            $ec = [System.Security.Cryptography.ECDsa]::Create(); $ec.ImportFromPem($pem)
            Get-SecretForm $ec.ExportParameters($true).D
        } else {
            $rsa = [System.Security.Cryptography.RSA]::Create(); $rsa.ImportFromPem($pem)
            $p = $rsa.ExportParameters($true)
            foreach ($part in $p.D, $p.P, $p.Q) { Get-SecretForm $part }
        }
    }

    function Find-Secret([string[]] $Form, [hashtable] $Corpus) {
        foreach ($where in $Corpus.Keys) {
            foreach ($f in $Form) {
                if ($f.Length -ge 8 -and $Corpus[$where].Contains($f, [StringComparison]::Ordinal)) { "$where holds '$($f.Substring(0, 8))...'" }
            }
        }
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'Secrets' {
    It 'appear in no stream, error or non-key file of a full issuance with -Verbose -Debug and a PFX password' {
        $password = 'pfx-' + [guid]::NewGuid().ToString('N')
        $out = Join-Path $TestDrive 'out'
        $issuance = {
            param($Module, $Pebble, $Password, $Out)
            $ErrorActionPreference = 'Continue'
            Import-Module $Module
            $secure = ConvertTo-SecureString $Password -AsPlainText -Force
            $account = New-AcmeAccount -Server $Pebble.Directory -TrustedRootCertificate $Pebble.ApiRootPath -AcceptTermsOfService -Contact secrets@acme.test -Verbose -Debug
            $cert = $account | New-AcmeOrder -DnsName secrets.test -Verbose -Debug | Start-AcmeHttpChallenge -Port $Pebble.HttpPort -Verbose -Debug |
                Complete-AcmeOrder -KeyAlgorithm RSA2048 -Verbose -Debug
            $cert | Export-AcmeCertificate -Path $Out -PfxPath (Join-Path $Out 'c.pfx') -Password $secure -Verbose -Debug
            # Failures on purpose, with the secrets at hand: a CA refusal and a local write error.
            $account | New-AcmeOrder -DnsName blocked.test -Verbose -Debug
            $cert | Export-AcmeCertificate -PfxPath $Out -Password $secure -Verbose -Debug
            $account
            $cert
        }
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript($issuance).AddArgument($env:ACME_TEST_MODULE).AddArgument($pebble).AddArgument($password).AddArgument($out)
            $output = @($ps.Invoke())
            # Copied out: disposing the PowerShell clears its streams.
            $streams = [pscustomobject]@{
                Error = @($ps.Streams.Error); Warning = @($ps.Streams.Warning); Verbose = @($ps.Streams.Verbose)
                Debug = @($ps.Streams.Debug); Information = @($ps.Streams.Information); Progress = @($ps.Streams.Progress)
            }
        } finally {
            $ps.Dispose()
        }
        $account = $output | Where-Object { $_ -is [Acme.Protocol.AcmeAccount] }
        $cert = $output | Where-Object { $_ -is [Acme.Protocol.AcmeCertificate] }
        $account | Should -Not -BeNullOrEmpty
        $cert.Key | Should -Not -BeNullOrEmpty

        $corpus = @{
            output      = ($output | ForEach-Object { ($_ | Format-List * | Out-String) + [System.Management.Automation.PSSerializer]::Serialize($_, 3) }) -join "`n"
            error       = ($streams.Error | ForEach-Object { $_.ToString(); $_.Exception.ToString(); $_.ErrorDetails.Message; $_.ErrorDetails.RecommendedAction; $_.TargetObject | Out-String }) -join "`n"
            warning     = ($streams.Warning.Message) -join "`n"
            verbose     = ($streams.Verbose.Message) -join "`n"
            debug       = ($streams.Debug.Message) -join "`n"
            information = ($streams.Information | ForEach-Object { "$($_.MessageData)" }) -join "`n"
            progress    = ($streams.Progress | ForEach-Object { "$($_.Activity) $($_.StatusDescription) $($_.CurrentOperation)" }) -join "`n"
        }
        foreach ($file in Get-ChildItem $out -File | Where-Object Name -NE 'key.pem') {
            $corpus["file $($file.Name)"] = [System.Text.Encoding]::Latin1.GetString([System.IO.File]::ReadAllBytes($file.FullName))
        }

        # The capture is real: the streams carry the traffic, and the detector finds the key where it belongs.
        $streams.Verbose.Count | Should -BeGreaterThan 10
        $streams.Debug.Count | Should -BeGreaterThan 10
        $streams.Error.Count | Should -Be 2
        $corpus.Keys | Should -Contain 'file c.pfx'
        Find-Secret (Get-PrivateKeyForm $cert.Key) @{ 'key.pem' = (Get-Content -Raw (Join-Path $out 'key.pem')) } | Should -Not -BeNullOrEmpty

        $secrets = @(Get-PrivateKeyForm $account.Key) + @(Get-PrivateKeyForm $cert.Key) + @(Get-SecretForm $password)
        Find-Secret $secrets $corpus | Should -BeNullOrEmpty
    }

    It 'keeps the EAB HMAC key out of the trace and the errors of an account binding (through the core until the cmdlet takes it)' {
        # In C#: the core logs from thread-pool threads, where a PowerShell class method cannot run.
        if (-not ('AcmeTests.CapturingLog' -as [type])) {
            Add-Type -ReferencedAssemblies ([Acme.Protocol.IAcmeLog].Assembly.Location), netstandard, System.Runtime, System.Collections, System.Threading -TypeDefinition @'
namespace AcmeTests
{
    public sealed class CapturingLog : Acme.Protocol.IAcmeLog
    {
        private readonly System.Collections.Generic.List<string> _lines = new System.Collections.Generic.List<string>();
        public string[] Lines { get { lock (_lines) { return _lines.ToArray(); } } }
        public void Verbose(string message) { lock (_lines) { _lines.Add(message); } }
        public void Debug(string message) { lock (_lines) { _lines.Add(message); } }
        public bool IsDebugEnabled => true;
    }
}
'@
        }
        $log = [AcmeTests.CapturingLog]::new()
        $root = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem((Get-Content -Raw $pebble.ApiRootPath))
        $server = [Acme.Protocol.AcmeServer]::new([uri]$pebble.Directory, $root, $false)
        $client = [Acme.Protocol.AcmeClient]::new($server, $log)
        $key = [Acme.Protocol.Crypto.AcmeKey]::Generate('EC256')
        $binding = [Acme.Protocol.ExternalAccountBinding]::new('secrets-kid', $hmacKey, 'HS256')
        $account = $client.NewAccountAsync($key, [string[]]@('mailto:eab@acme.test'), $true, $binding, $false, [System.Threading.CancellationToken]::None).GetAwaiter().GetResult()
        $account.Status | Should -Be 'Valid'

        $wrong = [Acme.Protocol.ExternalAccountBinding]::new('secrets-kid', $wrongHmacKey, 'HS256')
        $failure = { $client.NewAccountAsync([Acme.Protocol.Crypto.AcmeKey]::Generate('EC256'), [string[]]@(), $true, $wrong, $false,
                [System.Threading.CancellationToken]::None).GetAwaiter().GetResult() } | Should -Throw -PassThru
        $record = [Acme.PowerShell.Infrastructure.AcmeErrorRecords]::Create($failure.Exception, $null)

        $log.Lines.Count | Should -BeGreaterThan 3
        (@($log.Lines) -join "`n") | Should -BeLike '*externalAccountBinding*' -Because 'the debug trace shows the binding it sent'
        $corpus = @{
            trace   = @($log.Lines) -join "`n"
            error   = "$($failure.Exception.ToString()) $($record.ErrorDetails.Message) $($record.ErrorDetails.RecommendedAction)"
            binding = "$binding $wrong $($binding | Format-List * | Out-String)"
        }
        Find-Secret (@(Get-SecretForm $hmacKey) + @(Get-SecretForm $wrongHmacKey) + @(Get-PrivateKeyForm $key)) $corpus | Should -BeNullOrEmpty
    }
}
