<#
.SYNOPSIS
    A certificate from a private ACME CA (step-ca, an internal Boulder or Pebble) whose root the system
    does not trust: the root is trusted for this CA's connections only, by parameter. (examples/README.md)
#>
param(
    [string] $Server = 'https://ca.internal.example/acme/directory',
    [string] $TrustedRootCertificate = './internal-root.pem',
    [int] $HttpPort = 80
)
$ErrorActionPreference = 'Stop'

# example: PrivateCa
$account = New-AcmeAccount -Server $Server -TrustedRootCertificate $TrustedRootCertificate -AcceptTermsOfService
$account | New-AcmeOrder -DnsName intranet.internal.example |
    Start-AcmeHttpChallenge -Port $HttpPort |
    Complete-AcmeOrder |
    Export-AcmeCertificate -Path ./cert
# end example
