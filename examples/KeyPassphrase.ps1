<#
.SYNOPSIS
    Changing the key passphrase of a state: here a state folder whose keys were saved unencrypted gets
    one, and every account key and certificate key is re-encrypted with it. (examples/README.md)
#>
param([string] $Server = 'LetsEncryptStaging', [int] $HttpPort = 80)
$ErrorActionPreference = 'Stop'
# A state folder with an account and a certificate, their keys saved without a passphrase.
$null = New-AcmeCertificate -DnsName www.example.com -Server $Server -HttpPort $HttpPort -AcceptTermsOfService

# example: Encrypt
Update-AcmeKeyPassphrase -NewKeyPassphrase (Read-Host -AsSecureString 'New key passphrase')
# end example
