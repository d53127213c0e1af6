<#
.SYNOPSIS
    Orders: two DNS names and their authorizations; IP addresses.
.NOTES
    See examples/README.md: pages embed the snippets, the tests run them against Pebble.
#>
param(
    [string] $Server = 'LetsEncryptStaging',
    [string] $TrustedRootCertificate
)
$ErrorActionPreference = 'Stop'
if ($TrustedRootCertificate) { $PSDefaultParameterValues = @{ 'New-AcmeAccount:TrustedRootCertificate' = $TrustedRootCertificate } }
$account = New-AcmeAccount -Server $Server -AcceptTermsOfService

# example: TwoNames
$order = $account | New-AcmeOrder -DnsName example.com, www.example.com
$order.Authorizations
# end example

# example: IPAddress
$account | New-AcmeOrder -IPAddress 192.0.2.10, 2001:db8::10
# end example
