#Requires -Version 7.2
# Every column a view of the module's format files shows is a property of the type it shows: what a
# table shows, Where-Object and Sort-Object can use (DaysLeft was once computed in the view alone). A
# column may format its property (an array joined with commas, a key's name), but a column whose name
# is no property of the type fails (FormatViews.psm1 walks the views). No CA needed.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'FormatViews.psm1') -Force
    $script:columns = @(Get-FormatViewColumn (Get-ChildItem (Join-Path $PSScriptRoot '../../src/Acme.PowerShell') -Filter '*.format.ps1xml').FullName)
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'FormatViews.psm1') -Force
    $script:formatFiles = (Get-ChildItem (Join-Path $PSScriptRoot '../../src/Acme.PowerShell') -Filter '*.format.ps1xml').FullName
}

Describe 'The format files'' views' {
    It 'finds the views of the certificate (a table with DaysLeft and a list)' {
        $certificateColumns = @(Get-FormatViewColumn $formatFiles | Where-Object { $_.Type -eq 'Acme.Protocol.Model.AcmeCertificate' })
        $certificateColumns.Count | Should -BeGreaterThan 10
        @($certificateColumns | Where-Object Column -EQ 'DaysLeft').Count | Should -Be 2
        @($certificateColumns | Where-Object Column -EQ 'DaysLeft' | Where-Object ScriptBlock).Count | Should -Be 0
    }

    It '<View>: the column <Column> is a property of <Type>' -ForEach $columns {
        Get-ViewColumnProblem $_ | Should -BeNullOrEmpty
    }

    It 'reports a column computed by a script block, and one bound to a property the type lacks' {
        $file = Join-Path $TestDrive 'Bad.format.ps1xml'
        Set-Content -LiteralPath $file -Value @'
<?xml version="1.0" encoding="utf-8"?>
<Configuration><ViewDefinitions><View>
  <Name>Bad</Name>
  <ViewSelectedBy><TypeName>Acme.Protocol.Model.AcmeOrder</TypeName></ViewSelectedBy>
  <TableControl>
    <TableHeaders><TableColumnHeader><Label>Name</Label></TableColumnHeader><TableColumnHeader><Label>Left</Label></TableColumnHeader><TableColumnHeader /></TableHeaders>
    <TableRowEntries><TableRowEntry><TableColumnItems>
      <TableColumnItem><PropertyName>Name</PropertyName></TableColumnItem>
      <TableColumnItem><ScriptBlock>($_.Expires - [DateTime]::Now).Days</ScriptBlock></TableColumnItem>
      <TableColumnItem><PropertyName>NoSuchProperty</PropertyName></TableColumnItem>
    </TableColumnItems></TableRowEntry></TableRowEntries>
  </TableControl>
</View></ViewDefinitions></Configuration>
'@
        $bad = @(Get-FormatViewColumn $file)
        $bad.Count | Should -Be 3
        Get-ViewColumnProblem $bad[0] | Should -BeNullOrEmpty
        Get-ViewColumnProblem $bad[1] | Should -BeLike '*column Left of Bad*no property of Acme.Protocol.Model.AcmeOrder*script block*'
        Get-ViewColumnProblem $bad[2] | Should -BeLike '*NoSuchProperty*'
    }
}
