using System.Reflection;
using System.Runtime.Loader;

namespace Donjon.Tests.Vm;

/// <summary>
/// The built vm plugin, loaded into the tests' own context so that its internal types can be inspected (the tests
/// do not reference the plugin: like every plugin, it is loaded from its folder). Its contract types are the tests'
/// own <c>Donjon.Abstractions</c>.
/// </summary>
internal static class VmPlugin
{
    private static readonly Lazy<Assembly> Loaded = new(() =>
    {
        VmPrerequisite.Require();
        return AssemblyLoadContext.Default.LoadFromAssemblyPath(Path.Combine(VmPrerequisite.PluginDirectory, "Donjon.Backends.Vm.dll"));
    });

    /// <summary>A type of the plugin by its name in <c>Donjon.Backends.Vm</c>.</summary>
    public static Type Type(string name) =>
        Loaded.Value.GetType("Donjon.Backends.Vm." + name, throwOnError: true)!;
}
