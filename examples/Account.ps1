<#
.SYNOPSIS
    An account's life: changing and removing its contacts, and deactivating it, interactively or from
    a key file in a script. (examples/README.md)
#>
param([string] $Server = 'LetsEncryptStaging')
$ErrorActionPreference = 'Stop'
$account = New-AcmeAccount -Server $Server -Contact admin@example.com -AcceptTermsOfService

# example: SetContact
$account | Set-AcmeAccount -Contact ops@example.com
$account
# end example

$account = New-AcmeAccount -Server $Server -Contact admin@example.com -AcceptTermsOfService

# example: RemoveContact
$account | Set-AcmeAccount -Contact @() -PassThru
# end example

$account = New-AcmeAccount -Server $Server -AcceptTermsOfService

# example: Disable
$account | Disable-AcmeAccount
$account
# end example

# An account used earlier, whose key was saved to old-account.pem.
New-AcmeAccount -Server $Server -AcceptTermsOfService | Export-AcmeAccountKey -Path ./old-account.pem | Out-Null

# example: DisableFromKeyFile
Get-AcmeAccount $Server -KeyPath ./old-account.pem | Disable-AcmeAccount -Confirm:$false -PassThru
# end example
