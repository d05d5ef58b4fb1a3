using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using Donjon.Abstractions.Backends;
using Donjon.Abstractions.Plugins;
using Donjon.Abstractions.Syscalls;
using Donjon.Host.Configuration;
using Donjon.Host.Files;
using Donjon.Host.Protocol;
using Microsoft.Extensions.Logging;

namespace Donjon.Host.Plugins;

/// <summary>
/// Loads the plugins that <c>plugins.json</c> lists, each in its own load context that shares only the contract
/// (Donjon.Abstractions and what it references) with the host. A plugin may therefore carry a private version of
/// any other dependency.
/// </summary>
internal sealed class PluginCatalog : IDisposable
{
    /// <summary>The contract version this host speaks: the version of the abstractions assembly it runs with.</summary>
    public static Version HostContractVersion { get; } = typeof(IBackend).Assembly.GetName().Version!;

    private const string ContractAssemblyName = "Donjon.Abstractions";

    /// <summary>The largest plugin assembly read, in bytes.</summary>
    private const long MaxAssemblySize = 256L << 20;

    private readonly List<PluginLoadContext> _loaders = [];
    private readonly List<LoadedPlugin> _plugins;
    private readonly DonjonConfiguration _configuration;
    private readonly ILoggerFactory _loggerFactory;

    /// <summary>The backend-only plugins not loaded yet (<see cref="LoadForRun"/>), in file order.</summary>
    private readonly Queue<PluginReference> _deferred;

    private PluginCatalog(DonjonConfiguration configuration, ILoggerFactory loggerFactory, List<LoadedPlugin> plugins, Queue<PluginReference> deferred)
    {
        _configuration = configuration;
        _loggerFactory = loggerFactory;
        _plugins = plugins;
        _deferred = deferred;
    }

    /// <summary>Every loaded plugin, in file order (a plugin loaded later by <see cref="TryLoadBackend"/> comes last).</summary>
    public IReadOnlyList<LoadedPlugin> Plugins => _plugins;

    /// <summary>Every loaded backend: first those in the admin's order, then the rest in load order.</summary>
    public IReadOnlyList<IBackend> OrderedBackends
    {
        get
        {
            var loaded = _plugins.SelectMany(p => p.Backends).ToList();
            var ordered = new List<IBackend>();
            foreach (string name in _configuration.BackendOrder)
            {
                if (loaded.FirstOrDefault(b => b.Name == name) is { } backend && !ordered.Contains(backend))
                {
                    ordered.Add(backend);
                }
            }

            ordered.AddRange(loaded.Where(b => !ordered.Contains(b)));
            return ordered;
        }
    }

    /// <summary>Whether some backend-only plugin is not loaded yet.</summary>
    public bool HasDeferredPlugins => _deferred.Count > 0;

    /// <summary>
    /// Loads the deferred backend-only plugins in file order until one provides backend <paramref name="name"/>.
    /// Throws <see cref="ConfigurationException"/> when a plugin it loads is broken or repeats a backend name.
    /// </summary>
    /// <param name="name">The backend's name, for example <c>process</c>.</param>
    /// <returns>Whether a loaded plugin provides it.</returns>
    public bool TryLoadBackend(string name)
    {
        while (!_plugins.Any(p => p.Backends.Any(b => b.Name == name)) && _deferred.Count > 0)
        {
            LoadDeferred(_deferred.Dequeue());
        }

        return _plugins.Any(p => p.Backends.Any(b => b.Name == name));
    }

    /// <summary>Loads every deferred plugin. Throws <see cref="ConfigurationException"/> as <see cref="TryLoadBackend"/> does.</summary>
    public void LoadAll()
    {
        while (_deferred.Count > 0)
        {
            LoadDeferred(_deferred.Dequeue());
        }
    }

    /// <summary>
    /// The backends to try for a run without <c>--backend</c>: those in the admin's order, each loaded only when it is
    /// reached, then every other one. Lazy: a caller that stops at the first available backend loads no more.
    /// </summary>
    /// <returns>The backends, each once.</returns>
    public IEnumerable<IBackend> BackendsToTry()
    {
        var given = new List<IBackend>();
        foreach (string name in _configuration.BackendOrder)
        {
            if (TryLoadBackend(name) && OrderedBackends.FirstOrDefault(b => b.Name == name) is { } backend && !given.Contains(backend))
            {
                given.Add(backend);
                yield return backend;
            }
        }

        LoadAll();
        foreach (IBackend backend in OrderedBackends.Where(b => !given.Contains(b)).ToList())
        {
            yield return backend;
        }
    }

    private void LoadDeferred(PluginReference reference)
    {
        var errors = new List<ConfigurationError>();
        LoadedPlugin? plugin = LoadOne(_configuration.FilePath, reference, _loggerFactory, _loaders, errors);
        if (plugin is not null)
        {
            foreach (IBackend backend in plugin.Backends)
            {
                if (_plugins.FirstOrDefault(p => p.Backends.Any(b => b.Name == backend.Name)) is { } existing)
                {
                    errors.Add(new ConfigurationError(_configuration.FilePath, "$.plugins",
                        $"two backends are named '{backend.Name}': one in {existing.AssemblyPath}, one in {plugin.AssemblyPath}",
                        "Remove one of the two plugins from the list; backend names must be unique."));
                }
            }

            if (plugin.SyscallSets.Count > 0)
            {
                // Only plugins whose metadata shows backends alone are deferred; a set found now would be missing from the
                // keep's table, which is already built from the sets loaded at first.
                errors.Add(new ConfigurationError(_configuration.FilePath, reference.JsonPath + ".path",
                    $"plugin {plugin.AssemblyPath} provides a syscall-handler set its metadata does not show",
                    "Make the handler-set class implement ISyscallHandlerSet itself, or report this bug."));
            }
        }

        if (errors.Count > 0)
        {
            throw new ConfigurationException(errors);
        }

        _plugins.Add(plugin!);
    }

    /// <summary>Every syscall-handler set, in load order.</summary>
    public IEnumerable<ISyscallHandlerSet> SyscallSets => Plugins.SelectMany(p => p.SyscallSets);

    /// <summary>Loads every plugin of <paramref name="configuration"/>, reporting every failure at once.</summary>
    public static PluginCatalog Load(DonjonConfiguration configuration, ILoggerFactory loggerFactory) => Load(configuration, loggerFactory, deferBackends: false);

    /// <summary>
    /// Loads what a run needs at first: every plugin but those whose metadata shows backends and no handler set, which
    /// are loaded only when the run reaches them (<see cref="TryLoadBackend"/>, <see cref="BackendsToTry"/>). Every
    /// failure of the plugins loaded is reported at once; names in <c>backendOrder</c> are checked when reached.
    /// </summary>
    public static PluginCatalog LoadForRun(DonjonConfiguration configuration, ILoggerFactory loggerFactory) => Load(configuration, loggerFactory, deferBackends: true);

    private static PluginCatalog Load(DonjonConfiguration configuration, ILoggerFactory loggerFactory, bool deferBackends)
    {
        var errors = new List<ConfigurationError>();
        var loaders = new List<PluginLoadContext>();
        var plugins = new List<LoadedPlugin>();
        var deferred = new Queue<PluginReference>();
        var locations = new Dictionary<LoadedPlugin, string>(ReferenceEqualityComparer.Instance);
        foreach (PluginReference reference in configuration.Plugins)
        {
            if (deferBackends && IsBackendOnly(reference.AssemblyPath))
            {
                deferred.Enqueue(reference);
                continue;
            }

            LoadedPlugin? plugin = LoadOne(configuration.FilePath, reference, loggerFactory, loaders, errors);
            if (plugin is not null)
            {
                plugins.Add(plugin);
                locations[plugin] = reference.JsonPath + ".path";
            }
        }

        var byName = new Dictionary<string, (IBackend Backend, LoadedPlugin Plugin)>(StringComparer.Ordinal);
        foreach (LoadedPlugin plugin in plugins)
        {
            foreach (IBackend backend in plugin.Backends)
            {
                if (byName.TryGetValue(backend.Name, out var existing))
                {
                    errors.Add(new ConfigurationError(configuration.FilePath, "$.plugins",
                        $"two backends are named '{backend.Name}': one in {existing.Plugin.AssemblyPath}, one in {plugin.AssemblyPath}",
                        "Remove one of the two plugins from the list; backend names must be unique."));
                    continue;
                }

                byName[backend.Name] = (backend, plugin);
            }
        }

        CheckSyscallSets(configuration.FilePath, plugins, locations, errors);

        var ordered = new List<IBackend>();
        for (int i = 0; i < configuration.BackendOrder.Count; i++)
        {
            string name = configuration.BackendOrder[i];
            if (byName.TryGetValue(name, out var entry))
            {
                ordered.Add(entry.Backend);
            }
            else if (deferred.Count == 0)
            {
                string known = byName.Count == 0 ? "none is loaded" : "loaded: " + string.Join(", ", byName.Keys.Order(StringComparer.Ordinal));
                errors.Add(new ConfigurationError(configuration.FilePath, $"$.backendOrder[{i}]",
                    $"unknown backend '{name}' ({known})",
                    "Add the plugin that provides it to 'plugins', or remove the name from 'backendOrder'."));
            }
        }

        ordered.AddRange(byName.Values.Select(v => v.Backend).Where(b => !ordered.Contains(b)));

        if (errors.Count > 0)
        {
            throw new ConfigurationException(errors);
        }

        var catalog = new PluginCatalog(configuration, loggerFactory, plugins, deferred);
        catalog._loaders.AddRange(loaders);
        return catalog;
    }

    /// <summary>
    /// Checks every handler set's declarations, as the shims would carry them out (<see cref="SignatureValidator"/>):
    /// unique set names, well-formed signatures, no syscall the shims serve themselves, no number declared twice.
    /// </summary>
    private static void CheckSyscallSets(string file, List<LoadedPlugin> plugins, Dictionary<LoadedPlugin, string> locations, List<ConfigurationError> errors)
    {
        const string FixRemedy = "Fix the plugin's declaration (docs/contract.md, docs/protocol.md §2), or remove the plugin from 'plugins'.";
        var setNames = new Dictionary<string, string>(StringComparer.Ordinal);
        var owners = new Dictionary<int, (string Set, string Plugin)>();
        foreach (LoadedPlugin plugin in plugins)
        {
            string location = locations[plugin];
            foreach (ISyscallHandlerSet set in plugin.SyscallSets)
            {
                string? setName = set.Name;
                string prefix = $"plugin {plugin.AssemblyPath}: handler set '{setName}'";
                if (string.IsNullOrWhiteSpace(setName))
                {
                    errors.Add(new ConfigurationError(file, location, $"plugin {plugin.AssemblyPath}: a handler set ({set.GetType().FullName}) has no name", FixRemedy));
                    continue;
                }

                if (!setNames.TryAdd(setName, plugin.AssemblyPath))
                {
                    errors.Add(new ConfigurationError(file, location, $"two syscall sets are named '{setName}' ({setNames[setName]} and {plugin.AssemblyPath})",
                        "Remove one of the two plugins; set names must be unique."));
                    continue;
                }

                SyscallSignature?[] signatures;
                try
                {
                    signatures = set.Syscalls?.ToArray() ?? throw new InvalidOperationException("Syscalls is null");
                }
                catch (Exception e)
                {
                    errors.Add(new ConfigurationError(file, location, $"{prefix}: its syscall list cannot be read ({e.GetType().Name}: {e.Message})", FixRemedy));
                    continue;
                }

                foreach (SyscallSignature? signature in signatures)
                {
                    if (signature is null)
                    {
                        errors.Add(new ConfigurationError(file, location, $"{prefix}: a syscall signature is null", FixRemedy));
                        continue;
                    }

                    string problem;
                    try
                    {
                        problem = SignatureValidator.Problem(signature with { Arguments = signature.Arguments?.ToArray()! }) ?? string.Empty;
                    }
                    catch (Exception e)
                    {
                        problem = $"its argument list cannot be read ({e.GetType().Name}: {e.Message})";
                    }

                    if (problem.Length > 0)
                    {
                        bool served = ShimServedSyscalls.Refusing(signature.Number) is not null;
                        errors.Add(new ConfigurationError(file, location, $"{prefix}: syscall {signature.Number} ({signature.Name}): {problem}",
                            served ? $"Remove the declaration of {signature.Name} from the set: the keep never sends it to the host." : FixRemedy));
                        continue;
                    }

                    if (!owners.TryAdd(signature.Number, (setName, plugin.AssemblyPath)))
                    {
                        var first = owners[signature.Number];
                        errors.Add(new ConfigurationError(file, location,
                            $"{prefix}: syscall {signature.Number} ({signature.Name}) is also declared by set '{first.Set}' of plugin {first.Plugin}",
                            "Each syscall may be handled by one set only; remove the declaration from one set, or one of the plugins."));
                    }
                }
            }
        }
    }

    private static LoadedPlugin? LoadOne(string file, PluginReference reference, ILoggerFactory loggerFactory, List<PluginLoadContext> loaders, List<ConfigurationError> errors)
    {
        string location = reference.JsonPath + ".path";
        void Fail(string problem, string remedy) => errors.Add(new ConfigurationError(file, location, problem, remedy));

        Version? contract;
        string simpleName;
        Version assemblyVersion;
        try
        {
            (simpleName, assemblyVersion, contract) = ReadReferences(reference.AssemblyPath);
        }
        catch (NotARegularFileException e)
        {
            Fail($"{reference.AssemblyPath} {e.Problem}", "Point the entry at the plugin's DLL in its bin/ folder.");
            return null;
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            Fail($"{reference.AssemblyPath} is not a .NET assembly ({e.Message})", "Point the entry at the plugin's DLL in its bin/ folder.");
            return null;
        }

        if (contract is null)
        {
            Fail($"{reference.AssemblyPath} contains no plugin: it does not reference {ContractAssemblyName}",
                "Point the entry at a Donjon plugin assembly (one that implements IBackend or ISyscallHandlerSet).");
            return null;
        }

        if (contract.Major != HostContractVersion.Major || contract.Minor > HostContractVersion.Minor)
        {
            Fail($"{reference.AssemblyPath} was built against contract version {contract.ToString(2)}, but this host speaks {HostContractVersion.ToString(2)}",
                $"Rebuild the plugin against {ContractAssemblyName} {HostContractVersion.ToString(2)}, or use a host of its contract version.");
            return null;
        }

        // The load context opens the assembly by path; that path was read as a regular file just above, and is checked
        // again here (stat, without opening it) so that a file swapped for a FIFO cannot hang the load.
        if (RegularFile.KindOf(reference.AssemblyPath) is { } kind && kind != FileKind.Regular)
        {
            Fail($"{reference.AssemblyPath} is {RegularFile.Describe(kind)}, not a regular file", "Point the entry at the plugin's DLL in its bin/ folder.");
            return null;
        }

        Assembly assembly;
        Type[] types;
        try
        {
            // Only the contract (and what it references) is shared; every other dependency resolves from the
            // plugin's own folder first, so a plugin may carry a private version of it (PluginLoadContext).
            var loader = new PluginLoadContext(Path.GetFullPath(reference.AssemblyPath));
            loaders.Add(loader);
            assembly = loader.LoadMain(reference.AssemblyPath);
            types = assembly.GetExportedTypes();
        }
        catch (Exception e)
        {
            Fail($"{reference.AssemblyPath} could not be loaded: {Unwrap(e).Message}",
                "Rebuild the plugin and check that its folder holds its dependencies (its .deps.json and DLLs).");
            return null;
        }

        var context = new PluginContext(Path.GetDirectoryName(reference.AssemblyPath)!, loggerFactory);
        var backends = new List<IBackend>();
        var sets = new List<ISyscallHandlerSet>();
        foreach (Type type in types.Where(t => t is { IsClass: true, IsAbstract: false }))
        {
            bool isBackend = typeof(IBackend).IsAssignableFrom(type);
            bool isSet = typeof(ISyscallHandlerSet).IsAssignableFrom(type);
            if (!isBackend && !isSet)
            {
                continue;
            }

            object? instance = Construct(type, context, Fail);
            if (instance is IBackend backend)
            {
                backends.Add(backend);
            }

            if (instance is ISyscallHandlerSet set)
            {
                sets.Add(set);
            }
        }

        if (backends.Count == 0 && sets.Count == 0)
        {
            if (!errors.Any(e => e.Location == location))
            {
                Fail($"{reference.AssemblyPath} contains no plugin: no public class implements IBackend or ISyscallHandlerSet",
                    "Point the entry at a Donjon plugin assembly, or make the plugin class public and non-abstract.");
            }

            return null;
        }

        return new LoadedPlugin(reference.AssemblyPath, simpleName, assemblyVersion, contract, backends, sets);
    }

    private static object? Construct(Type type, IPluginContext context, Action<string, string> fail)
    {
        ConstructorInfo? withContext = type.GetConstructor([typeof(IPluginContext)]);
        ConstructorInfo? plain = type.GetConstructor(Type.EmptyTypes);
        if (withContext is null && plain is null)
        {
            fail($"plugin type {type.FullName} has no public constructor taking nothing or one IPluginContext",
                "Add such a constructor to the plugin type.");
            return null;
        }

        try
        {
            return withContext is not null ? withContext.Invoke([context]) : plain!.Invoke(null);
        }
        catch (Exception e)
        {
            Exception cause = Unwrap(e);
            fail($"the constructor of plugin type {type.FullName} threw {cause.GetType().Name}: {cause.Message}",
                "Fix the plugin, or remove it from 'plugins'; a plugin's constructor must not fail on a machine without its hardware.");
            return null;
        }
    }

    private static Exception Unwrap(Exception e) => e is TargetInvocationException { InnerException: { } inner } ? inner : e;

    /// <summary>
    /// Whether the plugin's metadata, read without loading it, shows a type implementing IBackend and none implementing
    /// ISyscallHandlerSet (C# lists every interface a class implements, inherited ones too). Anything unreadable is not:
    /// it is loaded at once, so that its error is reported as before.
    /// </summary>
    private static bool IsBackendOnly(string path)
    {
        try
        {
            byte[] bytes = RegularFile.ReadAll(path, MaxAssemblySize);
            using var pe = new PEReader(ImmutableCollectionsMarshal.AsImmutableArray(bytes));
            if (!pe.HasMetadata)
            {
                return false;
            }

            MetadataReader metadata = pe.GetMetadataReader();
            bool backend = false;
            foreach (TypeDefinitionHandle handle in metadata.TypeDefinitions)
            {
                TypeDefinition type = metadata.GetTypeDefinition(handle);
                foreach (InterfaceImplementationHandle implementation in type.GetInterfaceImplementations())
                {
                    EntityHandle contract = metadata.GetInterfaceImplementation(implementation).Interface;
                    if (contract.Kind != HandleKind.TypeReference)
                    {
                        continue;
                    }

                    TypeReference reference = metadata.GetTypeReference((TypeReferenceHandle)contract);
                    if (metadata.StringComparer.Equals(reference.Namespace, "Donjon.Abstractions.Syscalls") && metadata.StringComparer.Equals(reference.Name, "ISyscallHandlerSet"))
                    {
                        return false;
                    }

                    backend |= metadata.StringComparer.Equals(reference.Namespace, "Donjon.Abstractions.Backends") && metadata.StringComparer.Equals(reference.Name, "IBackend");
                }
            }

            return backend;
        }
        catch (Exception e) when (e is NotARegularFileException or BadImageFormatException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Reads the assembly's own name and the version of its contract reference without loading it.</summary>
    private static (string Name, Version Version, Version? Contract) ReadReferences(string path)
    {
        // Read without blocking, and only if it is a regular file (a FIFO there would hang a plain open).
        byte[] bytes = RegularFile.ReadAll(path, MaxAssemblySize);
        using var pe = new PEReader(ImmutableCollectionsMarshal.AsImmutableArray(bytes));
        if (!pe.HasMetadata)
        {
            throw new BadImageFormatException("the file has no .NET metadata");
        }

        MetadataReader metadata = pe.GetMetadataReader();
        AssemblyDefinition definition = metadata.GetAssemblyDefinition();
        Version? contract = null;
        foreach (AssemblyReferenceHandle handle in metadata.AssemblyReferences)
        {
            AssemblyReference assemblyReference = metadata.GetAssemblyReference(handle);
            if (metadata.StringComparer.Equals(assemblyReference.Name, ContractAssemblyName))
            {
                contract = assemblyReference.Version;
            }
        }

        return (metadata.GetString(definition.Name), definition.Version, contract);
    }

    /// <summary>Lets go of the load contexts (they are not collectible: a plugin's code stays loaded until the host ends).</summary>
    public void Dispose() => _loaders.Clear();

    private sealed record PluginContext(string PluginDirectory, ILoggerFactory LoggerFactory) : IPluginContext;
}
