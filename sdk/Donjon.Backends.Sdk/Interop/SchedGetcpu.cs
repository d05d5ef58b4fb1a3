using System.Runtime.InteropServices;

namespace Donjon.Backends.Sdk.Interop;

internal static partial class Libc
{
    /// <summary>sched_getcpu(3): the CPU the calling thread runs on (glibc reads it through the vDSO: no system call).</summary>
    [LibraryImport("libc", EntryPoint = "sched_getcpu")]
    internal static partial int SchedGetcpu();
}
