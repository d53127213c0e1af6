<#
.SYNOPSIS
    From order to files: http-01 from the built-in listener (on all addresses, and on loopback behind a
    reverse proxy), finalizing with an EC and an RSA key, and exporting PEM files and a PFX file.
    (examples/README.md)
#>
param([string] $Server = 'LetsEncryptStaging', [int] $HttpPort = 80)
$ErrorActionPreference = 'Stop'
$account = New-AcmeAccount -Server $Server -AcceptTermsOfService

# example: Listener
$account | New-AcmeOrder -DnsName example.com | Start-AcmeHttpChallenge -Port $HttpPort
# end example

# example: ReverseProxy
$account | New-AcmeOrder -DnsName app.example.com |
    Start-AcmeHttpChallenge -ListenAddress 127.0.0.1 -Port $HttpPort
# end example

# example: Complete
$certificate = $account | New-AcmeOrder -DnsName example.com, www.example.com |
    Start-AcmeHttpChallenge -Port $HttpPort |
    Complete-AcmeOrder
$certificate
# end example

# example: RsaKey
$account | New-AcmeOrder -DnsName legacy.example.com |
    Start-AcmeHttpChallenge -Port $HttpPort |
    Complete-AcmeOrder -KeyAlgorithm RSA2048 -TimeoutSec 600
# end example

# example: Pem
$certificate | Export-AcmeCertificate -Path ./cert
# end example

# example: Pfx
$password = Read-Host -AsSecureString -Prompt 'Password for the PFX file'
$certificate | Export-AcmeCertificate -PfxPath ./example.pfx -Password $password
# end example
