# The steps of the AcmeCertificate DSC resource (Acme.psm1), dot-sourced into the module the first time
# one of its methods runs. Each step calls the module's cmdlets; none speaks ACME itself.

# The settings with the current state: what the saved certificate says, and the read-only results.
function script:Get-AcmeDscState($Resource) {
    Assert-AcmeDscSetting $Resource
    $current = Find-AcmeDscCertificate $Resource
    $state = $Resource.GetType()::new()
    foreach ($property in $Resource.GetType().GetProperties()) {
        # The configuration as given; what the certificate itself says is filled in below.
        if ($property.Name -notin 'PfxCredential', 'ExternalAccountCredential', 'DnsName', 'KeyAlgorithm' -and $null -ne $Resource.($property.Name)) {
            $state.($property.Name) = $Resource.($property.Name)
        }
    }

    $state.Ensure = if ($current) { 'Present' } else { 'Absent' }
    if ($current) {
        $state.DnsName = $current.Names
        if ($current.Key) { $state.KeyAlgorithm = $current.Key.Name }
        $state.Thumbprint = $current.Thumbprint
        $state.NotAfter = $current.NotAfter
        $state.RenewalDue = (Test-AcmeDscRenewal $Resource $current).Due
    }

    $state
}

# Test-AcmeRenewal on the saved certificate; for one validated with dns-persist-01 its records are read from
# the resource's DnsServer (else the zone's name servers), and one that will not carry the next renewal is a
# warning with the record to set (Get and Test both say it; whether the certificate is due does not change).
function script:Test-AcmeDscRenewal($Resource, $Certificate) {
    $check = @{ ErrorAction = 'Stop' }
    if ($Resource.DnsServer) { $check.DnsServer = $Resource.DnsServer }
    $Certificate | Test-AcmeRenewal @check
}

function script:Test-AcmeDscState($Resource) {
    Assert-AcmeDscSetting $Resource
    $current = Find-AcmeDscCertificate $Resource
    if ($Resource.Ensure -eq 'Absent') {
        $left = @(Get-AcmeDscFile $Resource | Where-Object { Test-Path -LiteralPath $_ })
        if ($current) { Write-Verbose "The certificate '$($Resource.Name)' is saved in the state folder." }
        if ($left) { Write-Verbose "These files exist: $($left -join ', ')." }
        return -not $current -and -not $left
    }

    if (-not $current) {
        Write-Verbose "No certificate '$($Resource.Name)' is saved for $($Resource.Server)."
        return $false
    }

    if (-not $current.HasNames([string[]] $Resource.DnsName)) {
        Write-Verbose "The certificate '$($Resource.Name)' is for $($current.Names -join ', '), not $($Resource.DnsName -join ', ')."
        return $false
    }

    if (Test-AcmeDscOtherKey $Resource $current) {
        Write-Verbose "The certificate '$($Resource.Name)' has an $($current.Key.Name) key, not $($Resource.KeyAlgorithm)."
        return $false
    }

    if (-not (Test-AcmeDscExported $Resource $current)) { return $false }
    $check = Test-AcmeDscRenewal $Resource $current
    Write-Verbose "The certificate '$($Resource.Name)' ($($current.Thumbprint)): $check."
    -not $check.Due
}

function script:Set-AcmeDscState($Resource) {
    Assert-AcmeDscSetting $Resource
    $current = Find-AcmeDscCertificate $Resource
    if ($Resource.Ensure -eq 'Absent') {
        Remove-AcmeDscState $Resource $current
        return
    }

    $issue = @{ DnsName = $Resource.DnsName; Name = $Resource.Name; Server = $Resource.Server; Confirm = $false; ErrorAction = 'Stop' }
    if ($Resource.Contact) { $issue.Contact = $Resource.Contact }
    if ($Resource.AcceptTermsOfService) { $issue.AcceptTermsOfService = $true }
    if ($Resource.ExternalAccountCredential) { $issue.ExternalAccountBinding = $Resource.ExternalAccountCredential }
    if ($Resource.KeyAlgorithm) { $issue.KeyAlgorithm = $Resource.KeyAlgorithm }
    if ($Resource.Profile) { $issue.Profile = $Resource.Profile }
    if ($Resource.StatePath) { $issue.StatePath = $Resource.StatePath }
    if ($Resource.TrustedRootCertificate) { $issue.TrustedRootCertificate = $Resource.TrustedRootCertificate }
    switch ($Resource.ChallengeType) {
        'Http' { $issue.HttpPort = $Resource.HttpPort }
        'WebRoot' { $issue.WebRoot = $Resource.WebRoot }
        'Dns' {
            if ($Resource.DnsProvider) {
                $issue.DnsProvider = $Resource.DnsProvider
                $issue.DnsProviderParameter = Get-AcmeDscProviderParameter $Resource
            }
            else { $issue.DnsScriptPath = $Resource.DnsScriptPath }
            if ($Resource.DnsServer) { $issue.DnsServer = $Resource.DnsServer }
            # dns-01, dns-account-01 or dns-persist-01 (whose record stays: a renewal that finds it valid changes no DNS).
            if ($Resource.DnsChallengeType) { $issue.DnsChallengeType = $Resource.DnsChallengeType }
        }
        'TlsAlpn' { $issue.TlsAlpnPort = $Resource.TlsAlpnPort }
    }

    # New-AcmeCertificate keeps a valid certificate that is not due; another key type needs a new one.
    if ($current -and (Test-AcmeDscOtherKey $Resource $current)) { $issue.Force = $true }
    $certificate = New-AcmeCertificate @issue
    if (-not (Test-AcmeDscExported $Resource $certificate)) {
        $export = @{ Confirm = $false; ErrorAction = 'Stop' }
        if ($Resource.Path) { $export.Path = $Resource.Path }
        if ($Resource.PfxPath) { $export.PfxPath = $Resource.PfxPath; $export.Password = $Resource.PfxCredential.Password }
        if ($Resource.CertStoreLocation) { $export.CertStoreLocation = $Resource.CertStoreLocation }
        $null = $certificate | Export-AcmeCertificate @export
    }
}

# Wrong settings stop Get, Test and Set before anything is read, sent or changed.
function script:Assert-AcmeDscSetting($Resource) {
    if ($Resource.Ensure -eq 'Absent') { return }
    if (-not $Resource.DnsName) { Stop-AcmeDsc AcmeSettingRequired 'DnsName is required when Ensure is Present.' $Resource.Name }
    if ($Resource.PfxPath -and -not $Resource.PfxCredential) {
        Stop-AcmeDsc AcmePfxPasswordRequired 'PfxPath needs PfxCredential (its password protects the key).' $Resource.PfxPath
    }

    $port = switch ($Resource.ChallengeType) { 'Http' { $Resource.HttpPort } 'TlsAlpn' { $Resource.TlsAlpnPort } default { 1 } }
    if ($port -lt 1 -or $port -gt 65535) {
        Stop-AcmeDsc AcmeInvalidPort "$($Resource.ChallengeType)Port must be between 1 and 65535, not $port." $port
    }

    if ($Resource.ChallengeType -eq 'WebRoot' -and -not $Resource.WebRoot) { Stop-AcmeDsc AcmeSettingRequired 'ChallengeType WebRoot needs WebRoot.' $Resource.Name }
    if ($Resource.ChallengeType -eq 'Dns' -and $Resource.DnsProvider) {
        $null = Get-AcmeDscProviderParameter $Resource
    }
    elseif ($Resource.ChallengeType -eq 'Dns') {
        if (-not $Resource.DnsScriptPath) { Stop-AcmeDsc AcmeSettingRequired 'ChallengeType Dns needs DnsScriptPath or DnsProvider.' $Resource.Name }
        if (-not (Test-Path -LiteralPath $Resource.DnsScriptPath -PathType Leaf)) {
            Stop-AcmeDsc AcmeDnsScriptNotFound "The DNS script '$($Resource.DnsScriptPath)' does not exist." $Resource.DnsScriptPath
        }
    }
}

# DnsProviderParameter and DnsProviderCredential as New-AcmeCertificate -DnsProviderParameter takes them. The
# hashtable holds no secret in clear (a MOF would keep it): a secret parameter there must be 'env:VAR' or
# 'secret:Name'. The credential's password fills the secret parameter its user name names, or, when the user
# name names none, the provider's only secret parameter.
function script:Get-AcmeDscProviderParameter($Resource) {
    $provider = Get-AcmeDnsProvider | Where-Object Name -EQ $Resource.DnsProvider
    if (-not $provider) {
        Stop-AcmeDsc AcmeDnsProviderUnknown "There is no DNS provider '$($Resource.DnsProvider)'; Get-AcmeDnsProvider lists them." $Resource.DnsProvider
    }

    $secrets = @($provider.Parameters | Where-Object IsSecret)
    $parameters = @{}
    if ($Resource.DnsProviderParameter) {
        foreach ($key in $Resource.DnsProviderParameter.Keys) {
            $value = $Resource.DnsProviderParameter[$key]
            if ($secrets.Name -contains $key -and -not ($value -is [string] -and $value -match '^(env|secret):.')) {
                Stop-AcmeDsc AcmeSettingRequired "DnsProviderParameter holds the secret parameter '$key' in clear; give it in DnsProviderCredential, or as 'env:VAR' or 'secret:Name'." $key
            }

            $parameters[$key] = $value
        }
    }

    if ($Resource.DnsProviderCredential) {
        $user = $Resource.DnsProviderCredential.UserName
        $target = @($secrets | Where-Object Name -EQ $user)
        if (-not $target) { $target = $secrets }
        if ($target.Count -ne 1) {
            Stop-AcmeDsc AcmeSettingRequired ("DnsProviderCredential fills the secret parameter its user name names; the provider $($provider.Name) has " +
                "$(if ($secrets) { 'the secret parameters ' + ($secrets.Name -join ', ') } else { 'no secret parameter' }), and '$user' is none of them.") $Resource.DnsProvider
        }

        $parameters[$target[0].Name] = $Resource.DnsProviderCredential.Password
    }

    $parameters
}

function script:Stop-AcmeDsc([string] $ErrorId, [string] $Message, $Target) {
    $category = if ($ErrorId -eq 'AcmeDnsScriptNotFound') { 'ObjectNotFound' } else { 'InvalidArgument' }
    throw [System.Management.Automation.ErrorRecord]::new([System.ArgumentException]::new($Message), $ErrorId, $category, $Target)
}

# The certificate saved under Name for Server, or nothing.
function script:Find-AcmeDscCertificate($Resource) {
    $query = @{ Name = [WildcardPattern]::Escape($Resource.Name); Server = $Resource.Server; ErrorAction = 'Stop' }
    if ($Resource.StatePath) { $query.StatePath = $Resource.StatePath }
    try {
        Get-AcmeCertificate @query
    } catch {
        if ($_.FullyQualifiedErrorId -notlike 'AcmeCertificateNotFound,*') { throw }
    }
}

function script:Test-AcmeDscOtherKey($Resource, $Certificate) {
    $Resource.KeyAlgorithm -and $Certificate.Key -and $Certificate.Key.Name -ne $Resource.KeyAlgorithm
}

# The files the resource writes, and so removes with Ensure Absent.
function script:Get-AcmeDscFile($Resource) {
    if ($Resource.Path) { 'cert.pem', 'chain.pem', 'fullchain.pem', 'key.pem' | ForEach-Object { Join-Path $Resource.Path $_ } }
    if ($Resource.PfxPath) { $Resource.PfxPath }
}

# True when every output asked for exists and holds this certificate (cert.pem and the PFX say which, the
# chain files match, key.pem is its key): the rule New-AcmeCertificate follows for -Path and -PfxPath.
function script:Test-AcmeDscExported($Resource, $Certificate) {
    foreach ($file in Get-AcmeDscFile $Resource) {
        if (-not (Test-Path -LiteralPath $file -PathType Leaf)) {
            Write-Verbose "$file is missing."
            return $false
        }
    }

    $holders = @(if ($Resource.Path) { Join-Path $Resource.Path 'cert.pem' }) + @(if ($Resource.PfxPath) { $Resource.PfxPath })
    foreach ($file in $holders) {
        $thumbprint = try {
            $full = Convert-Path -LiteralPath $file
            if ($file -ne $Resource.PfxPath) {
                [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($full).Thumbprint
            } else {
                # Read without leaving the key in a key store (EphemeralKeySet is Windows-only).
                $flags = if ($PSVersionTable.PSEdition -eq 'Desktop' -or $IsWindows) { 'EphemeralKeySet' } else { 'DefaultKeySet' }
                [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($full, $Resource.PfxCredential.Password, $flags).Thumbprint
            }
        } catch {
            Write-Verbose "$file cannot be read: $($_.Exception.Message)"
        }

        if ($thumbprint -ne $Certificate.Thumbprint) {
            Write-Verbose "$file does not hold the certificate $($Certificate.Thumbprint)."
            return $false
        }
    }

    # The rest of the PEM folder, as New-AcmeCertificate checks it: the chain files hold exactly what an
    # export writes, key.pem the certificate's key (another certificate's files, a backup restored).
    if ($Resource.Path) {
        $leaf = [Acme.Protocol.Crypto.Pem]::Encode('CERTIFICATE', $Certificate.Certificate.RawData)
        $chain = -join @($Certificate.Chain | ForEach-Object { [Acme.Protocol.Crypto.Pem]::Encode('CERTIFICATE', $_.RawData) })
        foreach ($pair in @(@('chain.pem', $chain), @('fullchain.pem', ($leaf + $chain)))) {
            $file = Join-Path $Resource.Path $pair[0]
            $text = try { [System.IO.File]::ReadAllText((Convert-Path -LiteralPath $file)) } catch { $null }
            if ($null -eq $text -or $text.Replace("`r`n", "`n").Trim() -ne $pair[1].Replace("`r`n", "`n").Trim()) {
                Write-Verbose "$file does not hold the chain of the certificate $($Certificate.Thumbprint)."
                return $false
            }
        }

        if ($Certificate.Key) {
            $file = Join-Path $Resource.Path 'key.pem'
            $key = try { [Acme.Protocol.Crypto.AcmeKey]::ImportPem([System.IO.File]::ReadAllText((Convert-Path -LiteralPath $file)), $null).Thumbprint } catch { $null }
            if ($key -ne $Certificate.Key.Thumbprint) {
                Write-Verbose "$file does not hold the key of the certificate $($Certificate.Thumbprint)."
                return $false
            }
        }
    }

    if ($Resource.CertStoreLocation -and -not (Test-Path -LiteralPath (Get-AcmeDscStorePath $Resource $Certificate))) {
        Write-Verbose "$($Resource.CertStoreLocation) does not hold the certificate $($Certificate.Thumbprint)."
        return $false
    }

    $true
}

function script:Get-AcmeDscStorePath($Resource, $Certificate) {
    $store = if ($Resource.CertStoreLocation -like 'Cert:*') { $Resource.CertStoreLocation } else { 'Cert:\' + $Resource.CertStoreLocation.TrimStart('\') }
    "$store\$($Certificate.Thumbprint)"
}

# Absent: revoked first when asked, then removed from the certificate store, the state folder and the files.
function script:Remove-AcmeDscState($Resource, $Current) {
    if ($Current) {
        if ($Resource.RevokeOnAbsent -and -not $Current.RevokedAt -and $Current.NotAfter -gt [datetime]::Now) {
            $Current | Revoke-AcmeCertificate -Confirm:$false -ErrorAction Stop
        }

        if ($Resource.CertStoreLocation -and (Test-Path -LiteralPath (Get-AcmeDscStorePath $Resource $Current))) {
            Remove-Item -LiteralPath (Get-AcmeDscStorePath $Resource $Current) -ErrorAction Stop
        }

        $Current | Remove-AcmeCertificate -Confirm:$false -ErrorAction Stop
    }

    foreach ($file in Get-AcmeDscFile $Resource) {
        if (Test-Path -LiteralPath $file) { Remove-Item -LiteralPath $file -Force -ErrorAction Stop }
    }
}
