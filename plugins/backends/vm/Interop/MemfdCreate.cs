using System.Runtime.InteropServices;

namespace Donjon.Backends.Vm.Interop;

internal static partial class Libc
{
    /// <summary>memfd_create(2): the guest RAM file, shared with QEMU by descriptor.</summary>
    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MemfdCreate(string name, uint flags);
}
