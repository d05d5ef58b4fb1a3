using System.Globalization;
using Donjon.Backends.Process.Interop;
using Donjon.Backends.Sdk.Spawning;

namespace Donjon.Backends.Process;

/// <summary>
/// Starts the shim with exactly the descriptors docs/protocol.md §5 lists: 0 and 1 on /dev/null, 2 on Donjon's
/// stderr, 3 the image blob, 4 the shared block. Every other descriptor of the host is close-on-exec. Its end (wait
/// without reaping, kill the whole group, reap) is the SDK's <see cref="ProcessGroup"/>, as the VM backend's is.
/// </summary>
internal static class ShimLauncher
{
    private const int ImageDescriptor = 3;
    private const int BlockDescriptor = 4;
    private const int SigUrg = 23;

    /// <summary>Spawns the shim; the calling thread becomes its parent for <c>PR_SET_PDEATHSIG</c>.</summary>
    /// <returns>The shim's pid.</returns>
    public static int Spawn(string shimPath, int imageFd, int blockFd) =>
        // The SDK's spawner places the descriptors without races (posix_spawn with dup2 file actions), starts the
        // shim with every signal unblocked and at its default action, and in a session of its own (POSIX_SPAWN_SETSID),
        // which the host kills as a whole (kill(-pgid)) and which the terminal's Ctrl-C never reaches directly.
        DescriptorSpawner.Spawn(
            shimPath,
            ["donjon-shim", Libc.Getpid().ToString(CultureInfo.InvariantCulture)],
            ShimEnvironment(),
            new Dictionary<int, int> { [2] = 2, [ImageDescriptor] = imageFd, [BlockDescriptor] = blockFd });

    /// <summary>
    /// The environment variable that turns the process keep's syscall-site patching off when it is <c>0</c>
    /// (docs/process.md, "Syscall-site patching"): every system call then takes the SIGSYS trap, for debugging
    /// and for comparing figures. Any other value, or none, leaves patching on.
    /// </summary>
    public const string PatchVariable = "DONJON_PROCESS_PATCH";

    /// <summary>The shim's whole environment: <c>DONJON_PROCESS_PATCH=0</c> when the host's says so, else nothing.</summary>
    private static string[] ShimEnvironment() =>
        Environment.GetEnvironmentVariable(PatchVariable) == "0" ? [PatchVariable + "=0"] : [];

    /// <summary>The shim's kick: <c>SIGURG</c> to the shim alone, which it handles (it never ends it).</summary>
    public static void Kick(int pid) => _ = Libc.Kill(pid, SigUrg);
}
