using System.Globalization;
using System.Runtime.InteropServices;
using Donjon.Backends.Vm.Interop;

namespace Donjon.Backends.Vm;

/// <summary>
/// QEMU's command line for a keep, and its start through <c>donjon-vm-exec</c> (asm/vm/exec), which gives it a
/// parent-death signal before it becomes QEMU. QEMU gets exactly these descriptors: 0 and 1 on /dev/null, 2 a pipe
/// the host reads (QEMU's own messages), 3 the guest RAM file, 4 the host's peer of COM1 (the console), 5 the host's
/// peer of COM2 (the doorbell line). Nothing in the file system is created: QEMU opens the RAM as
/// <c>/proc/self/fd/3</c> and takes the serial lines as connected sockets (<c>-chardev socket,fd=N</c>).
/// </summary>
internal static unsafe class QemuLauncher
{
    /// <summary>QEMU's descriptor for the guest RAM file.</summary>
    public const int RamDescriptor = 3;

    /// <summary>QEMU's descriptor for COM1.</summary>
    public const int ConsoleDescriptor = 4;

    /// <summary>QEMU's descriptor for COM2.</summary>
    public const int DoorbellDescriptor = 5;

    private const short PosixSpawnSetSigdef = 0x04;
    private const short PosixSpawnSetSigmask = 0x08;

    // glibc's POSIX_SPAWN_SETSID: the child calls setsid(), so it leads a session and a process group of its own,
    // which the host can kill as a whole (kill(-pgid)) and which the terminal's Ctrl-C never reaches directly.
    private const short PosixSpawnSetsid = 0x80;
    private const int SigKill = 9;
    private const int IdTypePid = 1;
    private const int WaitExited = 4;
    private const int WaitNoWait = 0x01000000;
    private const int SiginfoSize = 128;
    private const int OpenReadOnly = 0;
    private const int OpenWriteOnly = 1;
    private const int FDupfdCloexec = 1030;
    private const int HighDescriptor = 64;

    // glibc's posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336; both are allocated with room to spare.
    private const int OpaqueSize = 1024;
    private const int SignalSetSize = 128;

    /// <summary>The arguments after QEMU's path.</summary>
    /// <param name="shimPath">donjon-vm-shim, the guest kernel.</param>
    /// <param name="ramSize">The guest RAM size in bytes, a whole number of MiB.</param>
    /// <param name="accelerator">kvm (with the host's CPU model) or tcg (with QEMU's "max" model).</param>
    /// <param name="sandbox">Whether to run QEMU under its seccomp sandbox.</param>
    public static IReadOnlyList<string> Arguments(string shimPath, ulong ramSize, Accelerator accelerator, bool sandbox)
    {
        string mebibytes = (ramSize >> 20).ToString(CultureInfo.InvariantCulture) + "M";
        string ram = string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{RamDescriptor}");
        return
        [
            "-name", "donjon-keep",
            // No firmware tables, option ROMs, timer or clock devices: the shim needs none, and each costs start-up
            // time or wake-ups. The i8259 PIC delivers COM2's interrupt.
            "-machine", "microvm,x-option-roms=off,pit=off,pic=on,rtc=off,acpi=off,isa-serial=on,memory-backend=djram",
            "-accel", accelerator == Accelerator.Kvm ? "kvm" : "tcg",
            "-cpu", accelerator == Accelerator.Kvm ? "host" : "max",
            // One vCPU. Under tcg, a second possible (never present) one makes QEMU translate the guest's locked
            // instructions and fences into real host atomics and barriers (CF_PARALLEL); with a single possible vCPU it
            // drops them, and the doorbell's store-then-load handshake with the host (docs/vm.md) would lose wake-ups.
            "-smp", accelerator == Accelerator.Kvm ? "1" : "1,maxcpus=2",
            "-m", mebibytes,
            "-object", $"memory-backend-file,id=djram,size={mebibytes},mem-path={ram},share=on",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            .. (sandbox ? (string[])["-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"] : []),
            "-msg", "timestamp=off",
            "-kernel", shimPath,
            "-chardev", string.Create(CultureInfo.InvariantCulture, $"socket,id=djconsole,fd={ConsoleDescriptor}"),
            "-serial", "chardev:djconsole",
            "-chardev", string.Create(CultureInfo.InvariantCulture, $"socket,id=djdoorbell,fd={DoorbellDescriptor}"),
            "-device", string.Create(CultureInfo.InvariantCulture, $"isa-serial,chardev=djdoorbell,iobase=0x{VmLayout.DoorbellPort:x},irq={VmLayout.DoorbellIrq}"),
            "-device", string.Create(CultureInfo.InvariantCulture, $"isa-debug-exit,iobase=0x{VmLayout.ExitPort:x},iosize=2"),
        ];
    }

    /// <summary>
    /// Spawns <paramref name="execPath"/> (donjon-vm-exec), which execs QEMU; the calling thread becomes the parent
    /// whose end kills QEMU (<c>PR_SET_PDEATHSIG</c>).
    /// </summary>
    /// <returns>The pid of the process that becomes QEMU.</returns>
    public static int Spawn(string execPath, string qemuPath, IReadOnlyList<string> arguments, int ram, int console, int doorbell, int stderr)
    {
        // The sources are first copied above every target (0-5), so that no dup2 in the child overwrites a source
        // another one still needs. The copies are close-on-exec; the dup2 targets are not.
        var sources = new List<int>(4);
        nint actions = Marshal.AllocHGlobal(OpaqueSize);
        nint attributes = Marshal.AllocHGlobal(OpaqueSize);
        nint signals = Marshal.AllocHGlobal(SignalSetSize);
        string[] argv = [execPath, Libc.Getpid().ToString(CultureInfo.InvariantCulture), qemuPath, .. arguments];
        nint[] strings = argv.Select(Marshal.StringToCoTaskMemUTF8).ToArray();
        nint path = Marshal.StringToCoTaskMemUTF8(execPath);
        try
        {
            Check(Libc.PosixSpawnFileActionsInit(actions), "posix_spawn_file_actions_init");
            Check(Libc.PosixSpawnattrInit(attributes), "posix_spawnattr_init");
            foreach (int fd in (int[])[stderr, ram, console, doorbell])
            {
                sources.Add(Duplicate(fd));
            }

            Check(Libc.PosixSpawnFileActionsAddOpen(actions, 0, "/dev/null", OpenReadOnly, 0), "addopen stdin");
            Check(Libc.PosixSpawnFileActionsAddOpen(actions, 1, "/dev/null", OpenWriteOnly, 0), "addopen stdout");
            Check(Libc.PosixSpawnFileActionsAddDup2(actions, sources[0], 2), "adddup2 stderr");
            Check(Libc.PosixSpawnFileActionsAddDup2(actions, sources[1], RamDescriptor), "adddup2 ram");
            Check(Libc.PosixSpawnFileActionsAddDup2(actions, sources[2], ConsoleDescriptor), "adddup2 console");
            Check(Libc.PosixSpawnFileActionsAddDup2(actions, sources[3], DoorbellDescriptor), "adddup2 doorbell");

            // QEMU starts with every signal unblocked and at its default action: .NET ignores SIGPIPE, and an
            // ignored disposition would survive exec.
            // SAFETY: `signals` is an allocation of SignalSetSize bytes, larger than glibc's sigset_t (128 bytes).
            var set = new Span<byte>((void*)signals, SignalSetSize);
            set.Clear();
            Check(Libc.PosixSpawnattrSetsigmask(attributes, signals), "setsigmask");
            set.Fill(0xff);
            Check(Libc.PosixSpawnattrSetsigdefault(attributes, signals), "setsigdefault");
            Check(Libc.PosixSpawnattrSetflags(attributes, PosixSpawnSetSigmask | PosixSpawnSetSigdef | PosixSpawnSetsid), "setflags");

            // SAFETY: argv and envp are NULL-terminated arrays on this stack frame of pointers to the UTF-8 strings
            // allocated above, all alive until posix_spawn returns; pid is a local it writes once.
            byte** argvPointers = stackalloc byte*[strings.Length + 1];
            for (int i = 0; i < strings.Length; i++)
            {
                argvPointers[i] = (byte*)strings[i];
            }

            argvPointers[strings.Length] = null;
            byte** envp = stackalloc byte*[1] { null };
            int pid;
            int error = Libc.PosixSpawn(&pid, (byte*)path, actions, attributes, argvPointers, envp);
            if (error != 0)
            {
                throw new IOException($"cannot start {execPath}: posix_spawn failed with errno {error}");
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
            Marshal.FreeCoTaskMem(path);
            foreach (nint s in strings)
            {
                Marshal.FreeCoTaskMem(s);
            }

            foreach (int fd in sources)
            {
                Libc.Close(fd);
            }
        }
    }

    /// <summary>
    /// Waits until QEMU has ended, without reaping it (<c>waitid(WEXITED | WNOWAIT)</c>): until
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
    /// Kills every process of the keep's process group (the group QEMU leads, made by POSIX_SPAWN_SETSID):
    /// a second line of defence, so that nothing the keep started survives it. Call it only before <see cref="Reap"/>.
    /// </summary>
    public static void KillGroup(int pid)
    {
        _ = Libc.Kill(-pid, SigKill);
        _ = Libc.Kill(pid, SigKill);
    }

    /// <summary>Reaps QEMU after <see cref="WaitForEnd"/>. Returns the raw wait status, or -1 if it was already reaped elsewhere.</summary>
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

    private static int Duplicate(int fd)
    {
        int copy = Libc.Fcntl(fd, FDupfdCloexec, HighDescriptor);
        if (copy < 0)
        {
            throw new IOException($"cannot prepare QEMU's descriptors: fcntl(F_DUPFD_CLOEXEC) failed with errno {Marshal.GetLastPInvokeError()}");
        }

        return copy;
    }

    private static void Check(int result, string what)
    {
        if (result != 0)
        {
            throw new IOException($"cannot prepare QEMU's start: {what} failed ({result})");
        }
    }
}
