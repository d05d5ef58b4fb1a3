using System.Runtime.InteropServices;
using Donjon.Backends.Sdk.Interop;

namespace Donjon.Backends.Sdk.Spawning;

/// <summary>
/// Starts a program (a shim, QEMU) with exactly the descriptors it is given, at the numbers it expects, without
/// races: <c>posix_spawn</c> with <c>dup2</c> file actions, so nothing runs between <c>fork</c> and <c>exec</c> but
/// the C library's own code, and no other thread of the host can see or inherit a half-placed descriptor.
/// </summary>
/// <remarks>
/// Every descriptor .NET opens is close-on-exec, so the child has only: 0 and 1 (and 2) on <c>/dev/null</c> unless
/// the map places them, and each target of the map. The sources are first duplicated (close-on-exec) above every
/// target, so that placing one never overwrites another's source, and a source equal to its target still loses
/// close-on-exec. The child starts with every signal unblocked and at its default action (.NET ignores SIGPIPE, and
/// an ignored disposition would survive <c>exec</c>) and, with <c>newSession</c>, leads a session and a process group
/// of its own (<c>POSIX_SPAWN_SETSID</c>), which the backend kills as a whole when the keep ends.
/// </remarks>
public static unsafe class DescriptorSpawner
{
    private const short PosixSpawnSetSigdef = 0x04;
    private const short PosixSpawnSetSigmask = 0x08;
    private const short PosixSpawnSetsid = 0x80; // glibc's POSIX_SPAWN_SETSID
    private const int OpenReadOnly = 0;
    private const int OpenWriteOnly = 1;
    private const int FDupfdCloexec = 1030;

    // glibc's posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336; both are allocated with room to spare.
    private const int OpaqueSize = 1024;
    private const int SignalSetSize = 128;

    /// <summary>Starts <paramref name="path"/>; the calling thread becomes its parent (for <c>PR_SET_PDEATHSIG</c>).</summary>
    /// <param name="path">The program.</param>
    /// <param name="arguments">Its whole <c>argv</c>, <c>argv[0]</c> included.</param>
    /// <param name="environment">Its environment, <c>NAME=value</c> each (empty for none).</param>
    /// <param name="descriptors">Target number → host descriptor: where each of the child's descriptors comes from.</param>
    /// <param name="newSession">Whether the child leads a session and process group of its own.</param>
    /// <returns>The child's pid.</returns>
    /// <exception cref="IOException">A descriptor could not be prepared, or <c>posix_spawn</c> failed; the message says which.</exception>
    public static int Spawn(string path, IReadOnlyList<string> arguments, IReadOnlyList<string> environment, IReadOnlyDictionary<int, int> descriptors, bool newSession = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(descriptors);
        ArgumentOutOfRangeException.ThrowIfZero(arguments.Count, nameof(arguments));

        // Plain loops, no LINQ: this runs at every keep's start, and each framework generic over a value type is a JIT.
        var ordered = new (int Target, int Source)[descriptors.Count];
        int count = 0;
        int above = 3;
        foreach (KeyValuePair<int, int> descriptor in descriptors)
        {
            if (descriptor.Key < 0 || descriptor.Value < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(descriptors), "descriptor numbers are non-negative");
            }

            // In ascending target order (insertion: a handful of descriptors).
            if (count == ordered.Length)
            {
                Array.Resize(ref ordered, count + 4);   // a map whose Count understated its entries
            }

            int at = count;
            while (at > 0 && ordered[at - 1].Target > descriptor.Key)
            {
                ordered[at] = ordered[at - 1];
                at--;
            }

            ordered[at] = (descriptor.Key, descriptor.Value);
            count++;
            above = Math.Max(above, descriptor.Key + 1);
        }

        var placed = new List<(int Target, int High)>();
        try
        {
            for (int index = 0; index < count; index++)
            {
                (int target, int source) = ordered[index];
                int high = Libc.Fcntl(source, FDupfdCloexec, above);
                if (high < 0)
                {
                    throw new IOException($"cannot prepare descriptor {target} from host descriptor {source}: fcntl(F_DUPFD_CLOEXEC) failed with errno {Marshal.GetLastPInvokeError()}");
                }

                placed.Add((target, high));
            }

            return SpawnWith(path, arguments, environment, placed, newSession);
        }
        finally
        {
            foreach ((_, int high) in placed)
            {
                Libc.Close(high);
            }
        }
    }

    /// <summary>Whether a descriptor is placed on <paramref name="target"/> (a loop, not a set: a few descriptors, at every start).</summary>
    private static bool IsPlaced(List<(int Target, int High)> placed, int target)
    {
        for (int i = 0; i < placed.Count; i++)
        {
            if (placed[i].Target == target)
            {
                return true;
            }
        }

        return false;
    }

    private static int SpawnWith(string path, IReadOnlyList<string> arguments, IReadOnlyList<string> environment, List<(int Target, int High)> placed, bool newSession)
    {
        nint actions = Marshal.AllocHGlobal(OpaqueSize);
        nint attributes = Marshal.AllocHGlobal(OpaqueSize);
        nint signals = Marshal.AllocHGlobal(SignalSetSize);
        nint program = Marshal.StringToCoTaskMemUTF8(path);
        nint[] argv = ToUtf8Array(arguments);
        nint[] envp = ToUtf8Array(environment);
        try
        {
            Check(Libc.PosixSpawnFileActionsInit(actions), "posix_spawn_file_actions_init");
            Check(Libc.PosixSpawnattrInit(attributes), "posix_spawnattr_init");
            for (int number = 0; number <= 2; number++)
            {
                if (!IsPlaced(placed, number))
                {
                    int flags = number == 0 ? OpenReadOnly : OpenWriteOnly;
                    Check(Libc.PosixSpawnFileActionsAddOpen(actions, number, "/dev/null", flags, 0), $"addopen /dev/null as {number}");
                }
            }

            foreach ((int target, int high) in placed)
            {
                Check(Libc.PosixSpawnFileActionsAddDup2(actions, high, target), $"adddup2 onto {target}");
            }

            // SAFETY: signals is a SignalSetSize-byte allocation, freed below; posix_spawnattr_* copy the set.
            var set = new Span<byte>((void*)signals, SignalSetSize);
            set.Clear();
            Check(Libc.PosixSpawnattrSetsigmask(attributes, signals), "setsigmask");
            set.Fill(0xff);
            Check(Libc.PosixSpawnattrSetsigdefault(attributes, signals), "setsigdefault");
            Check(Libc.PosixSpawnattrSetflags(attributes, (short)(PosixSpawnSetSigmask | PosixSpawnSetSigdef | (newSession ? PosixSpawnSetsid : 0))), "setflags");

            int pid;
            // SAFETY: argv and envp are pinned NULL-terminated arrays of UTF-8 strings that outlive the call.
            fixed (nint* argvPointer = argv)
            fixed (nint* envpPointer = envp)
            {
                int error = Libc.PosixSpawn(&pid, (byte*)program, actions, attributes, (byte**)argvPointer, (byte**)envpPointer);
                if (error != 0)
                {
                    throw new IOException($"cannot start {path}: posix_spawn failed with errno {error}");
                }
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
            Marshal.ZeroFreeCoTaskMemUTF8(program);
            FreeUtf8Array(argv);
            FreeUtf8Array(envp);
        }
    }

    /// <summary>The strings as UTF-8 copies (freed by <see cref="FreeUtf8Array"/>), then a 0: an <c>argv</c> or <c>envp</c>.</summary>
    private static nint[] ToUtf8Array(IReadOnlyList<string> texts)
    {
        var array = new nint[texts.Count + 1];
        for (int i = 0; i < texts.Count; i++)
        {
            array[i] = Marshal.StringToCoTaskMemUTF8(texts[i]);
        }

        return array;
    }

    private static void FreeUtf8Array(nint[] array)
    {
        foreach (nint text in array)
        {
            if (text != 0)
            {
                Marshal.ZeroFreeCoTaskMemUTF8(text);
            }
        }
    }

    private static void Check(int result, string what)
    {
        if (result != 0)
        {
            throw new IOException($"cannot prepare the spawn: {what} failed ({result})");
        }
    }
}
