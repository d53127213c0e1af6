<#
.SYNOPSIS
    Account keys: exporting one (plain, or encrypted with a passphrase), finding the account a key
    controls on another machine, registering a key made elsewhere, and rolling an account over to a new
    key. (examples/README.md)
#>
param([string] $Server = 'LetsEncryptStaging')
$ErrorActionPreference = 'Stop'
$account = New-AcmeAccount -Server $Server -Contact admin@example.com -AcceptTermsOfService
# Keys made by other tools (openssl genpkey, a vault): PKCS#8 PEM files, the first one encrypted.
$curve = [System.Security.Cryptography.ECCurve+NamedCurves]::nistP256
$passphrase = [System.Net.NetworkCredential]::new('', (Read-Host -AsSecureString 'Passphrase')).Password
$pbe = [System.Security.Cryptography.PbeParameters]::new('Aes256Cbc', 'SHA256', 600000)
Set-Content -Path ./my-account-key.pem -Value ([System.Security.Cryptography.ECDsa]::Create($curve).ExportEncryptedPkcs8PrivateKeyPem($passphrase, $pbe))
Set-Content -Path ./new-account-key.pem -Value ([System.Security.Cryptography.ECDsa]::Create($curve).ExportPkcs8PrivateKeyPem())

# example: Move
$account | Export-AcmeAccountKey -Path ./account.pem
# Copy account.pem to the other machine; there:
$account = Get-AcmeAccount $Server -KeyPath ./account.pem
$account
# end example

# example: ExportEncrypted
$account | Export-AcmeAccountKey -Path ./account-encrypted.pem -Password (Read-Host -AsSecureString 'Passphrase')
# end example

# example: FindEncrypted
Get-AcmeAccount -Server $Server -KeyPath ./account-encrypted.pem -KeyPassword (Read-Host -AsSecureString 'Key passphrase')
# end example

# example: ExistingKey
New-AcmeAccount -Server $Server -KeyPath ./my-account-key.pem -KeyPassword (Read-Host -AsSecureString 'Key passphrase') -AcceptTermsOfService
# end example

# example: Rollover
$account = $account | Update-AcmeAccountKey -NewKeyAlgorithm EC384 -NewKeyExportPath ./account-2026.pem
# end example

# example: RolloverToFile
$account = $account | Update-AcmeAccountKey -NewKeyPath ./new-account-key.pem -Confirm:$false
# end example
