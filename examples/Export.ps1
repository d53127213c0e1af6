<#
.SYNOPSIS
    Exporting a certificate: PEM files in a folder, and a password-protected PFX file.
.NOTES
    See examples/README.md: pages embed the snippets, the tests run them against Pebble (answering
    Read-Host themselves).
#>
param(
    [string] $Server = 'LetsEncryptStaging',
    [string] $TrustedRootCertificate,
    [int] $HttpPort = 80
)
$ErrorActionPreference = 'Stop'
if ($TrustedRootCertificate) { $PSDefaultParameterValues = @{ 'New-AcmeAccount:TrustedRootCertificate' = $TrustedRootCertificate } }
$certificate = New-AcmeAccount -Server $Server -AcceptTermsOfService |
    New-AcmeOrder -DnsName example.com, www.example.com |
    Start-AcmeHttpChallenge -Port $HttpPort |
    Complete-AcmeOrder

# example: Pem
$certificate | Export-AcmeCertificate -Path ./cert
# end example

# example: Pfx
$password = Read-Host -AsSecureString -Prompt 'Password for the PFX file'
$certificate | Export-AcmeCertificate -PfxPath ./example.pfx -Password $password
# end example
