using System;
using System.Management.Automation;
using Acme.Protocol.Errors;

namespace Acme.PowerShell.Binding;

/// <summary>
/// The base of the module's argument transformations: the PSObject wrapper comes off, and an input
/// the core refuses (AcmeArgumentException) becomes PowerShell's transformation error with its message.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public abstract class AcmeTransformationAttribute : ArgumentTransformationAttribute
{
    public sealed override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object value = inputData is PSObject ps ? ps.BaseObject : inputData;
        try
        {
            return Convert(engineIntrinsics, value);
        }
        catch (AcmeArgumentException e)
        {
            throw new ArgumentTransformationMetadataException(Describe(e), e);
        }
    }

    protected abstract object Convert(EngineIntrinsics engineIntrinsics, object value);

    protected virtual string Describe(AcmeArgumentException e) => e.Message;
}
