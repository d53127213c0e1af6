<#
.SYNOPSIS
    http-01 answered by files in the web root of a web server that already serves the names.
.NOTES
    See examples/README.md: pages embed the snippet, the tests run it against Pebble with a static file
    server on Pebble's http-01 port standing in for the reader's web server.
#>
param(
    [string] $Server = 'LetsEncryptStaging',
    [string] $TrustedRootCertificate,
    [string] $WebRoot = '/var/www/html'
)
$ErrorActionPreference = 'Stop'
if ($TrustedRootCertificate) { $PSDefaultParameterValues = @{ 'New-AcmeAccount:TrustedRootCertificate' = $TrustedRootCertificate } }
$account = New-AcmeAccount -Server $Server -AcceptTermsOfService

# example: WebRoot
$account | New-AcmeOrder -DnsName example.com, www.example.com |
    Start-AcmeHttpChallenge -WebRoot $WebRoot
# end example
