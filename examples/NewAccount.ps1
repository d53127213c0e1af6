<#
.SYNOPSIS
    Accounts: with a contact, with an RSA key, and on the server named by $env:ACME_SERVER.
.NOTES
    See examples/README.md: pages embed the snippets, the tests run them against Pebble.
#>
param(
    [string] $Server = 'LetsEncryptStaging',
    [string] $TrustedRootCertificate
)
$ErrorActionPreference = 'Stop'
if ($TrustedRootCertificate) { $PSDefaultParameterValues = @{ 'New-AcmeAccount:TrustedRootCertificate' = $TrustedRootCertificate } }

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
