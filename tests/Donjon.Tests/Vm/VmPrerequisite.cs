using Donjon.Tests.Support;

namespace Donjon.Tests.Vm;

/// <summary>
/// What every VM keep test needs: QEMU and the built vm plugin. A missing one fails the test with the remedy; nothing
/// is skipped, under CI or elsewhere.
/// </summary>
internal static class VmPrerequisite
{
    /// <summary>The vm plugin's folder in this repository.</summary>
    public static string PluginDirectory => Repository.PathOf("plugins/backends/vm/bin");

    /// <summary>Fails the calling test, saying what to install or build, unless the VM keep can run here.</summary>
    public static void Require()
    {
        string? qemu = Environment.GetEnvironmentVariable("DONJON_QEMU");
        bool found = !string.IsNullOrEmpty(qemu)
            ? File.Exists(qemu)
            : (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Any(folder => File.Exists(Path.Combine(folder, "qemu-system-x86_64")));
        if (!found)
        {
            throw new InvalidOperationException(
                "The VM keep's tests need QEMU and no qemu-system-x86_64 was found on PATH (or at DONJON_QEMU). " +
                "Install it: sudo apt-get install --no-install-recommends qemu-system-x86 (bash .ci/run does).");
        }

        foreach (string file in new[] { "Donjon.Backends.Vm.dll", "donjon-vm-shim", "donjon-vm-exec" })
        {
            if (!File.Exists(Path.Combine(PluginDirectory, file)))
            {
                throw new InvalidOperationException($"{Path.Combine(PluginDirectory, file)} is missing: build the solution first (dotnet build Donjon.sln).");
            }
        }
    }
}
