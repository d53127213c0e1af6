<#
.SYNOPSIS
    tls-alpn-01 answered by the built-in TLS listener on port 443. (examples/README.md)
#>
param([string] $Server = 'LetsEncryptStaging')
$ErrorActionPreference = 'Stop'
$account = New-AcmeAccount -Server $Server -AcceptTermsOfService

# example: TlsAlpn
$account | New-AcmeOrder -DnsName mail.example.com | Start-AcmeTlsAlpnChallenge | Complete-AcmeOrder
# end example
