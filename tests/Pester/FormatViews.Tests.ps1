#Requires -Version 7.2
# Every column a view of the module's format files shows is a property of the type it shows: what a
# table shows, Where-Object and Sort-Object can use (DaysLeft was once computed in the view alone).
# A column may format its property (an array joined with commas, a key's name), but a column whose
# name is no property of the type fails. No CA needed.
BeforeDiscovery {
    $formatFiles = Get-ChildItem (Join-Path $PSScriptRoot '../../src/Acme.PowerShell') -Filter '*.format.ps1xml'
    $script:columns = foreach ($file in $formatFiles) {
        foreach ($view in ([xml](Get-Content -Raw $file.FullName)).Configuration.ViewDefinitions.View) {
            $typeNames = @($view.ViewSelectedBy.TypeName)
            if ($view.TableControl) {
                $headers = @($view.TableControl.TableHeaders.TableColumnHeader)
                $items = @(@($view.TableControl.TableRowEntries.TableRowEntry)[0].TableColumnItems.TableColumnItem)
                for ($i = 0; $i -lt $items.Count; $i++) {
                    $label = if ($i -lt $headers.Count -and $headers[$i].Label) { $headers[$i].Label } else { $items[$i].PropertyName }
                    foreach ($t in $typeNames) {
                        @{ File = $file.Name; View = $view.Name; Type = $t; Column = $label; Property = $items[$i].PropertyName; ScriptBlock = $items[$i].ScriptBlock }
                    }
                }
            }
            if ($view.ListControl) {
                foreach ($item in @(@($view.ListControl.ListEntries.ListEntry)[0].ListItems.ListItem)) {
                    $label = if ($item.Label) { $item.Label } else { $item.PropertyName }
                    foreach ($t in $typeNames) {
                        @{ File = $file.Name; View = $view.Name; Type = $t; Column = $label; Property = $item.PropertyName; ScriptBlock = $item.ScriptBlock }
                    }
                }
            }
        }
    }
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
}

Describe 'The format files'' views' {
    It 'finds the views of the certificate (a table with DaysLeft and a list)' {
        $certificateColumns = @($columns | Where-Object { $_.Type -eq 'Acme.Protocol.Model.AcmeCertificate' })
        $certificateColumns.Count | Should -BeGreaterThan 10
        @($certificateColumns | Where-Object Column -EQ 'DaysLeft').Count | Should -Be 2
    }

    It '<View>: the column <Column> is a property of <Type>' -ForEach $columns {
        $type = $Type -as [type]
        $type | Should -Not -BeNullOrEmpty -Because "$File names the type $Type"
        $names = @($type.GetProperties([System.Reflection.BindingFlags]'Public, Instance').Name)
        $names | Should -Contain $Column -Because "the column $Column of $View ($File) must be a property that Where-Object and Sort-Object can use"
        if ($Property) { $names | Should -Contain $Property }
    }

    It 'a view column shown by a script block alone fails the walk' {
        # The check above, on a made-up column: a computed DaysLeft on a type without that property.
        $names = @([Acme.Protocol.Model.AcmeOrder].GetProperties().Name)
        $names | Should -Not -Contain 'DaysLeft'
    }
}
