<#
.SYNOPSIS
    Accounts on CAs that require external account binding (ZeroSSL, Google Trust Services, many private
    CAs): the key id and HMAC key from the CA's dashboard, typed at a prompt or read from a file, and
    New-AcmeCertificate creating its account with them.
    (examples/README.md)
#>
param([string] $Server = 'ZeroSSL', [string] $KeyId = 'kid-from-the-ca', [int] $HttpPort = 80)
$ErrorActionPreference = 'Stop'

# example: Credential
$binding = Get-Credential -Message 'EAB key ID (user name) and HMAC key (password)'
New-AcmeAccount -Server $Server -ExternalAccountBinding $binding -Contact admin@example.com -AcceptTermsOfService
# end example

# example: KeyFile
New-AcmeAccount -Server $Server -ExternalAccountKeyId $KeyId -ExternalAccountKeyPath ./eab-hmac.key -AcceptTermsOfService
# end example

# example: NewCertificate
New-AcmeCertificate -DnsName example.com -Server $Server -AccountName eab -ExternalAccountKeyId $KeyId -ExternalAccountKeyPath ./eab-hmac.key -AcceptTermsOfService -HttpPort $HttpPort -Path ./cert
# end example
