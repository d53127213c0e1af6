<#
.SYNOPSIS
    Finalizing orders: the default EC P-256 key, and an RSA key with a longer wait.
.NOTES
    See examples/README.md: pages embed the snippets, the tests run them against Pebble.
#>
param(
    [string] $Server = 'LetsEncryptStaging',
    [string] $TrustedRootCertificate,
    [int] $HttpPort = 80
)
$ErrorActionPreference = 'Stop'
if ($TrustedRootCertificate) { $PSDefaultParameterValues = @{ 'New-AcmeAccount:TrustedRootCertificate' = $TrustedRootCertificate } }
$account = New-AcmeAccount -Server $Server -AcceptTermsOfService

# example: Complete
$certificate = $account | New-AcmeOrder -DnsName example.com, www.example.com |
    Start-AcmeHttpChallenge -Port $HttpPort |
    Complete-AcmeOrder
$certificate
# end example

# example: Rsa
$account | New-AcmeOrder -DnsName legacy.example.com |
    Start-AcmeHttpChallenge -Port $HttpPort |
    Complete-AcmeOrder -KeyAlgorithm RSA2048 -TimeoutSec 600
# end example
