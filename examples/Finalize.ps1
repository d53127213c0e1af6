<#
.SYNOPSIS
    Finalize options: keeping a certificate's key on renewal (from a PEM or a PFX file), a certificate signing request made
    elsewhere, and choosing among the chains the CA offers. (examples/README.md)
#>
param([string] $Server = 'LetsEncryptStaging', [int] $HttpPort = 80, [string] $RootName = 'ISRG Root X2')
$ErrorActionPreference = 'Stop'
$account = New-AcmeAccount -Server $Server -AcceptTermsOfService
# The certificate an earlier run wrote to ./cert, with its key.
# The PFX file is what a Windows server or another client exported, with its password.
$account | New-AcmeOrder -DnsName example.com | Start-AcmeHttpChallenge -Port $HttpPort | Complete-AcmeOrder |
    Export-AcmeCertificate -Path ./cert -PfxPath ./site.pfx -Password (Read-Host -AsSecureString 'PFX password') | Out-Null
# A CSR made elsewhere (openssl req, certreq, an appliance), whose key never leaves that place.
$csrKey = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
$request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=example.com', $csrKey, 'SHA256')
$names = [System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new()
'example.com', 'www.example.com' | ForEach-Object { $names.AddDnsName($_) }
$request.CertificateExtensions.Add($names.Build())
Set-Content -Path ./example.csr -Value $request.CreateSigningRequestPem()

# example: ReuseKey
$account | New-AcmeOrder -DnsName example.com |
    Start-AcmeHttpChallenge -Port $HttpPort |
    Complete-AcmeOrder -CertificateKey ./cert/key.pem
# end example

# example: ReusePfxKey
$account | New-AcmeOrder -DnsName example.com |
    Start-AcmeHttpChallenge -Port $HttpPort |
    Complete-AcmeOrder -CertificateKeyPath ./site.pfx -CertificateKeyPassword (Read-Host -AsSecureString 'PFX password')
# end example

# example: Csr
$account | New-AcmeOrder -DnsName example.com, www.example.com |
    Start-AcmeHttpChallenge -Port $HttpPort |
    Complete-AcmeOrder -CertificateSigningRequest ./example.csr
# end example

# example: PreferredChain
$account | New-AcmeOrder -DnsName example.com |
    Start-AcmeHttpChallenge -Port $HttpPort |
    Complete-AcmeOrder -PreferredChain $RootName
# end example
