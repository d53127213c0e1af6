using System;
using System.Management.Automation;
using System.Management.Automation.Language;
using Acme.Protocol.Errors;

namespace Acme.PowerShell.Dns;

/// <summary>
/// A dns-01 script file: a PowerShell script that defines the functions Add-AcmeDnsRecord and
/// Remove-AcmeDnsRecord, which are called as -AddRecord and -RemoveRecord blocks are (the record
/// name, the value and the identifier, in that order). It is for callers that cannot hold a script
/// block, such as a DSC configuration. The file is dot-sourced into a module of its own, so its
/// helper functions and script variables stay with it and nothing leaks into the caller's session.
/// </summary>
internal static class DnsScriptFile
{
    public const string AddFunction = "Add-AcmeDnsRecord";
    public const string RemoveFunction = "Remove-AcmeDnsRecord";

    /// <summary>
    /// Loads the file on the pipeline thread. Throws AcmeArgumentException: AcmeDnsScriptNotFound when it
    /// does not exist, AcmeDnsScriptInvalid when it does not parse, fails while it runs, or lacks a function.
    /// </summary>
    public static (ScriptBlock Add, ScriptBlock Remove) Load(string path)
    {
        if (!System.IO.File.Exists(path))
        {
            throw new AcmeArgumentException(AcmeErrorId.DnsScriptNotFound, $"The DNS script '{path}' does not exist.");
        }

        Parser.ParseFile(path, out _, out ParseError[] errors);
        if (errors.Length > 0)
        {
            throw Invalid(path, $"line {errors[0].Extent.StartLineNumber}: {errors[0].Message}");
        }

        PSModuleInfo module;
        try
        {
            // Dot-sourced by path rather than run from its text, so PowerShell applies its usual rules for
            // running a script file (execution policy on Windows) and errors name the file and line.
            module = new PSModuleInfo(ScriptBlock.Create(". '" + CodeGeneration.EscapeSingleQuotedStringContent(path) + "'"));
        }
        catch (RuntimeException e)
        {
            throw Invalid(path, e.Message, e);
        }

        return (Function(module, path, AddFunction), Function(module, path, RemoveFunction));
    }

    /// <summary>The function as the file defines it; one of the same name elsewhere in the session does not count.</summary>
    private static ScriptBlock Function(PSModuleInfo module, string path, string name)
    {
        object? found = module.Invoke(ScriptBlock.Create("param($name) Get-Command -Name $name -CommandType Function -ErrorAction Ignore"), name);
        if (found is PSObject wrapped)
        {
            found = wrapped.BaseObject;
        }

        if (found is FunctionInfo function && ReferenceEquals(function.ScriptBlock.Module, module))
        {
            return function.ScriptBlock;
        }

        throw Invalid(path, $"it does not define the function {name} (param($RecordName, $Value, $Identifier)).");
    }

    private static AcmeArgumentException Invalid(string path, string problem, Exception? inner = null) =>
        new(AcmeErrorId.DnsScriptInvalid, $"The DNS script '{path}' cannot be used: {problem}", inner);
}
