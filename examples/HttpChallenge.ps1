<#
.SYNOPSIS
    http-01 answered by the built-in listener: on all addresses, and on loopback behind a reverse proxy.
.NOTES
    See examples/README.md: pages embed the snippets, the tests run them against Pebble.
#>
param(
    [string] $Server = 'LetsEncryptStaging',
    [string] $TrustedRootCertificate,
    [int] $HttpPort = 80
)
$ErrorActionPreference = 'Stop'
if ($TrustedRootCertificate) { $PSDefaultParameterValues = @{ 'New-AcmeAccount:TrustedRootCertificate' = $TrustedRootCertificate } }
$account = New-AcmeAccount -Server $Server -AcceptTermsOfService

# example: Listener
$account | New-AcmeOrder -DnsName example.com | Start-AcmeHttpChallenge -Port $HttpPort
# end example

# example: ReverseProxy
$account | New-AcmeOrder -DnsName app.example.com |
    Start-AcmeHttpChallenge -ListenAddress 127.0.0.1 -Port $HttpPort
# end example
