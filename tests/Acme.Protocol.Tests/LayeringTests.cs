using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;
using Acme.Protocol.Model;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>
/// The rooms of the core (docs/ARCHITECTURE.md) depend on each other one way only. This reads every
/// type of Acme.Protocol.dll (signatures, fields, locals and the IL of every method body, so a
/// reference inside a lambda or an async method counts too) and fails on any reference a room may not
/// make, naming the type, the member and what it referenced.
/// </summary>
public class LayeringTests
{
    /// <summary>Each room and the rooms it may use (besides itself). Lower rooms never name higher ones.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Allowed = new Dictionary<string, string[]>
    {
        ["Json"] = Array.Empty<string>(),
        ["Diagnostics"] = Array.Empty<string>(),
        ["Errors"] = Array.Empty<string>(),
        ["FileSystem"] = new[] { "Diagnostics" },
        ["Crypto"] = new[] { "Json", "Errors" },
        ["Model"] = new[] { "Json", "Errors", "Crypto", "Diagnostics" },
        ["Transport"] = new[] { "Json", "Errors", "Crypto", "Model", "Diagnostics" },
        ["Client"] = new[] { "Json", "Errors", "Crypto", "Model", "Diagnostics", "Transport" },
        ["Issuance"] = new[] { "Json", "Errors", "Crypto", "Model", "Diagnostics", "Transport", "Client" },
        ["ChallengeStores"] = new[] { "Json", "Errors", "Crypto", "Model", "Diagnostics", "FileSystem" },
        ["Locking"] = new[] { "Errors", "Diagnostics", "Model", "ChallengeStores" },
        ["Challenges.Listening"] = new[] { "Errors", "Diagnostics" },
        ["Challenges.Http01"] = new[] { "Json", "Errors", "Crypto", "Model", "Diagnostics", "Transport", "Client", "Issuance", "ChallengeStores", "Challenges.Listening" },
        ["Challenges.TlsAlpn01"] = new[] { "Errors", "Crypto", "Model", "Diagnostics", "Client", "Issuance", "Challenges.Listening" },
        ["Challenges.Dns01"] = new[] { "Json", "Errors", "Crypto", "Model", "Diagnostics", "Client", "Issuance" },
        ["Challenges.Dns01.Providers"] = new[] { "Json", "Errors", "Crypto", "Model", "Diagnostics", "FileSystem", "Client", "Issuance", "Challenges.Dns01" },
        ["Renewal"] = new[] { "Json", "Errors", "Crypto", "Model", "Diagnostics", "Transport", "Client" },
        ["Export"] = new[] { "Errors", "Crypto", "Model", "FileSystem" },
        ["State"] = new[]
        {
            "Json", "Errors", "Crypto", "Model", "Diagnostics", "FileSystem", "Transport", "Client", "Issuance", "ChallengeStores", "Locking",
            "Challenges.Listening", "Challenges.Http01", "Challenges.TlsAlpn01", "Challenges.Dns01", "Challenges.Dns01.Providers", "Renewal", "Export",
        },
    };

    private const string Prefix = "Acme.Protocol.";

    private static readonly Assembly s_core = typeof(AcmeOrder).Assembly;

    [Fact]
    public void EveryRoomUsesOnlyTheRoomsBelowIt()
    {
        List<string> violations = Violations(s_core, Allowed);
        Assert.True(violations.Count == 0, "References against the order of the rooms (docs/ARCHITECTURE.md):\n" + string.Join("\n", violations));
    }

    [Fact]
    public void EveryNamespaceOfTheCoreIsARoom()
    {
        string[] unknown = s_core.GetTypes().Select(RoomOf).Where(r => r is not null && !Allowed.ContainsKey(r)).Distinct().Select(r => r!).ToArray();
        Assert.True(unknown.Length == 0, "Namespaces with no row in LayeringTests.Allowed: " + string.Join(", ", unknown));
    }

    [Fact]
    public void TheCoreNeverReferencesPowerShell()
    {
        AssemblyName[] references = s_core.GetReferencedAssemblies();
        Assert.DoesNotContain(references, r => r.Name is "System.Management.Automation" or "Microsoft.PowerShell.Commands.Utility");
        Assert.Contains(references, r => r.Name == "BouncyCastle.Cryptography");
    }

    /// <summary>The check itself catches a reference against the order (a lower room naming a higher one).</summary>
    [Fact]
    public void AReferenceAgainstTheOrderIsCaughtAndNamed()
    {
        // Model may use Crypto; with Crypto taken away from Model the check must name a Model type using AcmeKey.
        var narrowed = Allowed.ToDictionary(p => p.Key, p => p.Value);
        narrowed["Model"] = narrowed["Model"].Where(r => r != "Crypto").ToArray();
        List<string> violations = Violations(s_core, narrowed);
        Assert.Contains(violations, v => v.StartsWith("Acme.Protocol.Model.AcmeAccount", StringComparison.Ordinal) && v.Contains("Acme.Protocol.Crypto.AcmeKey"));
    }

    public static List<string> Violations(Assembly assembly, IReadOnlyDictionary<string, string[]> allowed)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Type type in assembly.GetTypes())
        {
            string? room = RoomOf(type);
            if (room is null || !allowed.TryGetValue(room, out string[]? may))
            {
                continue;
            }

            foreach ((string where, Type used) in References(type))
            {
                foreach (Type t in Expand(used))
                {
                    string? target = t.Assembly == assembly ? RoomOf(t) : null;
                    if (target is not null && target != room && !may.Contains(target))
                    {
                        found.Add($"{Outer(type).FullName}{where} references {Outer(t).FullName} ({room} may use: {(may.Length == 0 ? "nothing" : string.Join(", ", may))})");
                    }
                }
            }
        }

        return found.ToList();
    }

    private static string? RoomOf(Type type)
    {
        string? ns = Outer(type).Namespace;
        return ns is not null && ns.StartsWith(Prefix, StringComparison.Ordinal) ? ns.Substring(Prefix.Length) : null;
    }

    private static Type Outer(Type type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }

        return type;
    }

    private static IEnumerable<Type> Expand(Type type)
    {
        if (type.HasElementType && type.GetElementType() is { } element)
        {
            foreach (Type t in Expand(element))
            {
                yield return t;
            }

            yield break;
        }

        if (type.IsGenericParameter)
        {
            yield break;
        }

        yield return type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        if (type.IsGenericType)
        {
            foreach (Type t in type.GetGenericArguments().SelectMany(Expand))
            {
                yield return t;
            }
        }
    }

    private static IEnumerable<(string Where, Type Used)> References(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        if (type.BaseType is not null)
        {
            yield return (" (base)", type.BaseType);
        }

        foreach (Type i in type.GetInterfaces())
        {
            yield return (" (interface)", i);
        }

        foreach (FieldInfo f in type.GetFields(all))
        {
            yield return ("." + f.Name, f.FieldType);
        }

        foreach (PropertyInfo p in type.GetProperties(all))
        {
            yield return ("." + p.Name, p.PropertyType);
        }

        foreach (MethodBase m in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            string where = "." + m.Name;
            if (m is MethodInfo mi)
            {
                yield return (where, mi.ReturnType);
            }

            foreach (ParameterInfo p in m.GetParameters())
            {
                yield return (where, p.ParameterType);
            }

            MethodBody? body = m.GetMethodBody();
            if (body is null)
            {
                continue;
            }

            foreach (LocalVariableInfo local in body.LocalVariables)
            {
                yield return (where, local.LocalType);
            }

            foreach (Type used in IlReferences(m, body))
            {
                yield return (where, used);
            }
        }
    }

    private static readonly Dictionary<short, OpCode> s_opcodes = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The types, and the declaring types of the methods and fields, that a method body's IL names.</summary>
    private static IEnumerable<Type> IlReferences(MethodBase method, MethodBody body)
    {
        byte[] il = body.GetILAsByteArray() ?? Array.Empty<byte>();
        Module module = method.Module;
        Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int at = 0;
        while (at < il.Length)
        {
            short value = il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at];
            at += il[at] == 0xFE ? 2 : 1;
            if (!s_opcodes.TryGetValue(value, out OpCode op))
            {
                yield break;
            }

            switch (op.OperandType)
            {
                case OperandType.InlineType or OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok:
                    int token = BitConverter.ToInt32(il, at);
                    at += 4;
                    MemberInfo? member = null;
                    try
                    {
                        member = module.ResolveMember(token, typeArgs, methodArgs);
                    }
                    catch (ArgumentException)
                    {
                    }

                    switch (member)
                    {
                        case Type t:
                            yield return t;
                            break;
                        case MethodBase mb when mb.DeclaringType is not null:
                            yield return mb.DeclaringType;
                            if (mb is MethodInfo { IsGenericMethod: true } generic)
                            {
                                foreach (Type a in generic.GetGenericArguments())
                                {
                                    yield return a;
                                }
                            }

                            break;
                        case FieldInfo f when f.DeclaringType is not null:
                            yield return f.DeclaringType;
                            break;
                    }

                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    at += 1;
                    break;
                case OperandType.InlineVar:
                    at += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    at += 8;
                    break;
                case OperandType.InlineSwitch:
                    int count = BitConverter.ToInt32(il, at);
                    at += 4 + (4 * count);
                    break;
                default:
                    at += 4;
                    break;
            }
        }
    }
}
