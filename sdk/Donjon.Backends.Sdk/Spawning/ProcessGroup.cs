using System.Runtime.InteropServices;
using Donjon.Backends.Sdk.Interop;

namespace Donjon.Backends.Sdk.Spawning;

/// <summary>
/// The end of a keep's process (a shim, or a virtual machine monitor) started by <see cref="DescriptorSpawner"/> with
/// a session of its own: wait for it without reaping it, kill its whole process group, then reap it. In that order
/// nothing the keep started survives it, and the group's id cannot have been reused by the time it is killed (the
/// unreaped leader keeps both its pid and its group's id).
/// </summary>
public static unsafe class ProcessGroup
{
    private const int SigKill = 9;
    private const int IdTypePid = 1;
    private const int WaitExited = 4;
    private const int WaitNoWait = 0x01000000;
    private const int SiginfoSize = 128;
    private const int EIntr = 4;

    /// <summary>
    /// Waits until <paramref name="pid"/> has ended, without reaping it (<c>waitid(WEXITED | WNOWAIT)</c>): until
    /// <see cref="Reap"/>, it stays a zombie, so neither the pid nor its process group can be reused, and
    /// <see cref="Kill"/> can only reach the keep's own processes. Blocks the calling thread.
    /// </summary>
    /// <param name="pid">A child of this process.</param>
    public static void WaitForEnd(int pid)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pid);

        // SAFETY: info is a SiginfoSize-byte buffer on this stack frame (glibc's siginfo_t is 128 bytes); waitid
        // writes at most that much into it and keeps no pointer to it.
        byte* info = stackalloc byte[SiginfoSize];
        while (Libc.Waitid(IdTypePid, pid, info, WaitExited | WaitNoWait) != 0 && Marshal.GetLastPInvokeError() == EIntr)
        {
        }
    }

    /// <summary>
    /// Kills every process of the group <paramref name="pid"/> leads (made by <c>POSIX_SPAWN_SETSID</c>), and the
    /// process itself: a second line of defence, so that nothing the keep started survives it. Call it only before
    /// <see cref="Reap"/>; errors (nothing left to kill) are ignored.
    /// </summary>
    /// <param name="pid">The group's leader, a child of this process not reaped yet.</param>
    public static void Kill(int pid)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pid);
        _ = Libc.Kill(-pid, SigKill);
        _ = Libc.Kill(pid, SigKill);
    }

    /// <summary>Reaps <paramref name="pid"/> (after <see cref="WaitForEnd"/>).</summary>
    /// <param name="pid">A child of this process.</param>
    /// <returns>The raw wait status, or -1 if it was already reaped elsewhere.</returns>
    public static int Reap(int pid)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pid);
        int status;
        while (true)
        {
            // SAFETY: status is a local the call writes once.
            int result = Libc.Waitpid(pid, &status, 0);
            if (result == pid)
            {
                return status;
            }

            if (Marshal.GetLastPInvokeError() != EIntr)
            {
                return -1;
            }
        }
    }
}
