<#
.SYNOPSIS
    Errors: a name the CA refuses by policy ends in an ErrorRecord with a stable ErrorId and the CA's detail.
.NOTES
    See examples/README.md: about_Acme embeds the snippet, the tests run it against Pebble with a name on
    Pebble's block list.
#>
param(
    [string] $Server = 'LetsEncryptStaging',
    [string] $TrustedRootCertificate,
    [string] $RefusedName = 'blocked.example'
)
$ErrorActionPreference = 'Stop'
if ($TrustedRootCertificate) { $PSDefaultParameterValues = @{ 'New-AcmeAccount:TrustedRootCertificate' = $TrustedRootCertificate } }
$account = New-AcmeAccount -Server $Server -AcceptTermsOfService

# example: ErrorId
try {
    $account | New-AcmeOrder -DnsName $RefusedName -ErrorAction Stop
} catch {
    $_.FullyQualifiedErrorId
    $_.CategoryInfo.Category
    $_.ErrorDetails.Message
}
# end example
