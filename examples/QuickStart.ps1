<#
.SYNOPSIS
    Quick start: an account, an order for two names, the http-01 answer from the built-in listener, the
    certificate, and its PEM files in ./cert.
.NOTES
    As written it asks Let's Encrypt's staging CA, so this machine must be reachable on port 80 under
    the names it orders. See examples/README.md: pages embed the snippet, the tests run it against Pebble.
#>
param(
    [string] $Server = 'LetsEncryptStaging',
    [string] $TrustedRootCertificate,
    [int] $HttpPort = 80
)
$ErrorActionPreference = 'Stop'
if ($TrustedRootCertificate) { $PSDefaultParameterValues = @{ 'New-AcmeAccount:TrustedRootCertificate' = $TrustedRootCertificate } }

# example: QuickStart
New-AcmeAccount -Server $Server -Contact admin@example.com -AcceptTermsOfService |
    New-AcmeOrder -DnsName example.com, www.example.com |
    Start-AcmeHttpChallenge -Port $HttpPort |
    Complete-AcmeOrder |
    Export-AcmeCertificate -Path ./cert
# end example
