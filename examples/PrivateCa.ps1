<#
.SYNOPSIS
    A certificate from a private ACME CA (step-ca, an internal Boulder or Pebble) whose root the system
    does not trust: the root is trusted for this CA's connections only, by parameter; and a certificate
    valid for the hours the CA is asked for. (examples/README.md)
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

# example: Validity
$start = (Get-Date).AddHours(1)
$account | New-AcmeOrder -DnsName build.internal.example -NotBefore $start -NotAfter $start.AddHours(12) |
    Start-AcmeHttpChallenge -Port $HttpPort |
    Complete-AcmeOrder
# end example
