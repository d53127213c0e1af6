using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Text.RegularExpressions;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>The core raises errors by <see cref="AcmeErrorId"/> only; the cmdlet layer's catalogue (tests/Pester/Errors.Tests.ps1) has a row for each.</summary>
public class ErrorIdTests
{
    [Fact]
    public void NoErrorIdIsWrittenAsAStringInTheCore()
    {
        // Every string literal of the compiled core (the #US heap): none may be "Acme" and an error's name.
        var names = new HashSet<string>(Enum.GetNames(typeof(AcmeErrorId)).Select(n => "Acme" + n), StringComparer.OrdinalIgnoreCase);

        // A DNS provider's name that happens to read like one (the provider "AcmeDns", the id Dns) is not an error id.
        names.ExceptWith(Acme.Protocol.Challenges.Dns01.Providers.DnsProviderCatalog.All.Select(p => p.Name));
        using var stream = File.OpenRead(typeof(AcmeOrder).Assembly.Location);
        using var pe = new PEReader(stream);
        MetadataReader reader = pe.GetMetadataReader();
        var literals = new List<string>();
        UserStringHandle handle = MetadataTokens.UserStringHandle(1);
        while (!handle.IsNil)
        {
            literals.Add(reader.GetUserString(handle));
            handle = reader.GetNextHandle(handle);
        }

        Assert.True(literals.Count > 100, "the core's string literals were read");
        string[] stringly = literals.Where(s => names.Contains(s)).ToArray();
        Assert.True(stringly.Length == 0, "Error ids written as strings (use AcmeErrorId): " + string.Join(", ", stringly));
    }

    [Fact]
    public void NoStringOfTheCoreNamesAParameterOrACmdlet()
    {
        // The core says what happened; which parameter or cmdlet helps is the catalogue's (Acme.PowerShell.Errors.ErrorCatalog).
        var parameter = new Regex(@"(^|[\s(])-[A-Z][a-z]+[A-Za-z]*\b");
        var cmdlet = new Regex(@"\b(New|Get|Set|Remove|Start|Complete|Export|Test|Revoke|Update|Disable|Submit|Wait)-Acme[A-Z]");
        string[] naming = UserStrings().Where(s => parameter.IsMatch(s) || cmdlet.IsMatch(s)).ToArray();
        Assert.True(naming.Length == 0, "Core strings naming a parameter or cmdlet: " + string.Join(" | ", naming));
    }

    private static List<string> UserStrings()
    {
        using var stream = File.OpenRead(typeof(AcmeOrder).Assembly.Location);
        using var pe = new PEReader(stream);
        MetadataReader reader = pe.GetMetadataReader();
        var literals = new List<string>();
        UserStringHandle handle = MetadataTokens.UserStringHandle(1);
        while (!handle.IsNil)
        {
            literals.Add(reader.GetUserString(handle));
            handle = reader.GetNextHandle(handle);
        }

        return literals;
    }

    [Fact]
    public void TheErrorIdOfAnExceptionIsAcmeAndTheIdsName()
    {
        Assert.Equal("AcmeInvalidIdentifier", new AcmeArgumentException(AcmeErrorId.InvalidIdentifier, "x").ErrorId);
        Assert.Equal("AcmeStateReadOnly", new AcmeLocalException(AcmeErrorId.StateReadOnly, "x").ErrorId);
        Assert.Equal("AcmeProtocolViolation", new AcmeProtocolException("x").ErrorId);
        Assert.Equal("AcmeChainTooLong", new AcmeProtocolException(AcmeErrorId.ChainTooLong, "x", null).ErrorId);
    }

    [Fact]
    public void EveryIdIsAPascalCaseName()
    {
        foreach (string name in Enum.GetNames(typeof(AcmeErrorId)))
        {
            Assert.Matches(new Regex("^[A-Z][A-Za-z]+$"), name);
        }
    }
}
