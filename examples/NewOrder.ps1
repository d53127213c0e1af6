<#
.SYNOPSIS
    Orders: two DNS names and their authorizations, IP addresses, a -Verbose trace in a log file, and the
    ErrorRecord of a name the CA refuses by policy. (examples/README.md)
#>
param([string] $Server = 'LetsEncryptStaging', [string] $RefusedName = 'blocked.example')
$ErrorActionPreference = 'Stop'
$account = New-AcmeAccount -Server $Server -AcceptTermsOfService

# example: TwoNames
$order = $account | New-AcmeOrder -DnsName example.com, www.example.com
$order.Authorizations
# end example

# example: IPAddress
$account | New-AcmeOrder -IPAddress 192.0.2.10, 2001:db8::10
# end example

# example: Tracing
$order = $account | New-AcmeOrder -DnsName example.com -Verbose 4> ./acme-trace.log
Get-Content ./acme-trace.log
# end example

# example: ErrorId
try {
    $account | New-AcmeOrder -DnsName $RefusedName -ErrorAction Stop
} catch {
    $_.FullyQualifiedErrorId
    $_.CategoryInfo.Category
    $_.ErrorDetails.Message
}
# end example
