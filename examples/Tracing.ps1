<#
.SYNOPSIS
    Tracing: -Verbose writes one line per ACME request; here it goes to a log file.
.NOTES
    See examples/README.md: about_Acme embeds the snippet, the tests run it against Pebble.
#>
param(
    [string] $Server = 'LetsEncryptStaging',
    [string] $TrustedRootCertificate
)
$ErrorActionPreference = 'Stop'
if ($TrustedRootCertificate) { $PSDefaultParameterValues = @{ 'New-AcmeAccount:TrustedRootCertificate' = $TrustedRootCertificate } }
$account = New-AcmeAccount -Server $Server -AcceptTermsOfService

# example: Tracing
$order = $account | New-AcmeOrder -DnsName example.com -Verbose 4> ./acme-trace.log
Get-Content ./acme-trace.log
# end example
