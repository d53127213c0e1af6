<#
.SYNOPSIS
    Accounts: with a contact, with an RSA key, and on the server named by $env:ACME_SERVER. (examples/README.md)
#>
param([string] $Server = 'LetsEncryptStaging')
$ErrorActionPreference = 'Stop'

# example: Contact
$account = New-AcmeAccount -Server $Server -Contact admin@example.com -AcceptTermsOfService
$account
# end example

# example: Rsa
New-AcmeAccount -Server $Server -KeyAlgorithm RSA2048 -AcceptTermsOfService
# end example

# example: Environment
$env:ACME_SERVER = $Server
New-AcmeAccount -AcceptTermsOfService
# end example
