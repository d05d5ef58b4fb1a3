using System.Reflection;
using System.Runtime.Loader;
using Donjon.Abstractions.Backends;
using Donjon.Host.Files;
using Microsoft.Extensions.Logging;

namespace Donjon.Host.Plugins;

/// <summary>
/// The load context of one plugin: the contract (Donjon.Abstractions, Microsoft.Extensions.Logging.Abstractions, and
/// the assemblies those two reference) comes from the host, so that the plugin's IBackend is the host's; every other
/// assembly resolves from the plugin's own folder first, through its <c>.deps.json</c> (the runtime's
/// <see cref="AssemblyDependencyResolver"/>, which the native host reads without any managed JSON parser), then as
/// <c>NAME.dll</c> beside the plugin, and only then from the host (the framework, or a dependency the host has). A
/// plugin may therefore carry a private version of any other dependency.
/// </summary>
internal sealed class PluginLoadContext : AssemblyLoadContext
{
    /// <summary>The simple names of the shared assemblies (the contract and what it references), compared ordinally.</summary>
    private static readonly HashSet<string> SharedNames = SharedAssemblyNames();

    private readonly AssemblyDependencyResolver _resolver;
    private readonly string _directory;

    /// <param name="mainAssemblyPath">The full path of the plugin's assembly (its folder holds its dependencies).</param>
    public PluginLoadContext(string mainAssemblyPath)
        : base(Path.GetFileNameWithoutExtension(mainAssemblyPath), isCollectible: false)
    {
        _resolver = new AssemblyDependencyResolver(mainAssemblyPath);
        _directory = Path.GetDirectoryName(mainAssemblyPath)!;
    }

    /// <summary>Loads the plugin's own assembly.</summary>
    /// <param name="mainAssemblyPath">The path given to the constructor.</param>
    public Assembly LoadMain(string mainAssemblyPath) => LoadFromAssemblyPath(Path.GetFullPath(mainAssemblyPath));

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is not { } name)
        {
            return null;
        }

        if (SharedNames.Contains(name))
        {
            try
            {
                return Default.LoadFromAssemblyName(assemblyName);
            }
            catch (FileNotFoundException)
            {
                // The host has no such assembly: the plugin's own copy, below.
            }
        }

        if (_resolver.ResolveAssemblyToPath(assemblyName) is { } resolved)
        {
            return LoadFromAssemblyPath(resolved);
        }

        // A DLL beside the plugin that its .deps.json does not list (or a plugin without one). The name comes from
        // the plugin's own metadata; one with a path in it is not looked up.
        if (name.IndexOfAny(['/', '\0']) < 0 && name is not ("." or ".."))
        {
            string beside = Path.Combine(_directory, name + ".dll");
            if (RegularFile.KindOf(beside) == FileKind.Regular)
            {
                return LoadFromAssemblyPath(beside);
            }
        }

        return null;   // the host's: the framework, or a dependency the host ships
    }

    protected override nint LoadUnmanagedDll(string unmanagedDllName)
    {
        string? path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? 0 : LoadUnmanagedDllFromPath(path);
    }

    /// <summary>The contract's assemblies and every assembly they reference, by simple name.</summary>
    private static HashSet<string> SharedAssemblyNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Assembly shared in (Assembly[])[typeof(IBackend).Assembly, typeof(ILogger).Assembly])
        {
            names.Add(shared.GetName().Name!);
            foreach (AssemblyName reference in shared.GetReferencedAssemblies())
            {
                if (reference.Name is { } name)
                {
                    names.Add(name);
                }
            }
        }

        return names;
    }
}
