using System.Globalization;
using System.Runtime.InteropServices;
using Donjon.Backends.Process.Interop;
using Donjon.Backends.Sdk.Spawning;

namespace Donjon.Backends.Process;

/// <summary>
/// Starts the shim with exactly the descriptors docs/protocol.md §5 lists: 0 and 1 on /dev/null, 2 on Donjon's
/// stderr, 3 the image blob, 4 the shared block. Every other descriptor of the host is close-on-exec.
/// </summary>
internal static unsafe class ShimLauncher
{
    private const int ImageDescriptor = 3;
    private const int BlockDescriptor = 4;
    private const int SigKill = 9;
    private const int SigUrg = 23;
    private const int IdTypePid = 1;
    private const int WaitExited = 4;
    private const int WaitNoWait = 0x01000000;
    private const int SiginfoSize = 128;

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

    /// <summary>
    /// Waits until the shim has ended, without reaping it (<c>waitid(WEXITED | WNOWAIT)</c>): until
    /// <see cref="Reap"/>, its pid stays a zombie, so neither the pid nor its process group can be reused, and
    /// <see cref="KillGroup"/> can only reach the keep's own processes.
    /// </summary>
    public static void WaitForEnd(int pid)
    {
        // SAFETY: info is a SiginfoSize-byte buffer on this stack frame (glibc's siginfo_t is 128 bytes); waitid
        // writes at most that much into it and keeps no pointer to it.
        byte* info = stackalloc byte[SiginfoSize];
        while (Libc.Waitid(IdTypePid, pid, info, WaitExited | WaitNoWait) != 0 && Marshal.GetLastPInvokeError() == 4)
        {
        }
    }

    /// <summary>
    /// Kills every process of the keep's process group (the group the shim leads, made by POSIX_SPAWN_SETSID):
    /// a second line of defence, so that nothing the keep started survives it. Call it only before <see cref="Reap"/>.
    /// </summary>
    /// <summary>The shim's kick: <c>SIGURG</c> to the shim alone, which it handles (it never ends it).</summary>
    public static void Kick(int pid) => _ = Libc.Kill(pid, SigUrg);

    public static void KillGroup(int pid)
    {
        _ = Libc.Kill(-pid, SigKill);
        _ = Libc.Kill(pid, SigKill);
    }

    /// <summary>Reaps the shim after <see cref="WaitForEnd"/>. Returns the raw wait status, or -1 if it was already reaped elsewhere.</summary>
    public static int Reap(int pid)
    {
        int status;
        while (true)
        {
            // SAFETY: status is a local the call writes once.
            int result = Libc.Waitpid(pid, &status, 0);
            if (result == pid)
            {
                return status;
            }

            if (Marshal.GetLastPInvokeError() != 4)
            {
                return -1;
            }
        }
    }
}
