<#
.SYNOPSIS
    http-01 answered by files in the root of a web server that already serves the names. (examples/README.md)
#>
param([string] $Server = 'LetsEncryptStaging', [string] $WebRoot = '/var/www/html')
$ErrorActionPreference = 'Stop'
$account = New-AcmeAccount -Server $Server -AcceptTermsOfService

# example: WebRoot
$account | New-AcmeOrder -DnsName example.com, www.example.com |
    Start-AcmeHttpChallenge -WebRoot $WebRoot
# end example
