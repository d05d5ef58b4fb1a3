using System.Globalization;
using System.Runtime.InteropServices;
using Donjon.Backends.Process.Interop;

namespace Donjon.Backends.Process;

/// <summary>
/// Starts the shim with exactly the descriptors docs/protocol.md §5 lists: 0 and 1 on /dev/null, 2 on Donjon's
/// stderr, 3 the image blob, 4 the shared block. Every other descriptor of the host is close-on-exec.
/// </summary>
internal static unsafe class ShimLauncher
{
    private const int ImageDescriptor = 3;
    private const int BlockDescriptor = 4;
    private const short PosixSpawnSetSigdef = 0x04;
    private const short PosixSpawnSetSigmask = 0x08;

    // glibc's POSIX_SPAWN_SETSID: the child calls setsid(), so it leads a session and a process group of its own,
    // which the host can kill as a whole (kill(-pgid)) and which the terminal's Ctrl-C never reaches directly.
    private const short PosixSpawnSetsid = 0x80;
    private const int SigKill = 9;
    private const int SigUrg = 23;
    private const int IdTypePid = 1;
    private const int WaitExited = 4;
    private const int WaitNoWait = 0x01000000;
    private const int SiginfoSize = 128;
    private const int OpenReadOnly = 0;
    private const int OpenWriteOnly = 1;
    private const int FDupfdCloexec = 1030;

    // glibc's posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336; both are allocated with room to spare.
    private const int OpaqueSize = 1024;
    private const int SignalSetSize = 128;

    /// <summary>Spawns the shim; the calling thread becomes its parent for <c>PR_SET_PDEATHSIG</c>.</summary>
    /// <returns>The shim's pid.</returns>
    public static int Spawn(string shimPath, int imageFd, int blockFd)
    {
        // dup2 onto 3 and 4 in order would clobber a source that already is 3 or 4, and dup2 of a descriptor onto
        // itself would keep its close-on-exec flag: so the sources are first moved to private numbers of 10 and up.
        int highImage = Libc.Fcntl(imageFd, FDupfdCloexec, 10);
        int highBlock = highImage < 0 ? -1 : Libc.Fcntl(blockFd, FDupfdCloexec, 10);
        if (highImage < 0 || highBlock < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (highImage >= 0)
            {
                Libc.Close(highImage);
            }

            throw new IOException($"cannot prepare the shim's descriptors: fcntl(F_DUPFD_CLOEXEC) failed with errno {errno}");
        }

        try
        {
            return SpawnWith(shimPath, highImage, highBlock);
        }
        finally
        {
            Libc.Close(highImage);
            Libc.Close(highBlock);
        }
    }

    private static int SpawnWith(string shimPath, int imageFd, int blockFd)
    {
        nint actions = Marshal.AllocHGlobal(OpaqueSize);
        nint attributes = Marshal.AllocHGlobal(OpaqueSize);
        nint signals = Marshal.AllocHGlobal(SignalSetSize);
        nint path = Marshal.StringToCoTaskMemUTF8(shimPath);
        nint arg0 = Marshal.StringToCoTaskMemUTF8("donjon-shim");
        nint arg1 = Marshal.StringToCoTaskMemUTF8(Libc.Getpid().ToString(CultureInfo.InvariantCulture));
        try
        {
            Check(Libc.PosixSpawnFileActionsInit(actions), "posix_spawn_file_actions_init");
            Check(Libc.PosixSpawnattrInit(attributes), "posix_spawnattr_init");
            Check(Libc.PosixSpawnFileActionsAddOpen(actions, 0, "/dev/null", OpenReadOnly, 0), "addopen stdin");
            Check(Libc.PosixSpawnFileActionsAddOpen(actions, 1, "/dev/null", OpenWriteOnly, 0), "addopen stdout");
            Check(Libc.PosixSpawnFileActionsAddDup2(actions, imageFd, ImageDescriptor), "adddup2 image");
            Check(Libc.PosixSpawnFileActionsAddDup2(actions, blockFd, BlockDescriptor), "adddup2 block");

            // The shim starts with every signal unblocked and at its default action: .NET ignores SIGPIPE, and
            // an ignored disposition would survive exec.
            var set = new Span<byte>((void*)signals, SignalSetSize);
            set.Clear();
            Check(Libc.PosixSpawnattrSetsigmask(attributes, signals), "setsigmask");
            set.Fill(0xff);
            Check(Libc.PosixSpawnattrSetsigdefault(attributes, signals), "setsigdefault");
            Check(Libc.PosixSpawnattrSetflags(attributes, PosixSpawnSetSigmask | PosixSpawnSetSigdef | PosixSpawnSetsid), "setflags");

            byte** argv = stackalloc byte*[3] { (byte*)arg0, (byte*)arg1, null };
            byte** envp = stackalloc byte*[1] { null };
            int pid;
            int error = Libc.PosixSpawn(&pid, (byte*)path, actions, attributes, argv, envp);
            if (error != 0)
            {
                throw new IOException($"cannot start the shim {shimPath}: posix_spawn failed with errno {error}");
            }

            return pid;
        }
        finally
        {
            _ = Libc.PosixSpawnFileActionsDestroy(actions);
            _ = Libc.PosixSpawnattrDestroy(attributes);
            Marshal.FreeHGlobal(actions);
            Marshal.FreeHGlobal(attributes);
            Marshal.FreeHGlobal(signals);
            Marshal.ZeroFreeCoTaskMemUTF8(path);
            Marshal.ZeroFreeCoTaskMemUTF8(arg0);
            Marshal.ZeroFreeCoTaskMemUTF8(arg1);
        }
    }

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

    private static void Check(int result, string what)
    {
        if (result != 0)
        {
            throw new IOException($"cannot prepare the shim's start: {what} failed ({result})");
        }
    }
}
