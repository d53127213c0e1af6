#Requires -Version 7.2
# docs/ARCHITECTURE.md matches the tree: every room and cmdlet-layer folder is described, and every file it names exists.
BeforeAll {
    $script:repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:doc = Get-Content -Raw (Join-Path $repo 'docs/ARCHITECTURE.md')
    function script:Get-SourceFolder([string] $Project) {
        $root = Join-Path $repo "src/$Project"
        @(Get-ChildItem -LiteralPath $root -Recurse -Filter *.cs -File | Where-Object FullName -NotMatch '[\\/](bin|obj)[\\/]' |
            ForEach-Object { [System.IO.Path]::GetRelativePath($root, $_.DirectoryName) -replace '\\', '/' } | Where-Object { $_ -ne '.' } | Sort-Object -Unique)
    }
}

Describe 'docs/ARCHITECTURE.md' {
    It 'has a row for every room of the core, named as its namespace' {
        $folders = Get-SourceFolder 'Acme.Protocol'
        $folders.Count | Should -BeGreaterThan 10
        foreach ($folder in $folders) {
            $room = $folder -replace '/', '.'
            $doc | Should -Match ('\| `' + [regex]::Escape($room) + '` \|') -Because "src/Acme.Protocol/$folder is a room"
        }
    }

    It 'describes every folder of the cmdlet layer' {
        foreach ($folder in Get-SourceFolder 'Acme.PowerShell') {
            $doc | Should -Match ('\| `' + [regex]::Escape($folder) + '/` \|') -Because "src/Acme.PowerShell/$folder holds code"
        }
    }

    It 'names only files that exist' {
        $named = @([regex]::Matches($doc, '`((?:[A-Za-z0-9]+/)*[A-Za-z0-9.]+\.(?:cs|ps1|psm1|ps1xml))`') | ForEach-Object { $_.Groups[1].Value } | Sort-Object -Unique)
        $named.Count | Should -BeGreaterThan 20
        $roots = 'src/Acme.Protocol', 'src/Acme.PowerShell', 'src/Acme.PowerShell/Commands', 'src/Acme.PowerShell/Export', '.'
        foreach ($name in $named) {
            $found = @($roots | Where-Object { Test-Path -LiteralPath (Join-Path $repo $_ $name) }) +
                @(Get-ChildItem -LiteralPath (Join-Path $repo 'src') -Recurse -File -Filter (Split-Path -Leaf $name) |
                    Where-Object { $_.FullName -notmatch '[\\/](bin|obj)[\\/]' -and ($_.FullName -replace '\\', '/').EndsWith('/' + $name) })
            $found | Should -Not -BeNullOrEmpty -Because "ARCHITECTURE.md names $name"
        }
    }

    It 'lists the same rooms as the dependency test' {
        $layering = Get-Content -Raw (Join-Path $repo 'tests/Acme.Protocol.Tests/LayeringTests.cs')
        $rooms = @([regex]::Matches($layering, '(?m)^\s+\["([A-Za-z.0-9]+)"\] = (?:new|Array)') | ForEach-Object { $_.Groups[1].Value })
        $rooms.Count | Should -Be (Get-SourceFolder 'Acme.Protocol').Count
        foreach ($room in $rooms) { $doc | Should -Match ('\| `' + [regex]::Escape($room) + '` \|') }
    }
}
