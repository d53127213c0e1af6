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
                 $certificate (issued, with its key), $work (an empty folder for this row), $port (the
                 http-01 port), $Value (the row's Value) and Invoke-ProxyPipeline (the whole pipeline on
                 a fresh connection through the fault proxy)
      ErrorId    the ErrorId expected (the part of FullyQualifiedErrorId before the comma)
      Category   the ErrorCategory expected
      NoRequest  $true when the input must be refused before any request is sent
      Fault      (server rows) a FaultRule, as a hashtable, armed on the proxy for this row only
      Message    optional wildcard the error's text must match

    Key files: no cmdlet takes a key file yet (issue 3 adds them); the 'file' rows below import keys
    through the core (Acme.Protocol.Crypto.AcmeKey) and map the error with the cmdlet layer's mapper,
    so they become cmdlet rows by swapping Run when those parameters land.
#>

# A certificate for a key nobody asked for, to hand back where the CA's certificate belongs.
$foreignKey = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
$foreignPem = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=foreign.test', $foreignKey, 'SHA256').CreateSelfSigned(
    [DateTimeOffset]::UtcNow.AddMinutes(-5), [DateTimeOffset]::UtcNow.AddDays(1)).ExportCertificatePem()

# An encrypted PKCS#8 key (passphrase 'right'), with few PBKDF2 rounds so the rows stay quick.
$encryptedKey = [System.Security.Cryptography.ECDsa]::Create().ExportEncryptedPkcs8PrivateKeyPem('right',
    [System.Security.Cryptography.PbeParameters]::new('Aes256Cbc', 'SHA256', 1000))

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
        $invalidName + @{ Area = 'identifier'; Name = "-DnsName: $($entry.Key)"; Value = $entry.Value; Run = { $account | New-AcmeOrder -DnsName $Value } }
    }

    $invalidIp = @{ Area = 'identifier'; Run = { $account | New-AcmeOrder -IPAddress $Value } }
    $invalidIp + $invalidName + @{ Name = '-IPAddress: an IPv6 zone id'; Value = 'fe80::1%25eth0' }
    $invalidIp + $invalidName + @{ Name = '-IPAddress: not hexadecimal'; Value = '2001:db8::g' }
    $invalidIp + $invalidName + @{ Name = '-IPAddress: three octets'; Value = '10.0.0' }
    $invalidIp + $invalidName + @{ Name = '-IPAddress: a host name'; Value = 'www.example.test' }
    $invalidIp + $invalidName + @{ Name = '-IPAddress: an unclosed bracket'; Value = '[::1' }
    $invalidIp + $invalidName + @{ Name = '-IPAddress: empty'; Value = '' }
    $invalidIp + $invalidName + @{ Name = '-IPAddress: a CIDR range'; Value = '192.0.2.0/24' }
    @{ Area = 'identifier'; Name = 'no -DnsName and no -IPAddress'; Run = { $account | New-AcmeOrder }
        ErrorId = 'AcmeNoIdentifier'; Category = 'InvalidArgument'; NoRequest = $true }
    @{ Area = 'identifier'; Name = '-DnsName $null'; Run = { $account | New-AcmeOrder -DnsName $null }
        ErrorId = 'AcmeNoIdentifier'; Category = 'InvalidArgument'; NoRequest = $true }
    @{ Area = 'identifier'; Name = '-DnsName with a null inside'; Run = { $account | New-AcmeOrder -DnsName 'ok.test', $null }
        ErrorId = 'AcmeInvalidIdentifier'; Category = 'InvalidArgument'; NoRequest = $true }

    # ---- parameters -------------------------------------------------------------------------------
    $server = @{ Area = 'parameter'; ErrorId = 'AcmeInvalidServer'; Category = 'InvalidArgument'; NoRequest = $true
        Run = { New-AcmeAccount -Server $Value -AcceptTermsOfService } }
    $server + @{ Name = '-Server: an http:// directory URL'; Value = 'http://ca.example.test/directory'; Message = '*not https*' }
    $server + @{ Name = '-Server: an ftp:// URL'; Value = 'ftp://ca.example.test/directory' }
    $server + @{ Name = '-Server: a file:// URL'; Value = 'file:///etc/passwd' }
    $server + @{ Name = '-Server: an unknown shortcut'; Value = 'NoSuchCA' }
    $server + @{ Name = '-Server: "https://" with no host'; Value = 'https://' }
    $server + @{ Name = '-Server: white space'; Value = '   ' }
    $server + @{ Name = '-Server: a host without a scheme'; Value = 'acme-v02.api.letsencrypt.org/directory' }
    @{ Area = 'parameter'; Name = '-Server: empty'; Run = { New-AcmeAccount -Server '' -AcceptTermsOfService }
        ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; NoRequest = $true }

    $contact = @{ Area = 'parameter'; ErrorId = 'AcmeInvalidContact'; Category = 'InvalidArgument'; NoRequest = $true
        Run = { New-AcmeAccount -Server LetsEncryptStaging -Contact $Value -AcceptTermsOfService } }
    $contact + @{ Name = '-Contact: not an address'; Value = 'not an address' }
    $contact + @{ Name = '-Contact: no domain'; Value = 'admin@' }
    $contact + @{ Name = '-Contact: no local part'; Value = '@example.test' }
    $contact + @{ Name = '-Contact: a domain without a dot'; Value = 'admin@localhost' }
    $contact + @{ Name = '-Contact: two @'; Value = 'admin@@example.test' }
    $contact + @{ Name = '-Contact: mailto: alone'; Value = 'mailto:' }
    $contact + @{ Name = '-Contact: a space'; Value = 'ad min@example.test' }
    $contact + @{ Name = '-Contact: two addresses in one'; Value = 'a@example.test,b@example.test' }
    $contact + @{ Name = '-Contact: angle brackets'; Value = '<admin@example.test>' }
    $contact + @{ Name = '-Contact: a mailto with headers'; Value = 'mailto:admin@example.test?subject=hi' }
    $contact + @{ Name = '-Contact: empty'; Value = '' }

    $binding = @{ Area = 'parameter'; Category = 'InvalidData'; NoRequest = $true }
    $unconvertible = @{ Area = 'parameter'; Category = 'InvalidArgument'; NoRequest = $true; ErrorId = 'CannotConvertArgumentNoMessage' }
    $unconvertible + @{ Name = '-KeyAlgorithm RSA1024 (too weak)'
        Run = { New-AcmeAccount -Server LetsEncryptStaging -KeyAlgorithm RSA1024 -AcceptTermsOfService } }
    $unconvertible + @{ Name = '-KeyAlgorithm EC521 (not offered)'
        Run = { $order | Complete-AcmeOrder -KeyAlgorithm EC521 } }
    $binding + @{ Name = '-TrustedRootCertificate: a file that does not exist'; ErrorId = 'ParameterArgumentTransformationError'
        Run = { New-AcmeAccount -Server LetsEncryptStaging -TrustedRootCertificate (Join-Path $work 'missing.pem') -AcceptTermsOfService } }
    $binding + @{ Name = '-TrustedRootCertificate: an empty file'; ErrorId = 'ParameterArgumentTransformationError'
        Run = { $f = Join-Path $work 'empty.pem'; Set-Content $f -Value '' -NoNewline
            New-AcmeAccount -Server LetsEncryptStaging -TrustedRootCertificate $f -AcceptTermsOfService } }
    $binding + @{ Name = '-TrustedRootCertificate: text that is neither PEM nor DER'; ErrorId = 'ParameterArgumentTransformationError'
        Run = { $f = Join-Path $work 'notes.txt'; Set-Content $f -Value 'hello, I am not a certificate'
            New-AcmeAccount -Server LetsEncryptStaging -TrustedRootCertificate $f -AcceptTermsOfService } }
    $binding + @{ Name = '-TrustedRootCertificate: a PEM file holding only a private key'; ErrorId = 'ParameterArgumentTransformationError'
        Run = { $f = Join-Path $work 'key.pem'; Set-Content $f -Value ([System.Security.Cryptography.ECDsa]::Create().ExportPkcs8PrivateKeyPem())
            New-AcmeAccount -Server LetsEncryptStaging -TrustedRootCertificate $f -AcceptTermsOfService } }
    $binding + @{ Name = '-TrustedRootCertificate: a truncated PEM certificate'; ErrorId = 'ParameterArgumentTransformationError'
        Run = { $pem = $certificate.Certificate.ExportCertificatePem(); $f = Join-Path $work 'cut.pem'
            Set-Content $f -Value $pem.Substring(0, $pem.Length / 2)
            New-AcmeAccount -Server LetsEncryptStaging -TrustedRootCertificate $f -AcceptTermsOfService } }
    $binding + @{ Name = '-TrustedRootCertificate: PEM armour around bad base64'; ErrorId = 'ParameterArgumentTransformationError'
        Run = { New-AcmeAccount -Server LetsEncryptStaging -TrustedRootCertificate "-----BEGIN CERTIFICATE-----`n!!not base64!!`n-----END CERTIFICATE-----" -AcceptTermsOfService } }
    $binding + @{ Name = '-TrustedRootCertificate: PEM armour around base64 that is not a certificate'; ErrorId = 'ParameterArgumentTransformationError'
        Run = { New-AcmeAccount -Server LetsEncryptStaging -TrustedRootCertificate "-----BEGIN CERTIFICATE-----`naGVsbG8gd29ybGQ=`n-----END CERTIFICATE-----" -AcceptTermsOfService } }
    $binding + @{ Name = '-TrustedRootCertificate: a folder'; ErrorId = 'ParameterArgumentTransformationError'
        Run = { New-AcmeAccount -Server LetsEncryptStaging -TrustedRootCertificate $work -AcceptTermsOfService } }
    $binding + @{ Name = '-TrustedRootCertificate: a number'; ErrorId = 'ParameterArgumentTransformationError'
        Run = { New-AcmeAccount -Server LetsEncryptStaging -TrustedRootCertificate 12345 -AcceptTermsOfService } }

    foreach ($p in 0, -1, 65536, 70000) {
        $binding + @{ Name = "-Port $p"; ErrorId = 'ParameterArgumentValidationError'; Value = $p; Run = { $order | Start-AcmeHttpChallenge -Port $Value } }
    }
    foreach ($t in 0, -5, 86401) {
        $binding + @{ Name = "Start-AcmeHttpChallenge -TimeoutSec $t"; ErrorId = 'ParameterArgumentValidationError'; Value = $t
            Run = { $order | Start-AcmeHttpChallenge -Port $port -TimeoutSec $Value } }
        $binding + @{ Name = "Complete-AcmeOrder -TimeoutSec $t"; ErrorId = 'ParameterArgumentValidationError'; Value = $t
            Run = { $order | Complete-AcmeOrder -TimeoutSec $Value } }
    }
    $unconvertible + @{ Name = '-ListenAddress: not an address'
        Run = { $order | Start-AcmeHttpChallenge -Port $port -ListenAddress 'not-an-ip' } }
    @{ Area = 'parameter'; Name = '-ListenAddress: an address this machine does not have'; ErrorId = 'AcmeListenerAddressNotAvailable'
        Category = 'InvalidArgument'; NoRequest = $true; Run = { $order | Start-AcmeHttpChallenge -Port $port -ListenAddress 192.0.2.77 } }
    @{ Area = 'parameter'; Name = '-Port held by another program'; ErrorId = 'AcmeListenerPortInUse'; Category = 'ResourceBusy'; NoRequest = $true
        Run = {
            $other = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $other.Start()
            try { $order | Start-AcmeHttpChallenge -Port $other.LocalEndpoint.Port -ListenAddress 127.0.0.1 } finally { $other.Stop() }
        } }
    @{ Area = 'parameter'; Name = '-WebRoot: a folder that does not exist'; ErrorId = 'AcmeWebRootNotFound'; Category = 'ObjectNotFound'; NoRequest = $true
        Run = { $order | Start-AcmeHttpChallenge -WebRoot (Join-Path $work 'no-such-folder') } }
    @{ Area = 'parameter'; Name = '-WebRoot: a file, not a folder'; ErrorId = 'AcmeWebRootNotFound'; Category = 'ObjectNotFound'; NoRequest = $true
        Run = { $f = Join-Path $work 'index.html'; Set-Content $f -Value 'hi'; $order | Start-AcmeHttpChallenge -WebRoot $f } }
    $binding + @{ Name = '-WebRoot: empty'; ErrorId = 'ParameterArgumentValidationError'; Run = { $order | Start-AcmeHttpChallenge -WebRoot '' } }
    @{ Area = 'parameter'; Name = '-Port and -WebRoot together'; ErrorId = 'AmbiguousParameterSet'; Category = 'InvalidArgument'; NoRequest = $true
        Run = { $order | Start-AcmeHttpChallenge -Port $port -WebRoot $work } }
    $binding + @{ Name = 'New-AcmeOrder -Account $null'; ErrorId = 'ParameterArgumentValidationError'; Run = { New-AcmeOrder -Account $null -DnsName a.test } }
    $binding + @{ Name = 'Start-AcmeHttpChallenge -Order $null'; ErrorId = 'ParameterArgumentValidationError'; Run = { Start-AcmeHttpChallenge -Order $null -Port $port } }
    $binding + @{ Name = 'Complete-AcmeOrder -Order $null'; ErrorId = 'ParameterArgumentValidationError'; Run = { Complete-AcmeOrder -Order $null } }
    $binding + @{ Name = 'Export-AcmeCertificate -Certificate $null'; ErrorId = 'ParameterArgumentValidationError'; Run = { Export-AcmeCertificate -Certificate $null -Path $work } }
    @{ Area = 'parameter'; Name = 'a string piped to New-AcmeOrder'; ErrorId = 'InputObjectNotBound'; Category = 'InvalidArgument'; NoRequest = $true
        Run = { 'https://acme.example.test/acct/1' | New-AcmeOrder -DnsName a.test } }
    @{ Area = 'parameter'; Name = 'an account piped to Complete-AcmeOrder'; ErrorId = 'InputObjectNotBound'; Category = 'InvalidArgument'; NoRequest = $true
        Run = { $account | Complete-AcmeOrder } }
    @{ Area = 'parameter'; Name = 'Complete-AcmeOrder on an order whose challenges were not answered'; ErrorId = 'AcmeOrderNotReady'; Category = 'InvalidOperation'
        Run = { $order | Complete-AcmeOrder } }

    $export = @{ Area = 'parameter'; NoRequest = $true }
    $export + @{ Name = 'Export-AcmeCertificate with neither -Path nor -PfxPath'; ErrorId = 'AcmeNoExportTarget'; Category = 'InvalidArgument'
        Run = { $certificate | Export-AcmeCertificate } }
    $export + @{ Name = '-PfxPath without -Password'; ErrorId = 'AcmePfxPasswordRequired'; Category = 'InvalidArgument'
        Run = { $certificate | Export-AcmeCertificate -PfxPath (Join-Path $work 'c.pfx') } }
    $export + @{ Name = '-PfxPath with an empty password'; ErrorId = 'AcmePfxPasswordRequired'; Category = 'InvalidArgument'
        Run = { $certificate | Export-AcmeCertificate -PfxPath (Join-Path $work 'c.pfx') -Password ([securestring]::new()) } }
    $unconvertible + @{ Name = '-Password as plain text'
        Run = { $certificate | Export-AcmeCertificate -PfxPath (Join-Path $work 'c.pfx') -Password 'plain-text-password' } }
    $export + @{ Name = '-Path: an existing file'; ErrorId = 'AcmeExportPathIsFile'; Category = 'InvalidArgument'
        Run = { $f = Join-Path $work 'taken'; Set-Content $f -Value 'keep me'; $certificate | Export-AcmeCertificate -Path $f } }
    $export + @{ Name = '-Path: a folder below a file'; ErrorId = 'AcmeFileError'; Category = 'WriteError'
        Run = { $f = Join-Path $work 'file'; Set-Content $f -Value 'x'; $certificate | Export-AcmeCertificate -Path (Join-Path $f 'sub') } }
    $export + @{ Name = '-PfxPath: an existing folder'; ErrorId = 'AcmeFileError'; Category = 'WriteError'
        Run = { $null = New-Item -ItemType Directory (Join-Path $work 'c.pfx'); $certificate | Export-AcmeCertificate -PfxPath (Join-Path $work 'c.pfx') -Password (ConvertTo-SecureString 'pw' -AsPlainText -Force) } }
    $export + @{ Name = '-PfxPath: below a file'; ErrorId = 'AcmeFileError'; Category = 'WriteError'
        Run = { $f = Join-Path $work 'file'; Set-Content $f -Value 'x'; $certificate | Export-AcmeCertificate -PfxPath (Join-Path $f 'c.pfx') -Password (ConvertTo-SecureString 'pw' -AsPlainText -Force) } }
    $export + @{ Name = '-Path: empty'; ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'
        Run = { $certificate | Export-AcmeCertificate -Path '' } }

    # ---- files: private keys (through the core until a cmdlet takes a key file) ---------------------
    $key = @{ Area = 'file'; NoRequest = $true; Category = 'InvalidArgument' }
    $key + @{ Name = 'a key file that is not PEM'; ErrorId = 'AcmeInvalidKey'; Run = { [Acme.Protocol.Crypto.AcmeKey]::ImportPem('just some text', $null) } }
    $key + @{ Name = 'an empty key file'; ErrorId = 'AcmeInvalidKey'; Run = { [Acme.Protocol.Crypto.AcmeKey]::ImportPem('', $null) } }
    $key + @{ Name = 'a truncated key'; ErrorId = 'AcmeInvalidKey'
        Run = { $pem = [System.Security.Cryptography.ECDsa]::Create().ExportPkcs8PrivateKeyPem(); [Acme.Protocol.Crypto.AcmeKey]::ImportPem($pem.Substring(0, 120) + "`n-----END PRIVATE KEY-----", $null) } }
    $key + @{ Name = 'a key whose base64 is damaged'; ErrorId = 'AcmeInvalidKey'
        Run = { [Acme.Protocol.Crypto.AcmeKey]::ImportPem("-----BEGIN PRIVATE KEY-----`nMIGHAgEAMBMGByqGSM49AgEG!!!`n-----END PRIVATE KEY-----", $null) } }
    $key + @{ Name = 'an RSA key of 1024 bits'; ErrorId = 'AcmeUnsupportedKey'; Message = '*1024 bits*'
        Run = { [Acme.Protocol.Crypto.AcmeKey]::ImportPem([System.Security.Cryptography.RSA]::Create(1024).ExportPkcs8PrivateKeyPem(), $null) } }
    $key + @{ Name = 'an EC key on P-521'; ErrorId = 'AcmeUnsupportedKey'
        Run = { [Acme.Protocol.Crypto.AcmeKey]::ImportPem([System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP521).ExportPkcs8PrivateKeyPem(), $null) } }
    $key + @{ Name = 'a certificate where a key belongs'; ErrorId = 'AcmeInvalidKey'
        Run = { [Acme.Protocol.Crypto.AcmeKey]::ImportPem($certificate.Certificate.ExportCertificatePem(), $null) } }
    $key + @{ Name = 'an encrypted key without its passphrase'; ErrorId = 'AcmeKeyPasswordRequired'; Value = $encryptedKey
        Run = { [Acme.Protocol.Crypto.AcmeKey]::ImportPem($Value, $null) } }
    @{ Area = 'file'; NoRequest = $true; Name = 'an encrypted key with the wrong passphrase'; ErrorId = 'AcmeKeyPasswordIncorrect'; Category = 'AuthenticationError'; Value = $encryptedKey
        Run = { [Acme.Protocol.Crypto.AcmeKey]::ImportPem($Value, 'wrong'.ToCharArray()) } }

    # ---- server answers (through the fault proxy) ----------------------------------------------------
    $violation = @{ Area = 'server'; ErrorId = 'AcmeProtocolViolation'; Category = 'ProtocolError'; Run = { Invoke-ProxyPipeline } }
    $violation + @{ Name = 'directory: invalid JSON'; Fault = @{ Kind = 'ReplaceBody'; Path = '^/dir$'; Body = '{"newNonce": ' } }
    $violation + @{ Name = 'directory: a JSON array'; Fault = @{ Kind = 'ReplaceBody'; Path = '^/dir$'; Body = '[]' } }
    $violation + @{ Name = 'directory: JSON null'; Fault = @{ Kind = 'ReplaceBody'; Path = '^/dir$'; Body = 'null' } }
    $violation + @{ Name = 'directory: no newOrder'; Fault = @{ Kind = 'EditJson'; Path = '^/dir$'; JsonField = 'newOrder' }; Message = "*no 'newOrder' URL*" }
    $violation + @{ Name = 'directory: newAccount is not a URL'; Fault = @{ Kind = 'EditJson'; Path = '^/dir$'; JsonField = 'newAccount'; JsonValue = '"sign me up"' } }
    $violation + @{ Name = 'directory: newAccount over plain http'; Message = '*not an https URL*'
        Fault = @{ Kind = 'EditJson'; Path = '^/dir$'; JsonField = 'newAccount'; JsonValue = '"http://127.0.0.1:9/sign-me-up"' } }
    $violation + @{ Name = 'directory: newNonce is a file:// URL'; Message = '*not an https URL*'
        Fault = @{ Kind = 'EditJson'; Path = '^/dir$'; JsonField = 'newNonce'; JsonValue = '"file:///etc/passwd"' } }
    $violation + @{ Name = 'account: an unknown status'; Fault = @{ Kind = 'EditJson'; Path = '^/sign-me-up$'; JsonField = 'status'; JsonValue = '"sleeping"' }; Message = "*unknown status 'sleeping'*" }
    $violation + @{ Name = 'account: a status in the wrong case'; Fault = @{ Kind = 'EditJson'; Path = '^/sign-me-up$'; JsonField = 'status'; JsonValue = '"Valid"' } }
    $violation + @{ Name = 'account: no status'; Fault = @{ Kind = 'EditJson'; Path = '^/sign-me-up$'; JsonField = 'status' } }
    $violation + @{ Name = 'account: no Location header'; Fault = @{ Kind = 'DropHeader'; Path = '^/sign-me-up$'; Header = 'Location' }; Message = '*Location*' }
    $violation + @{ Name = 'account: an empty body'; Fault = @{ Kind = 'ReplaceBody'; Path = '^/sign-me-up$'; Body = '' } }
    $violation + @{ Name = 'order: an unknown status'; Fault = @{ Kind = 'EditJson'; Path = '^/order-plz$'; JsonField = 'status'; JsonValue = '"bogus"' } }
    $violation + @{ Name = 'order: a status that is a number'; Fault = @{ Kind = 'EditJson'; Path = '^/order-plz$'; JsonField = 'status'; JsonValue = '42' } }
    $violation + @{ Name = 'order: no identifiers'; Fault = @{ Kind = 'EditJson'; Path = '^/order-plz$'; JsonField = 'identifiers' } }
    $violation + @{ Name = 'order: no finalize URL'; Fault = @{ Kind = 'EditJson'; Path = '^/order-plz$'; JsonField = 'finalize' } }
    $violation + @{ Name = 'order: pending without authorizations'; Fault = @{ Kind = 'EditJson'; Path = '^/order-plz$'; JsonField = 'authorizations'; JsonValue = '[]' }; Message = '*lists no authorizations*' }
    $violation + @{ Name = 'order: authorizations is not an array'; Fault = @{ Kind = 'EditJson'; Path = '^/order-plz$'; JsonField = 'authorizations'; JsonValue = '"x"' } }
    $violation + @{ Name = 'order: an authorization that is not a URL'; Fault = @{ Kind = 'EditJson'; Path = '^/order-plz$'; JsonField = 'authorizations'; JsonValue = '["authz number one"]' } }
    $violation + @{ Name = 'order: no Location header'; Fault = @{ Kind = 'DropHeader'; Path = '^/order-plz$'; Header = 'Location' } }
    $violation + @{ Name = 'order: a JSON string'; Fault = @{ Kind = 'ReplaceBody'; Path = '^/order-plz$'; Body = '"just a string"' } }
    @{ Area = 'server'; Name = 'order: an authorization URL where nothing listens'; ErrorId = 'AcmeConnectionFailed'; Category = 'ConnectionError'; Run = { Invoke-ProxyPipeline }
        Fault = @{ Kind = 'EditJson'; Path = '^/order-plz$'; JsonField = 'authorizations'; JsonValue = '["https://127.0.0.1:9/authZ/nothing-here"]' } }
    $violation + @{ Name = 'authorization: an unknown status'; Fault = @{ Kind = 'EditJson'; Path = '^/authZ/'; JsonField = 'status'; JsonValue = '"maybe"' } }
    $violation + @{ Name = 'authorization: no identifier'; Fault = @{ Kind = 'EditJson'; Path = '^/authZ/'; JsonField = 'identifier' } }
    $violation + @{ Name = 'authorization: a token with path traversal'; Message = '*base64url*'
        Fault = @{ Kind = 'EditJson'; Path = '^/authZ/'; JsonField = 'challenges'; JsonValue = '[{"type":"http-01","url":"https://127.0.0.1:9/chalZ/x","token":"../../etc/passwd","status":"pending"}]' } }
    $violation + @{ Name = 'authorization: a challenge without a URL'
        Fault = @{ Kind = 'EditJson'; Path = '^/authZ/'; JsonField = 'challenges'; JsonValue = '[{"type":"http-01","token":"abc","status":"pending"}]' } }
    $violation + @{ Name = 'authorization: a challenge with an unknown status'
        Fault = @{ Kind = 'EditJson'; Path = '^/authZ/'; JsonField = 'challenges'; JsonValue = '[{"type":"http-01","url":"https://127.0.0.1:9/chalZ/x","token":"abc","status":"soon"}]' } }
    @{ Area = 'server'; Name = 'authorization: no challenges at all'; ErrorId = 'AcmeChallengeTypeUnavailable'; Category = 'InvalidOperation'; Run = { Invoke-ProxyPipeline }
        Fault = @{ Kind = 'EditJson'; Path = '^/authZ/'; JsonField = 'challenges'; JsonValue = '[]' } }
    @{ Area = 'server'; Name = 'authorization: only a challenge type nobody knows'; ErrorId = 'AcmeChallengeTypeUnavailable'; Category = 'InvalidOperation'; Run = { Invoke-ProxyPipeline }
        Fault = @{ Kind = 'EditJson'; Path = '^/authZ/'; JsonField = 'challenges'; JsonValue = '[{"type":"carrier-pigeon-01","url":"https://127.0.0.1:9/chalZ/x","token":"abc","status":"pending"}]' } }
    $violation + @{ Name = 'authorization poll: an unknown status'; Fault = @{ Kind = 'EditJson'; Path = '^/authZ/'; After = 1; JsonField = 'status'; JsonValue = '"whatever"' } }
    $violation + @{ Name = 'challenge answer: invalid JSON'; Fault = @{ Kind = 'ReplaceBody'; Path = '^/chalZ/'; Body = '{"type":' } }
    $violation + @{ Name = 'order poll: no finalize URL'; Fault = @{ Kind = 'EditJson'; Path = '^/my-order/'; JsonField = 'finalize' } }
    $violation + @{ Name = 'finalize answer: an unknown status'; Fault = @{ Kind = 'EditJson'; Path = '^/finalize-order/'; JsonField = 'status'; JsonValue = '"done"' } }
    $violation + @{ Name = 'certificate: text that is not PEM'; Message = '*no certificate*'
        Fault = @{ Kind = 'ReplaceBody'; Path = '^/certZ/'; Body = 'hello'; ContentType = 'application/pem-certificate-chain' } }
    $violation + @{ Name = 'certificate: PEM armour around junk'
        Fault = @{ Kind = 'ReplaceBody'; Path = '^/certZ/'; Body = "-----BEGIN CERTIFICATE-----`n!!!!`n-----END CERTIFICATE-----`n"; ContentType = 'application/pem-certificate-chain' } }
    $violation + @{ Name = 'certificate: an empty body'; Fault = @{ Kind = 'ReplaceBody'; Path = '^/certZ/'; Body = ''; ContentType = 'application/pem-certificate-chain' } }
    $violation + @{ Name = 'certificate: a certificate for another key'; Message = '*different public key*'
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
