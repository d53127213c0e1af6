using System;
using System.Management.Automation;

namespace Acme.PowerShell.Binding;

/// <summary>
/// The object a pipeline step takes, and which cmdlet makes it: anything else piped (or given) is
/// refused with a sentence a newcomer can act on ("Complete-AcmeOrder takes an AcmeOrder; you piped
/// an AcmeAccount: use New-AcmeOrder first") instead of PowerShell's "The input object cannot be
/// bound to any parameters". A transformation that refuses this way stops the binding, so an object
/// another parameter (or parameter set) of the cmdlet can take must be let through: its type in
/// <see cref="Others"/>, the property another parameter binds by in <see cref="Properties"/>, or
/// <see cref="Quiet"/> when a second pipeline parameter leaves the sentence to the first. Those are
/// refused as a plain cast failure, which PowerShell takes as "not this parameter" and goes on binding.
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

    /// <summary>Types another pipeline parameter of the cmdlet takes: let through to it.</summary>
    public Type[] Others { get; set; } = Type.EmptyTypes;

    /// <summary>Properties a parameter of the cmdlet binds by (by property name): an object with one is let through.</summary>
    public string[] Properties { get; set; } = Array.Empty<string>();

    /// <summary>
    /// What each of <see cref="Properties"/> must hold to be let through (null: anything), so that a
    /// wrong object that merely has a property of that name (an AcmeOrder's Certificate URL) still gets the sentence.
    /// </summary>
    public Type?[] PropertyTypes { get; set; } = Type.EmptyTypes;

    /// <summary>Never says the sentence: another pipeline parameter of the cmdlet says it.</summary>
    public bool Quiet { get; set; }

    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        object? value = inputData is PSObject ps ? ps.BaseObject : inputData;
        if (value is null || Type.IsInstanceOfType(value))
        {
            return value;
        }

        if (Quiet || Array.Exists(Others, t => t.IsInstanceOfType(value)) || HasProperty(inputData))
        {
            // A cast failure inside the transformation is "not this parameter": binding goes on.
            throw new ArgumentTransformationMetadataException(
                $"{Cmdlet} takes {Article(Type.Name)}.",
                new PSInvalidCastException($"Not {Article(Type.Name)}."));
        }

        string given = value is PSCustomObject || (inputData is PSObject wrapped && wrapped.BaseObject is PSCustomObject)
            ? "a custom object"
            : Article(value.GetType().Name);
        throw new ArgumentTransformationMetadataException(
            $"{Cmdlet} takes {Article(Type.Name)}; you piped {given}: use {MadeBy} first{Reads}.");
    }

    /// <summary>The cmdlet that reads a saved one, when it is not the one that makes it.</summary>
    private string Reads => string.Equals(MadeBy, "Get-" + Type.Name, StringComparison.OrdinalIgnoreCase)
        ? string.Empty
        : $" (Get-{Type.Name} reads a saved one)";

    private bool HasProperty(object? inputData)
    {
        if (Properties.Length == 0 || inputData is null)
        {
            return false;
        }

        PSObject ps = PSObject.AsPSObject(inputData);
        for (int i = 0; i < Properties.Length; i++)
        {
            PSPropertyInfo? property = ps.Properties[Properties[i]];
            if (property is null)
            {
                continue;
            }

            Type? wanted = i < PropertyTypes.Length ? PropertyTypes[i] : null;
            object? held = property.Value is PSObject inner ? inner.BaseObject : property.Value;
            if (wanted is null || wanted.IsInstanceOfType(held))
            {
                return true;
            }
        }

        return false;
    }

    private static string Article(string name) => ("AEIOU".IndexOf(char.ToUpperInvariant(name[0])) >= 0 ? "an " : "a ") + name;
}
