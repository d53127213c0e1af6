<#
.SYNOPSIS
    Revocation: a certificate this session issued, signed by the account that ordered it, and a
    certificate file signed by its own key file, with no account. (examples/README.md)
#>
param([string] $Server = 'LetsEncryptStaging', [int] $HttpPort = 80)
$ErrorActionPreference = 'Stop'
$account = New-AcmeAccount -Server $Server -AcceptTermsOfService
$certificate = $account | New-AcmeOrder -DnsName example.com | Start-AcmeHttpChallenge -Port $HttpPort | Complete-AcmeOrder
# An earlier certificate, written to ./cert with its key.
$account | New-AcmeOrder -DnsName www.example.com | Start-AcmeHttpChallenge -Port $HttpPort | Complete-AcmeOrder |
    Export-AcmeCertificate -Path ./cert | Out-Null
$certificate  # for the test, which looks its serial number up at the CA

# example: Revoke
$certificate | Revoke-AcmeCertificate -Reason Superseded
# end example

# example: RevokeWithKey
Revoke-AcmeCertificate -CertificatePath ./cert/fullchain.pem -CertificateKey ./cert/key.pem -Server $Server -Reason KeyCompromise -Confirm:$false
# end example
