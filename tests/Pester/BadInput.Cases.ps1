<#
    The bad-input corpus: one row per hostile or mistaken input, run by BadInput.Tests.ps1. Add rows as
    you add cmdlets and parameters; the runner checks every row the same way: exactly one error record
    with the ErrorId and category given here, a message that is not a stack trace, no output, nothing
    half-written (no *.tmp file left in $work), no http-01 listener left open, within a bounded time.

    A row:
      Area       identifier | parameter | file | server: what is bad
      Name       what the input is (shown as the test name)
      Run        a script block that feeds the input to a cmdlet. It runs later than this file, so it
                 sees only what the runner provides, not this file's variables: $account, $order (pending),
                 $certificate (issued, with its key), $proxy, $work (an empty folder for this row), $port
                 (the http-01 port), the row's own keys ($Value, $Password...) and Invoke-ProxyPipeline
                 (the whole pipeline on a fresh connection through the fault proxy)
      ErrorId    the ErrorId expected (the part of FullyQualifiedErrorId before the comma)
      Category   the ErrorCategory expected
      NoRequest  $true when the input must be refused before any request is sent
      Fault      (server rows) a FaultRule, as a hashtable, armed on the proxy for this row only
      Message    optional wildcard the error's text must match
      Secret     optional text (a password in the input) that must appear nowhere in the error record

    State rows also see $stateTemplate and Copy-TestState (a copy of a state folder with one account,
    one issued certificate and one pending order, in $work) and Get-TestStateFile (a file in it by name).

#>

# A row made of a base and its own keys; the row's keys win.
function Join-Row([hashtable] $Base, [hashtable] $Row) {
    $joined = $Base.Clone()
    foreach ($key in $Row.Keys) { $joined[$key] = $Row[$key] }
    $joined
}

# A certificate for a key nobody asked for, to hand back where the CA's certificate belongs.
$foreignKey = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
$foreignPem = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=foreign.test', $foreignKey, 'SHA256').CreateSelfSigned(
    [DateTimeOffset]::UtcNow.AddMinutes(-5), [DateTimeOffset]::UtcNow.AddDays(1)).ExportCertificatePem()

# An encrypted PKCS#8 key (passphrase 'right'), with few PBKDF2 rounds so the rows stay quick.
$encryptedKey = [System.Security.Cryptography.ECDsa]::Create().ExportEncryptedPkcs8PrivateKeyPem('right',
    [System.Security.Cryptography.PbeParameters]::new('Aes256Cbc', 'SHA256', 1000))

# Key material for the file rows, made once.
$ecKey = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256).ExportPkcs8PrivateKeyPem()
$rsa1024Key = [System.Security.Cryptography.RSA]::Create(1024).ExportPkcs8PrivateKeyPem()
$p521Key = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP521).ExportPkcs8PrivateKeyPem()
# PKCS#12 files (password 'Pfx-Right-5c1'): one with a key, one holding only a certificate.
$pfxCertificate = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=pfx.test', $foreignKey, 'SHA256').CreateSelfSigned(
    [DateTimeOffset]::UtcNow.AddMinutes(-5), [DateTimeOffset]::UtcNow.AddDays(1))
$pfxWithKey = $pfxCertificate.Export('Pkcs12', 'Pfx-Right-5c1')
$pfxWithoutKey = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pfxCertificate.RawData).Export('Pkcs12', 'Pfx-Right-5c1')
# A CSR for a name the orders in the runner never contain.
$otherRequest = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=other.test', $foreignKey, 'SHA256')
$otherNames = [System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new()
$otherNames.AddDnsName('other.test')
$otherRequest.CertificateExtensions.Add($otherNames.Build())
$otherCsr = $otherRequest.CreateSigningRequestPem()

$invalidName = @{ ErrorId = 'AcmeInvalidIdentifier'; Category = 'InvalidArgument'; NoRequest = $true }
$names = [ordered]@{
    'empty'                                = ''
    'white space only'                     = '   '
    'longer than 253 characters'           = ((('a' * 62) + '.') * 4) + 'test'
    'a 64-character label'                 = ('a' * 64) + '.test'
    'a space inside'                       = 'exa mple.test'
    'a tab inside'                         = "exa`tmple.test"
    'a line break (two names in one)'      = "a.test`nb.test"
    'a NUL character'                      = "a.test`0"
    'an underscore label'                  = '_acme-challenge.example.test'
    'an underscore inside a label'         = 'my_host.test'
    'an https URL'                         = 'https://example.test/'
    'an http URL'                          = 'http://example.test'
    'a path'                               = 'example.test/index.html'
    'a port'                               = 'example.test:443'
    'a bare wildcard'                      = '*'
    '"*." with no name'                    = '*.'
    'two wildcard labels'                  = '*.*.example.com'
    'a wildcard in the middle'             = 'a.*.example.com'
    'a wildcard glued to a label'          = '*a.example.com'
    'a wildcard at the end of a label'     = 'a*.example.com'
    'a double star'                        = '**.example.com'
    'an empty label'                       = 'a..test'
    'a leading dot'                        = '.a.test'
    'two trailing dots'                    = 'a.test..'
    'only dots'                            = '..'
    'a label starting with a hyphen'       = '-a.test'
    'a label ending with a hyphen'         = 'a-.test'
    'a numeric last label'                 = 'host.123'
    'three-part dotted digits'             = '1.2.3'
    'five-part dotted digits'              = '1.2.3.4.5'
    'an IPv4 octet over 255'               = '256.1.1.1'
    'a two-part IPv4 shorthand'            = '127.1'
    'an IPv4 address with a port'          = '192.0.2.1:80'
    'a bracketed IPv6 address with a port' = '[2001:db8::1]:443'
    'an IPv6 address with a zone id'       = 'fe80::1%eth0'
    'a malformed IPv6 address'             = '2001:db8:::1'
    'an e-mail address'                    = 'admin@example.test'
    'a comma-separated list'               = 'a.test,b.test'
    'a semicolon'                          = 'a.test;rm -rf'
    'quotes'                               = '"a.test"'
    'an apostrophe'                        = "o'brien.test"
    'a percent-encoded dot'                = 'a%2Etest'
    'invalid punycode'                     = 'xn--a.test'
    'a hyphen at the start of a label after the first' = 'a.-b.test'
    'ten thousand characters'              = 'a' * 10000
}

$cases = @(
    foreach ($entry in $names.GetEnumerator()) {
        Join-Row $invalidName @{ Area = 'identifier'; Name = "-DnsName: $($entry.Key)"; Value = $entry.Value; Run = { $account | New-AcmeOrder -DnsName $Value } }
    }

    $invalidIp = @{ Area = 'identifier'; Run = { $account | New-AcmeOrder -IPAddress $Value } }
    Join-Row ($invalidIp + $invalidName) @{ Name = '-IPAddress: an IPv6 zone id'; Value = 'fe80::1%25eth0' }
    Join-Row ($invalidIp + $invalidName) @{ Name = '-IPAddress: not hexadecimal'; Value = '2001:db8::g' }
    Join-Row ($invalidIp + $invalidName) @{ Name = '-IPAddress: three octets'; Value = '10.0.0' }
    Join-Row ($invalidIp + $invalidName) @{ Name = '-IPAddress: a host name'; Value = 'www.example.test' }
    Join-Row ($invalidIp + $invalidName) @{ Name = '-IPAddress: an unclosed bracket'; Value = '[::1' }
    Join-Row ($invalidIp + $invalidName) @{ Name = '-IPAddress: empty'; Value = '' }
    Join-Row ($invalidIp + $invalidName) @{ Name = '-IPAddress: a CIDR range'; Value = '192.0.2.0/24' }
    @{ Area = 'identifier'; Name = 'no -DnsName and no -IPAddress'; Run = { $account | New-AcmeOrder }
        ErrorId = 'AcmeNoIdentifier'; Category = 'InvalidArgument'; NoRequest = $true }
    @{ Area = 'identifier'; Name = '-DnsName $null'; Run = { $account | New-AcmeOrder -DnsName $null }
        ErrorId = 'AcmeNoIdentifier'; Category = 'InvalidArgument'; NoRequest = $true }
    @{ Area = 'identifier'; Name = '-DnsName with a null inside'; Run = { $account | New-AcmeOrder -DnsName 'ok.test', $null }
        ErrorId = 'AcmeInvalidIdentifier'; Category = 'InvalidArgument'; NoRequest = $true }

    # ---- parameters -------------------------------------------------------------------------------
    $server = @{ Area = 'parameter'; ErrorId = 'AcmeInvalidServer'; Category = 'InvalidArgument'; NoRequest = $true
        Run = { New-AcmeAccount -Server $Value -AcceptTermsOfService } }
    Join-Row $server @{ Name = '-Server: an http:// directory URL'; Value = 'http://ca.example.test/directory'; Message = '*not https*' }
    Join-Row $server @{ Name = '-Server: an ftp:// URL'; Value = 'ftp://ca.example.test/directory' }
    Join-Row $server @{ Name = '-Server: a file:// URL'; Value = 'file:///etc/passwd' }
    Join-Row $server @{ Name = '-Server: an unknown shortcut'; Value = 'NoSuchCA' }
    Join-Row $server @{ Name = '-Server: "https://" with no host'; Value = 'https://' }
    Join-Row $server @{ Name = '-Server: white space'; Value = '   ' }
    Join-Row $server @{ Name = '-Server: a host without a scheme'; Value = 'acme-v02.api.letsencrypt.org/directory' }
    @{ Area = 'parameter'; Name = '-Server: empty'; Run = { New-AcmeAccount -Server '' -AcceptTermsOfService }
        ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; NoRequest = $true }

    $contact = @{ Area = 'parameter'; ErrorId = 'AcmeInvalidContact'; Category = 'InvalidArgument'; NoRequest = $true
        Run = { New-AcmeAccount -Server LetsEncryptStaging -Contact $Value -AcceptTermsOfService } }
    Join-Row $contact @{ Name = '-Contact: not an address'; Value = 'not an address' }
    Join-Row $contact @{ Name = '-Contact: no domain'; Value = 'admin@' }
    Join-Row $contact @{ Name = '-Contact: no local part'; Value = '@example.test' }
    Join-Row $contact @{ Name = '-Contact: a domain without a dot'; Value = 'admin@localhost' }
    Join-Row $contact @{ Name = '-Contact: two @'; Value = 'admin@@example.test' }
    Join-Row $contact @{ Name = '-Contact: mailto: alone'; Value = 'mailto:' }
    Join-Row $contact @{ Name = '-Contact: a space'; Value = 'ad min@example.test' }
    Join-Row $contact @{ Name = '-Contact: two addresses in one'; Value = 'a@example.test,b@example.test' }
    Join-Row $contact @{ Name = '-Contact: angle brackets'; Value = '<admin@example.test>' }
    Join-Row $contact @{ Name = '-Contact: a mailto with headers'; Value = 'mailto:admin@example.test?subject=hi' }
    Join-Row $contact @{ Name = '-Contact: empty'; Value = '' }

    $binding = @{ Area = 'parameter'; Category = 'InvalidData'; NoRequest = $true }
    $unconvertible = @{ Area = 'parameter'; Category = 'InvalidArgument'; NoRequest = $true; ErrorId = 'CannotConvertArgumentNoMessage' }
    Join-Row $unconvertible @{ Name = '-KeyAlgorithm RSA1024 (too weak)'
        Run = { New-AcmeAccount -Server LetsEncryptStaging -KeyAlgorithm RSA1024 -AcceptTermsOfService } }
    Join-Row $unconvertible @{ Name = '-KeyAlgorithm EC521 (not offered)'
        Run = { $order | Complete-AcmeOrder -KeyAlgorithm EC521 } }
    Join-Row $binding @{ Name = '-TrustedRootCertificate: a file that does not exist'; ErrorId = 'ParameterArgumentTransformationError'
        Run = { New-AcmeAccount -Server LetsEncryptStaging -TrustedRootCertificate (Join-Path $work 'missing.pem') -AcceptTermsOfService } }
    Join-Row $binding @{ Name = '-TrustedRootCertificate: an empty file'; ErrorId = 'ParameterArgumentTransformationError'
        Run = { $f = Join-Path $work 'empty.pem'; Set-Content $f -Value '' -NoNewline
            New-AcmeAccount -Server LetsEncryptStaging -TrustedRootCertificate $f -AcceptTermsOfService } }
    Join-Row $binding @{ Name = '-TrustedRootCertificate: text that is neither PEM nor DER'; ErrorId = 'ParameterArgumentTransformationError'
        Run = { $f = Join-Path $work 'notes.txt'; Set-Content $f -Value 'hello, I am not a certificate'
            New-AcmeAccount -Server LetsEncryptStaging -TrustedRootCertificate $f -AcceptTermsOfService } }
    Join-Row $binding @{ Name = '-TrustedRootCertificate: a PEM file holding only a private key'; ErrorId = 'ParameterArgumentTransformationError'
        Run = { $f = Join-Path $work 'key.pem'; Set-Content $f -Value ([System.Security.Cryptography.ECDsa]::Create().ExportPkcs8PrivateKeyPem())
            New-AcmeAccount -Server LetsEncryptStaging -TrustedRootCertificate $f -AcceptTermsOfService } }
    Join-Row $binding @{ Name = '-TrustedRootCertificate: a truncated PEM certificate'; ErrorId = 'ParameterArgumentTransformationError'
        Run = { $pem = $certificate.Certificate.ExportCertificatePem(); $f = Join-Path $work 'cut.pem'
            Set-Content $f -Value $pem.Substring(0, $pem.Length / 2)
            New-AcmeAccount -Server LetsEncryptStaging -TrustedRootCertificate $f -AcceptTermsOfService } }
    Join-Row $binding @{ Name = '-TrustedRootCertificate: PEM armour around bad base64'; ErrorId = 'ParameterArgumentTransformationError'
        Run = { New-AcmeAccount -Server LetsEncryptStaging -TrustedRootCertificate "-----BEGIN CERTIFICATE-----`n!!not base64!!`n-----END CERTIFICATE-----" -AcceptTermsOfService } }
    Join-Row $binding @{ Name = '-TrustedRootCertificate: PEM armour around base64 that is not a certificate'; ErrorId = 'ParameterArgumentTransformationError'
        Run = { New-AcmeAccount -Server LetsEncryptStaging -TrustedRootCertificate "-----BEGIN CERTIFICATE-----`naGVsbG8gd29ybGQ=`n-----END CERTIFICATE-----" -AcceptTermsOfService } }
    Join-Row $binding @{ Name = '-TrustedRootCertificate: a folder'; ErrorId = 'ParameterArgumentTransformationError'
        Run = { New-AcmeAccount -Server LetsEncryptStaging -TrustedRootCertificate $work -AcceptTermsOfService } }
    Join-Row $binding @{ Name = '-TrustedRootCertificate: a number'; ErrorId = 'ParameterArgumentTransformationError'
        Run = { New-AcmeAccount -Server LetsEncryptStaging -TrustedRootCertificate 12345 -AcceptTermsOfService } }

    foreach ($p in 0, -1, 65536, 70000) {
        Join-Row $binding @{ Name = "-Port $p"; ErrorId = 'ParameterArgumentValidationError'; Value = $p; Run = { $order | Start-AcmeHttpChallenge -Port $Value } }
    }
    foreach ($t in 0, -5, 86401) {
        Join-Row $binding @{ Name = "Start-AcmeHttpChallenge -TimeoutSec $t"; ErrorId = 'ParameterArgumentValidationError'; Value = $t
            Run = { $order | Start-AcmeHttpChallenge -Port $port -TimeoutSec $Value } }
        Join-Row $binding @{ Name = "Complete-AcmeOrder -TimeoutSec $t"; ErrorId = 'ParameterArgumentValidationError'; Value = $t
            Run = { $order | Complete-AcmeOrder -TimeoutSec $Value } }
    }
    Join-Row $unconvertible @{ Name = '-ListenAddress: not an address'
        Run = { $order | Start-AcmeHttpChallenge -Port $port -ListenAddress 'not-an-ip' } }
    @{ Area = 'parameter'; Name = '-ListenAddress: an address this machine does not have'; ErrorId = 'AcmeListenerAddressNotAvailable'
        Category = 'InvalidArgument'; NoRequest = $true; Run = { $order | Start-AcmeHttpChallenge -Port $port -ListenAddress 192.0.2.77 } }
    @{ Area = 'parameter'; Name = '-Port held by another program'; ErrorId = 'AcmeListenerPortInUse'; Category = 'ResourceBusy'; NoRequest = $true
        Run = {
            $other = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $other.Start()
            try { $order | Start-AcmeHttpChallenge -Port $other.LocalEndpoint.Port -ListenAddress 127.0.0.1 -PortWaitSec 0 } finally { $other.Stop() }
        } }
    @{ Area = 'parameter'; Name = '-Port held by another program for the whole -PortWaitSec'; ErrorId = 'AcmeListenerPortInUse'; Category = 'ResourceBusy'; NoRequest = $true
        Message = '*after waiting 1 seconds*'
        Run = {
            $other = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $other.Start()
            try { $order | Start-AcmeHttpChallenge -Port $other.LocalEndpoint.Port -ListenAddress 127.0.0.1 -PortWaitSec 1 } finally { $other.Stop() }
        } }
    Join-Row $binding @{ Name = '-PortWaitSec: negative'; ErrorId = 'ParameterArgumentValidationError'; Run = { $order | Start-AcmeHttpChallenge -Port $port -PortWaitSec -1 } }
    @{ Area = 'parameter'; Name = '-WebRoot: a folder that does not exist'; ErrorId = 'AcmeWebRootNotFound'; Category = 'ObjectNotFound'; NoRequest = $true
        Run = { $order | Start-AcmeHttpChallenge -WebRoot (Join-Path $work 'no-such-folder') } }
    @{ Area = 'parameter'; Name = '-WebRoot: a file, not a folder'; ErrorId = 'AcmeWebRootNotFound'; Category = 'ObjectNotFound'; NoRequest = $true
        Run = { $f = Join-Path $work 'index.html'; Set-Content $f -Value 'hi'; $order | Start-AcmeHttpChallenge -WebRoot $f } }
    Join-Row $binding @{ Name = '-WebRoot: empty'; ErrorId = 'ParameterArgumentValidationError'; Run = { $order | Start-AcmeHttpChallenge -WebRoot '' } }
    @{ Area = 'parameter'; Name = '-Port and -WebRoot together'; ErrorId = 'AmbiguousParameterSet'; Category = 'InvalidArgument'; NoRequest = $true
        Run = { $order | Start-AcmeHttpChallenge -Port $port -WebRoot $work } }
    @{ Area = 'parameter'; Name = '-Store: a folder that does not exist'; ErrorId = 'AcmeStoreNotFound'; Category = 'ObjectNotFound'; NoRequest = $true
        Run = { $order | Start-AcmeHttpChallenge -Store (Join-Path $work 'no-such-share') } }
    @{ Area = 'parameter'; Name = '-Store: a Redis URL with a port that is not a number (password not shown)'; ErrorId = 'AcmeInvalidStore'; Category = 'InvalidArgument'
        NoRequest = $true; Message = '*port*'; Secret = 'hunter2'; Run = { $order | Start-AcmeHttpChallenge -Store 'redis://:hunter2@redis.test:six' } }
    @{ Area = 'parameter'; Name = '-Store: an unknown scheme'; ErrorId = 'AcmeInvalidStore'; Category = 'InvalidArgument'; NoRequest = $true
        Run = { $order | Start-AcmeHttpChallenge -Store 'http://store.test/' } }
    @{ Area = 'parameter'; Name = '-Store: Redis that nothing listens for'; ErrorId = 'AcmeStoreUnavailable'; Category = 'ResourceUnavailable'; NoRequest = $true
        Run = { $order | Start-AcmeHttpChallenge -Store "redis://127.0.0.1:$(Get-FreeTcpPort)" } }
    @{ Area = 'parameter'; Name = '-CheckUrl: https'; ErrorId = 'AcmeInvalidCheckUrl'; Category = 'InvalidArgument'; NoRequest = $true
        Run = { $order | Start-AcmeHttpChallenge -Store $work -CheckUrl 'https://balancer.test/' } }
    @{ Area = 'parameter'; Name = '-Store with -Port'; ErrorId = 'AmbiguousParameterSet'; Category = 'InvalidArgument'; NoRequest = $true
        Run = { $order | Start-AcmeHttpChallenge -Port $port -Store $work } }
    @{ Area = 'parameter'; Name = '-LockStore: a folder that does not exist'; ErrorId = 'AcmeStoreNotFound'; Category = 'ObjectNotFound'; NoRequest = $true
        Run = { $account | New-AcmeOrder -DnsName lock.test -LockStore (Join-Path $work 'no-such-share') } }
    @{ Area = 'parameter'; Name = '-LockStore: a name another process holds'; ErrorId = 'AcmeCertificateLocked'; Category = 'ResourceBusy'; NoRequest = $true
        Run = {
            $held = [Acme.Protocol.Locking.CertificateLocks]::AcquireAsync([Acme.Protocol.ChallengeStores.ChallengeStoreFactory]::Open($work), 'locked.test',
                [TimeSpan]::FromMinutes(1), [TimeSpan]::Zero, $null, [Threading.CancellationToken]::None).GetAwaiter().GetResult()
            try { $account | New-AcmeOrder -DnsName locked.test -LockStore $work } finally { $null = $held.ReleaseAsync().GetAwaiter().GetResult() }
        } }
    Join-Row $binding @{ Name = '-LockTimeoutSec: negative'; ErrorId = 'ParameterArgumentValidationError'; Run = { $account | New-AcmeOrder -DnsName a.test -LockStore $work -LockTimeoutSec -1 } }
    @{ Area = 'parameter'; Name = 'Start-AcmeChallengeResponder -Port held by another program'; ErrorId = 'AcmeListenerPortInUse'; Category = 'ResourceBusy'; NoRequest = $true
        Run = {
            $other = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $other.Start()
            try { Start-AcmeChallengeResponder -Store $work -Port $other.LocalEndpoint.Port -ListenAddress 127.0.0.1 -TimeoutSec 5 } finally { $other.Stop() }
        } }
    $dnsScript = @{ Area = 'file'; ErrorId = 'AcmeDnsScriptInvalid'; Category = 'InvalidData'; NoRequest = $true }
    @{ Area = 'file'; Name = 'New-AcmeCertificate -DnsScriptPath: a file that does not exist'; ErrorId = 'AcmeDnsScriptNotFound'; Category = 'ObjectNotFound'; NoRequest = $true
        Run = { New-AcmeCertificate -DnsName a.test -StatePath $work -DnsScriptPath (Join-Path $work 'no-such-script.ps1') } }
    Join-Row $dnsScript @{ Name = 'New-AcmeCertificate -DnsScriptPath: a script that does not parse'; Message = '*line 2*'
        Run = { $f = Join-Path $work 'dns.ps1'; Set-Content $f "function Add-AcmeDnsRecord { }`nfunction Remove-AcmeDnsRecord {"; New-AcmeCertificate -DnsName a.test -StatePath $work -DnsScriptPath $f } }
    Join-Row $dnsScript @{ Name = 'New-AcmeCertificate -DnsScriptPath: no Remove-AcmeDnsRecord'; Message = '*Remove-AcmeDnsRecord*'
        Run = { $f = Join-Path $work 'dns.ps1'; Set-Content $f 'function Add-AcmeDnsRecord { }'; New-AcmeCertificate -DnsName a.test -StatePath $work -DnsScriptPath $f } }
    Join-Row $dnsScript @{ Name = 'New-AcmeCertificate -DnsScriptPath: a script that throws while it loads'; Message = '*no API token*'
        Run = { $f = Join-Path $work 'dns.ps1'; Set-Content $f 'throw "no API token"'; New-AcmeCertificate -DnsName a.test -StatePath $work -DnsScriptPath $f } }
    Join-Row $dnsScript @{ Name = 'New-AcmeCertificate -DnsScriptPath: the functions only in the session, not in the file'; Message = '*Add-AcmeDnsRecord*'
        Run = {
            function global:Add-AcmeDnsRecord { }; function global:Remove-AcmeDnsRecord { }
            try { $f = Join-Path $work 'dns.ps1'; Set-Content $f '# nothing'; New-AcmeCertificate -DnsName a.test -StatePath $work -DnsScriptPath $f }
            finally { Remove-Item function:\Add-AcmeDnsRecord, function:\Remove-AcmeDnsRecord }
        } }
    Join-Row $binding @{ Name = 'New-AcmeOrder -Account $null'; ErrorId = 'ParameterArgumentValidationError'; Run = { New-AcmeOrder -Account $null -DnsName a.test } }
    Join-Row $binding @{ Name = 'Start-AcmeHttpChallenge -Order $null'; ErrorId = 'ParameterArgumentValidationError'; Run = { Start-AcmeHttpChallenge -Order $null -Port $port } }
    Join-Row $binding @{ Name = 'Complete-AcmeOrder -Order $null'; ErrorId = 'ParameterArgumentValidationError'; Run = { Complete-AcmeOrder -Order $null } }
    Join-Row $binding @{ Name = 'Export-AcmeCertificate -Certificate $null'; ErrorId = 'ParameterArgumentValidationError'; Run = { Export-AcmeCertificate -Certificate $null -Path $work } }
    @{ Area = 'parameter'; Name = 'a string piped to New-AcmeOrder'; ErrorId = 'ParameterArgumentTransformationError'; Category = 'InvalidData'; NoRequest = $true
        Message = '*New-AcmeOrder takes an AcmeAccount; you piped a String: use New-AcmeAccount first*'
        Run = { 'https://acme.example.test/acct/1' | New-AcmeOrder -DnsName a.test } }
    # Not PowerShell's bare InputObjectNotBound: which object the cmdlet takes, and which cmdlet makes it.
    @{ Area = 'parameter'; Name = 'an account piped to Complete-AcmeOrder'; ErrorId = 'ParameterArgumentTransformationError'; Category = 'InvalidData'; NoRequest = $true
        Message = '*Complete-AcmeOrder takes an AcmeOrder; you piped an AcmeAccount: use New-AcmeOrder first*'
        Run = { $account | Complete-AcmeOrder } }
    @{ Area = 'parameter'; Name = 'Complete-AcmeOrder on an order whose challenges were not answered'; ErrorId = 'AcmeOrderNotReady'; Category = 'InvalidOperation'
        Run = { $order | Complete-AcmeOrder } }

    @{ Area = 'parameter'; NoRequest = $true; Name = 'Get-AcmeDirectory -Server: an http:// URL'; ErrorId = 'AcmeInvalidServer'; Category = 'InvalidArgument'
        Run = { Get-AcmeDirectory -Server 'http://ca.example.test/directory' } }
    @{ Area = 'parameter'; NoRequest = $true; Name = 'Set-AcmeAccount -Contact: not an address'; ErrorId = 'AcmeInvalidContact'; Category = 'InvalidArgument'
        Run = { $account | Set-AcmeAccount -Contact 'not an address' } }
    @{ Area = 'parameter'; NoRequest = $true; Name = 'New-AcmeOrder -NotAfter before -NotBefore'; ErrorId = 'AcmeInvalidValidity'; Category = 'InvalidArgument'
        Run = { $account | New-AcmeOrder -DnsName a.test -NotBefore (Get-Date).AddDays(2) -NotAfter (Get-Date).AddDays(1) } }
    Join-Row $binding @{ Name = 'New-AcmeOrder -Profile empty'; ErrorId = 'ParameterArgumentValidationError'; Run = { $account | New-AcmeOrder -DnsName a.test -Profile '' } }
    Join-Row $binding @{ Name = 'New-AcmeOrder -Replaces: not a certificate identifier'; ErrorId = 'ParameterArgumentTransformationError'; Run = { $account | New-AcmeOrder -DnsName a.test -Replaces 'garbage' } }
    @{ Area = 'parameter'; NoRequest = $true; Name = 'Get-AcmeOrder -Url: an http:// URL'; ErrorId = 'AcmeInvalidOrderUrl'; Category = 'InvalidArgument'
        Run = { Get-AcmeOrder -Account $account -Url 'http://127.0.0.1/my-order/x' } }
    @{ Area = 'parameter'; NoRequest = $true; Name = 'Get-AcmeOrder -Url: not a URL'; ErrorId = 'AcmeInvalidOrderUrl'; Category = 'InvalidArgument'
        Run = { Get-AcmeOrder -Account $account -Url 'not a url' } }
    @{ Area = 'parameter'; Name = 'Get-AcmeOrder -Url: an order the CA does not know'; ErrorId = 'AcmeOrderNotFound'; Category = 'ObjectNotFound'
        Run = { Get-AcmeOrder -Account $account -Url ($order.Location.AbsoluteUri + 'x') } }
    @{ Area = 'parameter'; NoRequest = $true; Name = 'Get-AcmeRenewalInfo -CertificateId: not an identifier'; ErrorId = 'AcmeInvalidCertificateId'; Category = 'InvalidArgument'
        Run = { Get-AcmeRenewalInfo -Account $account -CertificateId 'garbage' } }
    Join-Row $unconvertible @{ Name = 'Revoke-AcmeCertificate -Reason 99'; Run = { Revoke-AcmeCertificate -Account $account -Certificate $certificate -Reason 99 -Confirm:$false } }
    foreach ($p in 0, 70000) {
        Join-Row $binding @{ Name = "Start-AcmeTlsAlpnChallenge -Port $p"; ErrorId = 'ParameterArgumentValidationError'; Value = $p; Run = { $order | Start-AcmeTlsAlpnChallenge -Port $Value } }
    }
    Join-Row $binding @{ Name = 'Start-AcmeDnsChallenge -PropagationTimeoutSec -1'; ErrorId = 'ParameterArgumentValidationError'; Run = { $order | Start-AcmeDnsChallenge -Manual -PropagationTimeoutSec -1 } }
    @{ Area = 'parameter'; NoRequest = $true; Name = 'Start-AcmeDnsChallenge -DnsAlias: not a DNS name'; ErrorId = 'AcmeInvalidDnsAlias'; Category = 'InvalidArgument'
        Run = { $order | Start-AcmeDnsChallenge -AddRecord { } -RemoveRecord { } -DnsAlias @{ 'badinput-pending.test' = 'bad name!' } } }
    @{ Area = 'parameter'; NoRequest = $true; Name = 'Start-AcmeDnsChallenge -Manual in a session nobody can answer'; ErrorId = 'AcmeManualNotInteractive'; Category = 'InvalidOperation'
        Run = { $order | Start-AcmeDnsChallenge -Manual } }
    Join-Row $binding @{ Name = 'Wait-AcmeOrder -TimeoutSec 0'; ErrorId = 'ParameterArgumentValidationError'; Run = { $order | Wait-AcmeOrder -TimeoutSec 0 } }
    Join-Row $binding @{ Name = 'Submit-AcmeChallenge -Challenge $null'; ErrorId = 'ParameterArgumentValidationError'; Run = { Submit-AcmeChallenge -Challenge $null } }

    $accountKey = @{ Area = 'parameter'; NoRequest = $true }
    Join-Row $accountKey @{ Name = 'Export-AcmeAccountKey -Path: an existing file without -Force'; ErrorId = 'AcmeFileExists'; Category = 'ResourceExists'
        Run = { $f = Join-Path $work 'taken.key'; Set-Content $f 'keep me'; $account | Export-AcmeAccountKey -Path $f } }
    Join-Row $accountKey @{ Name = 'Export-AcmeAccountKey -Password: empty'; ErrorId = 'AcmeInvalidPassword'; Category = 'InvalidArgument'
        Run = { $account | Export-AcmeAccountKey -Path (Join-Path $work 'a.key') -Password ([securestring]::new()) } }
    Join-Row $accountKey @{ Name = 'Export-AcmeAccountKey -Path: a folder'; ErrorId = 'AcmeExportPathIsFolder'; Category = 'InvalidArgument'
        Run = { $account | Export-AcmeAccountKey -Path $work -Force } }
    Join-Row $accountKey @{ Name = 'Export-AcmeAccountKey -Path: below a file'; ErrorId = 'AcmeFileError'; Category = 'WriteError'
        Run = { $f = Join-Path $work 'file'; Set-Content $f 'x'; $account | Export-AcmeAccountKey -Path (Join-Path $f 'a.key') } }

    $export = @{ Area = 'parameter'; NoRequest = $true }
    Join-Row $export @{ Name = 'Export-AcmeCertificate with neither -Path nor -PfxPath'; ErrorId = 'AcmeNoExportTarget'; Category = 'InvalidArgument'
        Run = { $certificate | Export-AcmeCertificate } }
    Join-Row $export @{ Name = '-PfxPath without -Password'; ErrorId = 'AcmePfxPasswordRequired'; Category = 'InvalidArgument'
        Run = { $certificate | Export-AcmeCertificate -PfxPath (Join-Path $work 'c.pfx') } }
    Join-Row $export @{ Name = '-PfxPath with an empty password'; ErrorId = 'AcmePfxPasswordRequired'; Category = 'InvalidArgument'
        Run = { $certificate | Export-AcmeCertificate -PfxPath (Join-Path $work 'c.pfx') -Password ([securestring]::new()) } }
    Join-Row $unconvertible @{ Name = '-Password as plain text'
        Run = { $certificate | Export-AcmeCertificate -PfxPath (Join-Path $work 'c.pfx') -Password 'plain-text-password' } }
    Join-Row $export @{ Name = '-Path: an existing file'; ErrorId = 'AcmeExportPathIsFile'; Category = 'InvalidArgument'
        Run = { $f = Join-Path $work 'taken'; Set-Content $f -Value 'keep me'; $certificate | Export-AcmeCertificate -Path $f } }
    Join-Row $export @{ Name = '-Path: a folder below a file'; ErrorId = 'AcmeFileError'; Category = 'WriteError'
        Run = { $f = Join-Path $work 'file'; Set-Content $f -Value 'x'; $certificate | Export-AcmeCertificate -Path (Join-Path $f 'sub') } }
    Join-Row $export @{ Name = '-PfxPath: an existing folder'; ErrorId = 'AcmeFileError'; Category = 'WriteError'
        Run = { $null = New-Item -ItemType Directory (Join-Path $work 'c.pfx'); $certificate | Export-AcmeCertificate -PfxPath (Join-Path $work 'c.pfx') -Password (ConvertTo-SecureString 'pw' -AsPlainText -Force) } }
    Join-Row $export @{ Name = '-PfxPath: below a file'; ErrorId = 'AcmeFileError'; Category = 'WriteError'
        Run = { $f = Join-Path $work 'file'; Set-Content $f -Value 'x'; $certificate | Export-AcmeCertificate -PfxPath (Join-Path $f 'c.pfx') -Password (ConvertTo-SecureString 'pw' -AsPlainText -Force) } }
    Join-Row $export @{ Name = '-Path: empty'; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'
        Run = { $certificate | Export-AcmeCertificate -Path '' } }

    # ---- files ---------------------------------------------------------------------------------------
    # A key file for New-AcmeAccount -KeyPath: Value is its text ($null: no file at all), Password its passphrase.
    $keyFile = @{ Area = 'file'; NoRequest = $true; Category = 'InvalidArgument'
        Run = {
            $f = Join-Path $work 'account.key'
            if ($null -ne $Value) { Set-Content -LiteralPath $f -Value $Value -NoNewline }
            $passphrase = if ($Password) { @{ KeyPassword = (ConvertTo-SecureString $Password -AsPlainText -Force) } } else { @{} }
            New-AcmeAccount -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService -KeyPath $f @passphrase
        } }
    Join-Row $keyFile @{ Name = '-KeyPath: a file that does not exist'; Value = $null; ErrorId = 'AcmeKeyFileNotFound'; Category = 'ObjectNotFound' }
    Join-Row $keyFile @{ Name = '-KeyPath: text that is not PEM'; Value = 'just some text'; ErrorId = 'AcmeInvalidKey' }
    Join-Row $keyFile @{ Name = '-KeyPath: an empty file'; Value = ''; ErrorId = 'AcmeInvalidKey' }
    Join-Row $keyFile @{ Name = '-KeyPath: a truncated key'; Value = $ecKey.Substring(0, 120) + "`n-----END PRIVATE KEY-----"; ErrorId = 'AcmeInvalidKey' }
    Join-Row $keyFile @{ Name = '-KeyPath: damaged base64'; Value = "-----BEGIN PRIVATE KEY-----`nMIGHAgEAMBMGByqGSM49AgEG!!!`n-----END PRIVATE KEY-----"; ErrorId = 'AcmeInvalidKey' }
    Join-Row $keyFile @{ Name = '-KeyPath: an RSA key of 1024 bits'; Value = $rsa1024Key; ErrorId = 'AcmeUnsupportedKey'; Message = '*1024 bits*' }
    Join-Row $keyFile @{ Name = '-KeyPath: an EC key on P-521'; Value = $p521Key; ErrorId = 'AcmeUnsupportedKey' }
    Join-Row $keyFile @{ Name = '-KeyPath: a certificate where the key belongs'; Value = $foreignPem; ErrorId = 'AcmeInvalidKey' }
    Join-Row $keyFile @{ Name = '-KeyPath: an encrypted key without -KeyPassword'; Value = $encryptedKey; ErrorId = 'AcmeKeyPasswordRequired' }
    @{ Area = 'file'; NoRequest = $true; Name = '-KeyPath: an encrypted key with the wrong -KeyPassword'; Value = $encryptedKey; Password = 'wrong'
        ErrorId = 'AcmeKeyPasswordIncorrect'; Category = 'AuthenticationError'; Run = $keyFile.Run }
    # A PKCS#12 (PFX) file for -KeyPath: Value is its bytes, Password its password.
    $pfxFile = Join-Row $keyFile @{
        Run = {
            $f = Join-Path $work 'account.pfx'
            Set-Content -LiteralPath $f -Value $Value -AsByteStream
            $password = if ($Password) { @{ KeyPassword = (ConvertTo-SecureString $Password -AsPlainText -Force) } } else { @{} }
            New-AcmeAccount -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService -KeyPath $f @password
        } }
    Join-Row $pfxFile @{ Name = '-KeyPath: a PFX file with the wrong -KeyPassword'; Value = $pfxWithKey; Password = 'Pfx-Wr0ng-9d2'; Secret = 'Pfx-Wr0ng-9d2'
        ErrorId = 'AcmeKeyPasswordIncorrect'; Category = 'AuthenticationError'; Message = '*PFX*password*' }
    Join-Row $pfxFile @{ Name = '-KeyPath: a PFX file without its -KeyPassword'; Value = $pfxWithKey; ErrorId = 'AcmeKeyPasswordRequired' }
    Join-Row $pfxFile @{ Name = '-KeyPath: a PFX file holding only a certificate'; Value = $pfxWithoutKey; Password = 'Pfx-Right-5c1'; ErrorId = 'AcmeInvalidKey'; Message = '*no private key*' }
    Join-Row $pfxFile @{ Name = '-KeyPath: binary junk, neither PEM nor PFX'; Value = [byte[]](0x30, 0x82, 0x01, 0x00, 0xde, 0xad); ErrorId = 'AcmeInvalidKey'; Message = '*neither*' }
    Join-Row $pfxFile @{ Name = '-KeyPath: a truncated PFX file'; Value = $pfxWithKey[0..200]; Password = 'Pfx-Right-5c1'; ErrorId = 'AcmeInvalidKey' }
    @{ Area = 'file'; NoRequest = $true; Name = 'Complete-AcmeOrder -CertificateKeyPath: a PFX file with the wrong password'; Value = $pfxWithKey
        ErrorId = 'AcmeKeyPasswordIncorrect'; Category = 'AuthenticationError'; Secret = 'Pfx-Wr0ng-9d2'
        Run = { $f = Join-Path $work 'cert.pfx'; Set-Content -LiteralPath $f -Value $Value -AsByteStream
            $order | Complete-AcmeOrder -CertificateKeyPath $f -CertificateKeyPassword (ConvertTo-SecureString 'Pfx-Wr0ng-9d2' -AsPlainText -Force) } }
    @{ Area = 'file'; NoRequest = $true; Name = 'Complete-AcmeOrder -CertificateKey: a PFX file with a password (it needs -CertificateKeyPath)'; Value = $pfxWithKey
        ErrorId = 'ParameterArgumentTransformationError'; Category = 'InvalidData'; Message = '*-CertificateKeyPassword*'
        Run = { $f = Join-Path $work 'cert.pfx'; Set-Content -LiteralPath $f -Value $Value -AsByteStream; $order | Complete-AcmeOrder -CertificateKey $f } }
    @{ Area = 'parameter'; NoRequest = $true; Name = 'Revoke-AcmeCertificate: -CertificateKeyPath with -UseCertificateKey'
        ErrorId = 'AcmeConflictingParameters'; Category = 'InvalidArgument'
        Run = { $f = Join-Path $work 'key.pem'; Set-Content -LiteralPath $f -Value $certificate.Key.ExportPkcs8Pem()
            $certificate | Revoke-AcmeCertificate -CertificateKeyPath $f -UseCertificateKey -Confirm:$false } }
    @{ Area = 'file'; NoRequest = $true; Name = '-KeyPath: a folder'; ErrorId = 'AcmeKeyFileNotFound'; Category = 'ObjectNotFound'
        Run = { New-AcmeAccount -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService -KeyPath $work } }
    @{ Area = 'file'; NoRequest = $true; Name = 'Get-AcmeAccount -KeyPath: a file that does not exist'; ErrorId = 'AcmeKeyFileNotFound'; Category = 'ObjectNotFound'
        Run = { Get-AcmeAccount -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate -KeyPath (Join-Path $work 'none.key') } }
    @{ Area = 'file'; NoRequest = $true; Name = 'Update-AcmeAccountKey -NewKeyPath: an RSA key of 1024 bits'; ErrorId = 'AcmeUnsupportedKey'; Category = 'InvalidArgument'; Value = $rsa1024Key
        Run = { $f = Join-Path $work 'new.key'; Set-Content $f $Value; $account | Update-AcmeAccountKey -NewKeyPath $f -Confirm:$false } }
    $certKey = @{ Area = 'file'; NoRequest = $true; ErrorId = 'ParameterArgumentTransformationError'; Category = 'InvalidData'
        Run = { $f = Join-Path $work 'cert.key'; if ($null -ne $Value) { Set-Content $f $Value }; $order | Complete-AcmeOrder -CertificateKey $f } }
    Join-Row $certKey @{ Name = 'Complete-AcmeOrder -CertificateKey: an RSA key of 1024 bits'; Value = $rsa1024Key; Message = '*1024 bits*' }
    Join-Row $certKey @{ Name = 'Complete-AcmeOrder -CertificateKey: a file that does not exist'; Value = $null }
    Join-Row $certKey @{ Name = 'Complete-AcmeOrder -CertificateKey: a truncated key'; Value = $ecKey.Substring(0, 120) }

    # A CSR for Complete-AcmeOrder -CertificateSigningRequest: Value is the file's text ($null: no file).
    $csr = @{ Area = 'file'; NoRequest = $true; Category = 'InvalidArgument'
        Run = { $f = Join-Path $work 'request.csr'; if ($null -ne $Value) { Set-Content $f $Value -NoNewline }; $order | Complete-AcmeOrder -CertificateSigningRequest $f } }
    Join-Row $csr @{ Name = 'a CSR whose names differ from the order'; Value = $otherCsr; ErrorId = 'AcmeCsrMismatch'; Category = 'InvalidData'; Message = '*badinput-pending.test*' }
    Join-Row $csr @{ Name = 'a CSR file that is not a CSR'; Value = 'hello'; ErrorId = 'AcmeInvalidCsr' }
    Join-Row $csr @{ Name = 'an empty CSR file'; Value = ''; ErrorId = 'AcmeInvalidCsr' }
    Join-Row $csr @{ Name = 'a certificate given as the CSR'; Value = $foreignPem; ErrorId = 'AcmeInvalidCsr' }
    Join-Row $csr @{ Name = 'a CSR file that does not exist'; Value = $null; ErrorId = 'AcmeCsrFileNotFound'; Category = 'ObjectNotFound' }

    # External account binding: the key id with an HMAC key file (Value) or a credential.
    $eab = @{ Area = 'file'; NoRequest = $true; ErrorId = 'AcmeInvalidBinding'; Category = 'InvalidArgument'
        Run = {
            $f = Join-Path $work 'hmac.key'
            if ($null -ne $Value) { Set-Content $f $Value -NoNewline }
            New-AcmeAccount -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService -ExternalAccountKeyId kid-1 -ExternalAccountKeyPath $f
        } }
    Join-Row $eab @{ Name = 'an HMAC key file that is not base64url'; Value = 'not base64url!!' }
    Join-Row $eab @{ Name = 'an empty HMAC key file'; Value = '' }
    Join-Row $eab @{ Name = 'an HMAC key file that does not exist'; Value = $null; ErrorId = 'AcmeKeyFileNotFound'; Category = 'ObjectNotFound' }
    @{ Area = 'parameter'; NoRequest = $true; Name = '-ExternalAccountKeyId without -ExternalAccountKeyPath'; ErrorId = 'AcmeInvalidBinding'; Category = 'InvalidArgument'
        Run = { New-AcmeAccount -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService -ExternalAccountKeyId kid-1 } }
    @{ Area = 'parameter'; NoRequest = $true; Name = '-ExternalAccountBinding with an HMAC key that is not base64url'; ErrorId = 'AcmeInvalidBinding'; Category = 'InvalidArgument'
        Run = { New-AcmeAccount -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService `
                -ExternalAccountBinding ([pscredential]::new('kid-1', (ConvertTo-SecureString '!!!' -AsPlainText -Force))) } }
    @{ Area = 'parameter'; NoRequest = $true; Name = '-ExternalAccountBinding and -ExternalAccountKeyId together'; ErrorId = 'AcmeInvalidBinding'; Category = 'InvalidArgument'
        Run = { Set-Content (Join-Path $work 'hmac.key') 'abcd'
            New-AcmeAccount -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService `
                -ExternalAccountBinding ([pscredential]::new('kid-1', (ConvertTo-SecureString 'abcd' -AsPlainText -Force))) -ExternalAccountKeyId kid-1 -ExternalAccountKeyPath (Join-Path $work 'hmac.key') } }
    Join-Row $binding @{ Name = '-ExternalAccountAlgorithm HS1'; ErrorId = 'ParameterArgumentValidationError'
        Run = { New-AcmeAccount -Server LetsEncryptStaging -AcceptTermsOfService -ExternalAccountKeyId kid-1 -ExternalAccountKeyPath (Join-Path $work 'x') -ExternalAccountAlgorithm HS1 } }

    # Certificates given as files.
    $certFile = @{ Area = 'file'; NoRequest = $true; Category = 'InvalidArgument'; ErrorId = 'AcmeInvalidCertificate'
        Run = { $f = Join-Path $work 'cert.pem'; if ($null -ne $Value) { Set-Content $f $Value }; Revoke-AcmeCertificate -Account $account -CertificatePath $f -Confirm:$false } }
    Join-Row $certFile @{ Name = 'Revoke-AcmeCertificate -CertificatePath: a file that does not exist'; Value = $null; ErrorId = 'AcmeCertificateFileNotFound'; Category = 'ObjectNotFound' }
    Join-Row $certFile @{ Name = 'Revoke-AcmeCertificate -CertificatePath: text that is not a certificate'; Value = 'hello' }
    Join-Row $certFile @{ Name = 'Revoke-AcmeCertificate -CertificatePath: a private key'; Value = $ecKey }
    @{ Area = 'file'; NoRequest = $true; Name = 'Get-AcmeRenewalInfo -CertificatePath: text that is not a certificate'; ErrorId = 'AcmeInvalidCertificate'; Category = 'InvalidArgument'
        Run = { $f = Join-Path $work 'cert.pem'; Set-Content $f 'hello'; Get-AcmeRenewalInfo -Account $account -CertificatePath $f } }
    # ---- the state folder ----------------------------------------------------------------------------
    # A copy of the state template in $work, one file damaged (Value: the file's new text, or $null to delete it), then Read.
    $damaged = @{ Area = 'state'; NoRequest = $true; ErrorId = 'AcmeStateCorrupt'; Category = 'InvalidData'; Message = '*state file*'
        Run = {
            $sp = Copy-TestState
            $f = Get-TestStateFile $sp $File $Under
            if ($null -eq $Value) { Remove-Item -LiteralPath $f } else { Set-Content -LiteralPath $f -Value $(if ($Value -is [scriptblock]) { & $Value (Get-Content -Raw $f) } else { $Value }) -NoNewline }
            & $Read $sp
        } }
    $readAccount = { param($sp) Get-AcmeAccount -StatePath $sp -Name default }
    $readOrder = { param($sp) Get-AcmeOrder -StatePath $sp -Name badinput-state-pending.test }
    $readCertificate = { param($sp) Get-AcmeCertificate -StatePath $sp -Name badinput-state.test }
    $truncate = { param($text) $text.Substring(0, [Math]::Min(40, $text.Length)) }
    $otherP256 = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256).ExportPkcs8PrivateKeyPem()
    Join-Row $damaged @{ Name = 'account.json truncated'; File = 'account.json'; Value = $truncate; Read = $readAccount }
    Join-Row $damaged @{ Name = 'account.json a JSON array'; File = 'account.json'; Value = '[]'; Read = $readAccount }
    Join-Row $damaged @{ Name = 'account.json empty'; File = 'account.json'; Value = ''; Read = $readAccount }
    Join-Row $damaged @{ Name = 'account.json without the account URL'; File = 'account.json'; Value = '{"status":"valid"}'; Read = $readAccount }
    Join-Row $damaged @{ Name = 'account-key.pem truncated'; File = 'account-key.pem'; Value = $truncate; Read = $readAccount }
    Join-Row $damaged @{ Name = 'account-key.pem empty'; File = 'account-key.pem'; Value = ''; Read = $readAccount }
    Join-Row $damaged @{ Name = 'account-key.pem deleted'; File = 'account-key.pem'; Value = $null; Read = $readAccount }
    Join-Row $damaged @{ Name = 'account-key.pem another P-256 key'; File = 'account-key.pem'; Value = $otherP256; Read = $readAccount; Message = '*not the account*' }
    Join-Row $damaged @{ Name = 'account-key.pem a P-521 key'; File = 'account-key.pem'; Value = $p521Key; Read = $readAccount }
    Join-Row $damaged @{ Name = 'order.json truncated'; File = 'order.json'; Under = 'badinput-state-pending.test'; Value = $truncate; Read = $readOrder }
    Join-Row $damaged @{ Name = 'order.json with an unknown status'; File = 'order.json'; Under = 'badinput-state-pending.test'; Value = { param($t) $t -replace '"pending"', '"paused"' }; Read = $readOrder }
    Join-Row $damaged @{ Name = 'current holds no thumbprint'; File = 'current'; Value = 'junk'; Read = $readCertificate }
    Join-Row $damaged @{ Name = 'current names a version that is not there'; File = 'current'; Value = ('A' * 40); Read = $readCertificate }
    Join-Row $damaged @{ Name = 'fullchain.pem truncated'; File = 'fullchain.pem'; Value = $truncate; Read = $readCertificate }
    Join-Row $damaged @{ Name = 'certificate.json truncated'; File = 'certificate.json'; Value = $truncate; Read = $readCertificate }
    Join-Row $damaged @{ Name = 'a certificate''s key.pem damaged'; File = 'key.pem'; Value = "-----BEGIN PRIVATE KEY-----`nAAAA`n-----END PRIVATE KEY-----"; Read = $readCertificate }
    Join-Row $damaged @{ Name = 'a certificate''s key.pem another key'; File = 'key.pem'; Value = $otherP256; Read = $readCertificate; Message = '*not the certificate*' }
    Join-Row $damaged @{ Name = 'server.json truncated'; File = 'server.json'; Value = $truncate; Read = $readCertificate }
    Join-Row $damaged @{ Name = 'server.json without the directory URL'; File = 'server.json'; Value = '{}'; Read = $readAccount }
    Join-Row $damaged @{ Name = 'Test-AcmeRenewal on a damaged certificate'; File = 'fullchain.pem'; Value = 'x'; Read = { param($sp) Get-AcmeCertificate -StatePath $sp | Test-AcmeRenewal } }
    Join-Row $damaged @{ Name = 'New-AcmeCertificate on a damaged account'; File = 'account.json'; Value = '{'
        Read = { param($sp) New-AcmeCertificate -DnsName badinput-other.test -StatePath $sp -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService -HttpPort $port } }
    Join-Row $damaged @{ Name = 'New-AcmeCertificate on a damaged current'; File = 'current'; Value = 'zz'
        Read = { param($sp) New-AcmeCertificate -DnsName badinput-state.test -StatePath $sp -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService -HttpPort $port } }

    # State folder paths that cannot be used.
    $statePath = @{ Area = 'state'; NoRequest = $true; ErrorId = 'AcmeInvalidStatePath'; Category = 'InvalidArgument' }
    $issueInto = { param($sp) New-AcmeCertificate -DnsName badinput-path.test -StatePath $sp -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService -HttpPort $port }
    Join-Row $statePath @{ Name = 'New-AcmeCertificate -StatePath: a file'; Run = { $f = Join-Path $work 'file'; Set-Content $f 'x'; & $Issue $f }; Issue = $issueInto; Message = '*is a file*' }
    Join-Row $statePath @{ Name = 'New-AcmeAccount -StatePath: a file'
        Run = { $f = Join-Path $work 'file'; Set-Content $f 'x'; New-AcmeAccount -StatePath $f -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService } }
    Join-Row $statePath @{ Name = 'Get-AcmeCertificate -StatePath: a file'; Run = { $f = Join-Path $work 'file'; Set-Content $f 'x'; Get-AcmeCertificate -StatePath $f } }
    Join-Row $statePath @{ Name = 'New-AcmeCertificate -StatePath: on a drive that does not exist'; Run = { & $Issue 'Q:\acme-state' }; Issue = $issueInto; Message = '*drive*' }
    Join-Row $statePath @{ Name = 'Get-AcmeAccount -StatePath: on a drive that does not exist'; Run = { Get-AcmeAccount -StatePath 'Q:\acme-state' } }
    Join-Row $statePath @{ Name = 'Get-AcmeOrder -StatePath: a provider path that is not the file system'; Run = { Get-AcmeOrder -StatePath 'Env:\PATH' } }
    $stateWrite = @{ Area = 'state'; NoRequest = $true; ErrorId = 'AcmeStateWriteFailed'; Category = 'WriteError' }
    Join-Row $stateWrite @{ Name = 'New-AcmeCertificate -StatePath: below a file'; Issue = $issueInto
        Run = { $f = Join-Path $work 'file'; Set-Content $f 'x'; & $Issue (Join-Path $f 'state') } }
    if ($IsLinux) {
        Join-Row $stateWrite @{ Name = 'New-AcmeCertificate -StatePath: where nothing can be written (/proc)'; Issue = $issueInto; Run = { & $Issue '/proc/acme-state' } }
    }

    # Cmdlets added with the state folder.
    $oneShot = @{ Area = 'parameter'; NoRequest = $true }
    Join-Row $oneShot @{ Name = 'New-AcmeCertificate -Name: a reserved name'; ErrorId = 'AcmeInvalidName'; Category = 'InvalidArgument'
        Run = { New-AcmeCertificate -DnsName x.test -Name con -StatePath $work -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService -HttpPort $port } }
    Join-Row $oneShot @{ Name = 'New-AcmeCertificate -AccountName: a path'; ErrorId = 'AcmeInvalidName'; Category = 'InvalidArgument'
        Run = { New-AcmeCertificate -DnsName x.test -AccountName '../x' -StatePath $work -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService -HttpPort $port } }
    Join-Row $oneShot @{ Name = 'New-AcmeCertificate -DnsName: a URL'; ErrorId = 'AcmeInvalidIdentifier'; Category = 'InvalidArgument'
        Run = { New-AcmeCertificate -DnsName 'https://x.test/' -StatePath $work -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService -HttpPort $port } }
    Join-Row $oneShot @{ Name = 'New-AcmeCertificate -HttpPort 0'; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'
        Run = { New-AcmeCertificate -DnsName x.test -StatePath $work -Server $proxy.Directory -AcceptTermsOfService -HttpPort 0 } }
    Join-Row $oneShot @{ Name = 'New-AcmeCertificate -PfxPath without -Password'; ErrorId = 'AcmePfxPasswordRequired'; Category = 'InvalidArgument'
        Run = { New-AcmeCertificate -DnsName x.test -StatePath $work -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService -HttpPort $port -PfxPath (Join-Path $work 'c.pfx') } }
    Join-Row $oneShot @{ Name = 'New-AcmeCertificate -KeyPassphrase: the wrong one for an encrypted state'; ErrorId = 'AcmeKeyPasswordIncorrect'; Category = 'AuthenticationError'
        NoRequest = $false; Secret = 'not-the-passphrase-7f3'
        Run = {
            $sp = Join-Path $work 'encrypted'
            $null = New-AcmeAccount -StatePath $sp -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService -KeyPassphrase (ConvertTo-SecureString right -AsPlainText -Force)
            New-AcmeCertificate -DnsName x.test -StatePath $sp -Server $proxy.Directory -AcceptTermsOfService -HttpPort $port -KeyPassphrase (ConvertTo-SecureString not-the-passphrase-7f3 -AsPlainText -Force)
        } }
    Join-Row $oneShot @{ Name = 'Remove-AcmeCertificate: a certificate not saved in a state folder'; ErrorId = 'AcmeNotSaved'; Category = 'InvalidOperation'
        Run = { [Acme.Protocol.Model.AcmeCertificate]::FromPem($certificate.Pem) | Remove-AcmeCertificate -Confirm:$false } }
    Join-Row $oneShot @{ Name = 'Get-AcmeCertificate -Name: a name that is not saved'; ErrorId = 'AcmeCertificateNotFound'; Category = 'ObjectNotFound'
        Run = { Get-AcmeCertificate -StatePath (Copy-TestState) -Name nothing.test } }
    Join-Row $oneShot @{ Name = 'Test-AcmeRenewal -CertificatePath: text that is not a certificate'; ErrorId = 'AcmeInvalidCertificate'; Category = 'InvalidArgument'
        Run = { $f = Join-Path $work 'cert.pem'; Set-Content $f 'junk'; Test-AcmeRenewal -CertificatePath $f } }
    Join-Row $oneShot @{ Name = 'Test-AcmeRenewal -CertificatePath: a file that does not exist'; ErrorId = 'AcmeCertificateFileNotFound'; Category = 'ObjectNotFound'
        Run = { Test-AcmeRenewal -CertificatePath (Join-Path $work 'none.pem') } }

    # Challenge stores: connection strings that are not.
    $badStore = @{ Area = 'store'; NoRequest = $true; ErrorId = 'AcmeInvalidStore'; Category = 'InvalidArgument' }
    Join-Row $badStore @{ Name = '-LockStore: a StackExchange.Redis configuration string (password not shown)'; Message = '*password=`*`*`**'; Secret = 'hunter2'
        Run = { $account | New-AcmeOrder -DnsName s.test -LockStore '127.0.0.1:6379,password=hunter2' } }
    Join-Row $badStore @{ Name = '-LockStore: redis:// with no host'; Run = { $account | New-AcmeOrder -DnsName s.test -LockStore 'redis://' } }
    Join-Row $badStore @{ Name = '-LockStore: a database that is not a number'; Run = { $account | New-AcmeOrder -DnsName s.test -LockStore 'redis://127.0.0.1:6379/notadb' } }
    Join-Row $badStore @{ Name = '-Store: an unknown option'; Run = { $order | Start-AcmeHttpChallenge -Store 'redis://127.0.0.1:6379/0?bogus=1' } }
    Join-Row $badStore @{ Name = 'Start-AcmeChallengeResponder -Store: on a drive that does not exist'; Run = { Start-AcmeChallengeResponder -Store 'Q:\share' -Port $port -TimeoutSec 1 } }
    @{ Area = 'store'; NoRequest = $true; Name = 'Start-AcmeChallengeResponder -Store: a file'; ErrorId = 'AcmeStoreNotFound'; Category = 'ObjectNotFound'
        Run = { $f = Join-Path $work 'file'; Set-Content $f 'x'; Start-AcmeChallengeResponder -Store $f -Port $port -TimeoutSec 1 } }
    # ---- server answers (through the fault proxy) ----------------------------------------------------
    $violation = @{ Area = 'server'; ErrorId = 'AcmeProtocolViolation'; Category = 'ProtocolError'; Run = { Invoke-ProxyPipeline } }
    Join-Row $violation @{ Name = 'directory: invalid JSON'; Fault = @{ Kind = 'ReplaceBody'; Path = '^/dir$'; Body = '{"newNonce": ' } }
    Join-Row $violation @{ Name = 'directory: a JSON array'; Fault = @{ Kind = 'ReplaceBody'; Path = '^/dir$'; Body = '[]' } }
    Join-Row $violation @{ Name = 'directory: JSON null'; Fault = @{ Kind = 'ReplaceBody'; Path = '^/dir$'; Body = 'null' } }
    Join-Row $violation @{ Name = 'directory: no newOrder'; Fault = @{ Kind = 'EditJson'; Path = '^/dir$'; JsonField = 'newOrder' }; Message = "*no 'newOrder' URL*" }
    Join-Row $violation @{ Name = 'directory: newAccount is not a URL'; Fault = @{ Kind = 'EditJson'; Path = '^/dir$'; JsonField = 'newAccount'; JsonValue = '"sign me up"' } }
    Join-Row $violation @{ Name = 'directory: newAccount over plain http'; Message = '*not an https URL*'
        Fault = @{ Kind = 'EditJson'; Path = '^/dir$'; JsonField = 'newAccount'; JsonValue = '"http://127.0.0.1:9/sign-me-up"' } }
    Join-Row $violation @{ Name = 'directory: newNonce is a file:// URL'; Message = '*not an https URL*'
        Fault = @{ Kind = 'EditJson'; Path = '^/dir$'; JsonField = 'newNonce'; JsonValue = '"file:///etc/passwd"' } }
    Join-Row $violation @{ Name = 'account: an unknown status'; Fault = @{ Kind = 'EditJson'; Path = '^/sign-me-up$'; JsonField = 'status'; JsonValue = '"sleeping"' }; Message = "*unknown status 'sleeping'*" }
    Join-Row $violation @{ Name = 'account: a status in the wrong case'; Fault = @{ Kind = 'EditJson'; Path = '^/sign-me-up$'; JsonField = 'status'; JsonValue = '"Valid"' } }
    Join-Row $violation @{ Name = 'account: no status'; Fault = @{ Kind = 'EditJson'; Path = '^/sign-me-up$'; JsonField = 'status' } }
    Join-Row $violation @{ Name = 'account: no Location header'; Fault = @{ Kind = 'DropHeader'; Path = '^/sign-me-up$'; Header = 'Location' }; Message = '*Location*' }
    Join-Row $violation @{ Name = 'account: an empty body'; Fault = @{ Kind = 'ReplaceBody'; Path = '^/sign-me-up$'; Body = '' } }
    Join-Row $violation @{ Name = 'order: an unknown status'; Fault = @{ Kind = 'EditJson'; Path = '^/order-plz$'; JsonField = 'status'; JsonValue = '"bogus"' } }
    Join-Row $violation @{ Name = 'order: a status that is a number'; Fault = @{ Kind = 'EditJson'; Path = '^/order-plz$'; JsonField = 'status'; JsonValue = '42' } }
    Join-Row $violation @{ Name = 'order: no identifiers'; Fault = @{ Kind = 'EditJson'; Path = '^/order-plz$'; JsonField = 'identifiers' } }
    Join-Row $violation @{ Name = 'order: no finalize URL'; Fault = @{ Kind = 'EditJson'; Path = '^/order-plz$'; JsonField = 'finalize' } }
    Join-Row $violation @{ Name = 'order: pending without authorizations'; Fault = @{ Kind = 'EditJson'; Path = '^/order-plz$'; JsonField = 'authorizations'; JsonValue = '[]' }; Message = '*lists no authorizations*' }
    Join-Row $violation @{ Name = 'order: authorizations is not an array'; Fault = @{ Kind = 'EditJson'; Path = '^/order-plz$'; JsonField = 'authorizations'; JsonValue = '"x"' } }
    Join-Row $violation @{ Name = 'order: an authorization that is not a URL'; Fault = @{ Kind = 'EditJson'; Path = '^/order-plz$'; JsonField = 'authorizations'; JsonValue = '["authz number one"]' } }
    Join-Row $violation @{ Name = 'order: no Location header'; Fault = @{ Kind = 'DropHeader'; Path = '^/order-plz$'; Header = 'Location' } }
    Join-Row $violation @{ Name = 'order: a JSON string'; Fault = @{ Kind = 'ReplaceBody'; Path = '^/order-plz$'; Body = '"just a string"' } }
    @{ Area = 'server'; Name = 'order: an authorization URL where nothing listens'; ErrorId = 'AcmeConnectionFailed'; Category = 'ConnectionError'; Run = { Invoke-ProxyPipeline }
        Fault = @{ Kind = 'EditJson'; Path = '^/order-plz$'; JsonField = 'authorizations'; JsonValue = '["https://127.0.0.1:9/authZ/nothing-here"]' } }
    Join-Row $violation @{ Name = 'authorization: an unknown status'; Fault = @{ Kind = 'EditJson'; Path = '^/authZ/'; JsonField = 'status'; JsonValue = '"maybe"' } }
    Join-Row $violation @{ Name = 'authorization: no identifier'; Fault = @{ Kind = 'EditJson'; Path = '^/authZ/'; JsonField = 'identifier' } }
    Join-Row $violation @{ Name = 'authorization: a token with path traversal'; Message = '*base64url*'
        Fault = @{ Kind = 'EditJson'; Path = '^/authZ/'; JsonField = 'challenges'; JsonValue = '[{"type":"http-01","url":"https://127.0.0.1:9/chalZ/x","token":"../../etc/passwd","status":"pending"}]' } }
    Join-Row $violation @{ Name = 'authorization: a challenge without a URL'
        Fault = @{ Kind = 'EditJson'; Path = '^/authZ/'; JsonField = 'challenges'; JsonValue = '[{"type":"http-01","token":"abc","status":"pending"}]' } }
    Join-Row $violation @{ Name = 'authorization: a challenge with an unknown status'
        Fault = @{ Kind = 'EditJson'; Path = '^/authZ/'; JsonField = 'challenges'; JsonValue = '[{"type":"http-01","url":"https://127.0.0.1:9/chalZ/x","token":"abc","status":"soon"}]' } }
    @{ Area = 'server'; Name = 'authorization: no challenges at all'; ErrorId = 'AcmeChallengeTypeUnavailable'; Category = 'InvalidOperation'; Run = { Invoke-ProxyPipeline }
        Fault = @{ Kind = 'EditJson'; Path = '^/authZ/'; JsonField = 'challenges'; JsonValue = '[]' } }
    @{ Area = 'server'; Name = 'authorization: only a challenge type nobody knows'; ErrorId = 'AcmeChallengeTypeUnavailable'; Category = 'InvalidOperation'; Run = { Invoke-ProxyPipeline }
        Fault = @{ Kind = 'EditJson'; Path = '^/authZ/'; JsonField = 'challenges'; JsonValue = '[{"type":"carrier-pigeon-01","url":"https://127.0.0.1:9/chalZ/x","token":"abc","status":"pending"}]' } }
    Join-Row $violation @{ Name = 'authorization poll: an unknown status'; Fault = @{ Kind = 'EditJson'; Path = '^/authZ/'; After = 1; JsonField = 'status'; JsonValue = '"whatever"' } }
    Join-Row $violation @{ Name = 'challenge answer: invalid JSON'; Fault = @{ Kind = 'ReplaceBody'; Path = '^/chalZ/'; Body = '{"type":' } }
    Join-Row $violation @{ Name = 'order poll: no finalize URL'; Fault = @{ Kind = 'EditJson'; Path = '^/my-order/'; JsonField = 'finalize' } }
    Join-Row $violation @{ Name = 'finalize answer: an unknown status'; Fault = @{ Kind = 'EditJson'; Path = '^/finalize-order/'; JsonField = 'status'; JsonValue = '"done"' } }
    Join-Row $violation @{ Name = 'certificate: text that is not PEM'; Message = '*no certificate*'
        Fault = @{ Kind = 'ReplaceBody'; Path = '^/certZ/'; Body = 'hello'; ContentType = 'application/pem-certificate-chain' } }
    Join-Row $violation @{ Name = 'certificate: PEM armour around junk'
        Fault = @{ Kind = 'ReplaceBody'; Path = '^/certZ/'; Body = "-----BEGIN CERTIFICATE-----`n!!!!`n-----END CERTIFICATE-----`n"; ContentType = 'application/pem-certificate-chain' } }
    Join-Row $violation @{ Name = 'certificate: an empty body'; Fault = @{ Kind = 'ReplaceBody'; Path = '^/certZ/'; Body = ''; ContentType = 'application/pem-certificate-chain' } }
    Join-Row $violation @{ Name = 'certificate: a certificate for another key'; Message = '*different public key*'
        Fault = @{ Kind = 'ReplaceBody'; Path = '^/certZ/'; Body = $foreignPem; ContentType = 'application/pem-certificate-chain' } }
    @{ Area = 'server'; Name = 'problem: HTTP 400 with a body that is not JSON'; ErrorId = 'AcmeServerError'; Category = 'InvalidOperation'; Run = { Invoke-ProxyPipeline }
        Fault = @{ Kind = 'Status'; Path = '^/order-plz$'; StatusCode = 400; Body = 'oops'; ContentType = 'text/plain' }; Message = '*oops*' }
    @{ Area = 'server'; Name = 'problem: a type from another namespace'; ErrorId = 'AcmeServerError'; Category = 'InvalidOperation'; Run = { Invoke-ProxyPipeline }
        Fault = @{ Kind = 'Status'; Path = '^/order-plz$'; StatusCode = 403; ContentType = 'application/problem+json'; Body = '{"type":"urn:example:weird","detail":"a weird refusal"}' }; Message = '*a weird refusal*' }
    @{ Area = 'server'; Name = 'problem: a status that is not a number'; ErrorId = 'AcmeMalformed'; Category = 'InvalidArgument'; Run = { Invoke-ProxyPipeline }
        Fault = @{ Kind = 'Status'; Path = '^/order-plz$'; StatusCode = 400; ContentType = 'application/problem+json'; Body = '{"type":"urn:ietf:params:acme:error:malformed","detail":"bad","status":"four hundred"}' } }
    @{ Area = 'server'; Name = 'problem: a JSON array instead of a problem document'; ErrorId = 'AcmeServerError'; Category = 'InvalidOperation'; Run = { Invoke-ProxyPipeline }
        Fault = @{ Kind = 'Status'; Path = '^/order-plz$'; StatusCode = 400; ContentType = 'application/problem+json'; Body = '[1,2,3]' } }
    @{ Area = 'server'; Name = 'problem: an HTML 500 page on newOrder'; ErrorId = 'AcmeServerUnavailable'; Category = 'ResourceUnavailable'; Run = { Invoke-ProxyPipeline }
        Fault = @{ Kind = 'Status'; Path = '^/order-plz$'; StatusCode = 500; ContentType = 'text/html'; Body = '<html><body>Internal Server Error</body></html>' } }
)

$cases
