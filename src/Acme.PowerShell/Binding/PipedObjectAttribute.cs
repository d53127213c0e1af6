using System;
using System.Management.Automation;

namespace Acme.PowerShell.Binding;

/// <summary>
/// The object a pipeline step takes, and which cmdlet makes it: anything else piped (or given) is
/// refused with a sentence a newcomer can act on ("Complete-AcmeOrder takes an AcmeOrder; you piped
/// an AcmeAccount: use New-AcmeOrder first") instead of PowerShell's "The input object cannot be
/// bound to any parameters". Only on a cmdlet's single pipeline parameter: a transformation that
/// refuses stops the binding, so no other parameter could take the object by property name.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class PipedObjectAttribute : ArgumentTransformationAttribute
{
    public PipedObjectAttribute(Type type, string cmdlet, string madeBy)
    {
        Type = type ?? throw new ArgumentNullException(nameof(type));
        Cmdlet = cmdlet;
        MadeBy = madeBy;
    }

    public Type Type { get; }

    public string Cmdlet { get; }

    public string MadeBy { get; }

    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        object? value = inputData is PSObject ps ? ps.BaseObject : inputData;
        if (value is null || Type.IsInstanceOfType(value))
        {
            return value;
        }

        string given = value is PSCustomObject || (inputData is PSObject wrapped && wrapped.BaseObject is PSCustomObject)
            ? "a custom object"
            : Article(value.GetType().Name);
        throw new ArgumentTransformationMetadataException(
            $"{Cmdlet} takes {Article(Type.Name)}; you piped {given}: use {MadeBy} first (Get-{Type.Name} reads a saved one).");
    }

    private static string Article(string name) => ("AEIOU".IndexOf(char.ToUpperInvariant(name[0])) >= 0 ? "an " : "a ") + name;
}
