using Donjon.Abstractions.Backends;
using Donjon.Abstractions.Syscalls;

namespace Donjon.Host.Plugins;

/// <summary>One plugin assembly as loaded: where it is, what it was built against, and what it provides.</summary>
/// <param name="AssemblyPath">The plugin assembly's absolute path.</param>
/// <param name="AssemblyName">The assembly's simple name.</param>
/// <param name="AssemblyVersion">The assembly's version.</param>
/// <param name="ContractVersion">The Donjon.Abstractions version the plugin was built against.</param>
/// <param name="Backends">The backends it provides.</param>
/// <param name="SyscallSets">The syscall-handler sets it provides.</param>
internal sealed record LoadedPlugin(
    string AssemblyPath,
    string AssemblyName,
    Version AssemblyVersion,
    Version ContractVersion,
    IReadOnlyList<IBackend> Backends,
    IReadOnlyList<ISyscallHandlerSet> SyscallSets);
