# The walk of FormatViews.Tests.ps1: the columns of the views in format files, and which of them are no
# property of the type they show.

function Get-FormatViewColumn {
    <# One hashtable per column of every table and list view in the files: File, View, Type, Column (its label), Property, ScriptBlock. #>
    param([Parameter(Mandatory)][string[]] $Path)
    foreach ($file in $Path) {
        $leaf = Split-Path -Leaf $file
        foreach ($view in ([xml](Get-Content -Raw -LiteralPath $file)).Configuration.ViewDefinitions.View) {
            $typeNames = @($view.ViewSelectedBy.TypeName)
            $entries = @()
            if ($view.TableControl) {
                $headers = @($view.TableControl.TableHeaders.TableColumnHeader)
                $items = @(@($view.TableControl.TableRowEntries.TableRowEntry)[0].TableColumnItems.TableColumnItem)
                for ($i = 0; $i -lt $items.Count; $i++) {
                    $label = if ($i -lt $headers.Count -and $headers[$i].Label) { $headers[$i].Label } else { $items[$i].PropertyName }
                    $entries += , @($label, $items[$i])
                }
            }
            if ($view.ListControl) {
                foreach ($item in @(@($view.ListControl.ListEntries.ListEntry)[0].ListItems.ListItem)) {
                    $label = if ($item.Label) { $item.Label } else { $item.PropertyName }
                    $entries += , @($label, $item)
                }
            }
            foreach ($entry in $entries) {
                foreach ($t in $typeNames) {
                    @{ File = $leaf; View = $view.Name; Type = $t; Column = $entry[0]; Property = $entry[1].PropertyName; ScriptBlock = $entry[1].ScriptBlock }
                }
            }
        }
    }
}

function Get-ViewColumnProblem {
    <#
        Why the column is not a property of its type (Where-Object and Sort-Object could not use it), or
        nothing. A script block may format the property its column is named after (an array joined).
    #>
    param([Parameter(Mandatory)][hashtable] $Column)
    $type = $Column.Type -as [type]
    if (-not $type) { return "$($Column.File) names the type $($Column.Type), which is not loaded" }
    $names = @($type.GetProperties([System.Reflection.BindingFlags]'Public, Instance').Name)
    if ($names -notcontains $Column.Column) {
        $how = if ($Column.ScriptBlock) { "computed by the script block { $($Column.ScriptBlock) }" } else { "bound to $($Column.Property)" }
        return "the column $($Column.Column) of $($Column.View) ($($Column.File)) is no property of $($Column.Type): it is $how"
    }
    if ($Column.Property -and $names -notcontains $Column.Property) {
        return "the column $($Column.Column) of $($Column.View) ($($Column.File)) shows $($Column.Property), no property of $($Column.Type)"
    }
}

Export-ModuleMember -Function Get-FormatViewColumn, Get-ViewColumnProblem
