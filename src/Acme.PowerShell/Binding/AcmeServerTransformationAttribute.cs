using System;
using System.Management.Automation;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Binding;

/// <summary>
/// Lets -Server bind an AcmeServer (an account's Server property, piped by property name) as its
/// directory URL; its default ToString is a display name that would not resolve. The trust of a
/// private CA does not travel this way: give -TrustedRootCertificate again.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class AcmeServerTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        object? value = inputData is PSObject ps ? ps.BaseObject : inputData;
        return value switch
        {
            AcmeServer server => server.DirectoryUrl.AbsoluteUri,
            Uri uri => uri.AbsoluteUri,
            _ => inputData,
        };
    }
}
