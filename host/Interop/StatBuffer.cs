using System.Runtime.InteropServices;

namespace Donjon.Host.Interop;

/// <summary>glibc's <c>struct stat</c> on x86-64 (144 bytes); only the fields Donjon reads are named.</summary>
[StructLayout(LayoutKind.Explicit, Size = 144)]
internal struct StatBuffer
{
    /// <summary><c>st_mode</c>: the file type (<c>S_IFMT</c> bits) and the permissions.</summary>
    [FieldOffset(24)]
    public uint Mode;

    /// <summary><c>st_uid</c>: the owner.</summary>
    [FieldOffset(28)]
    public uint Owner;

    /// <summary><c>st_size</c>: the size in bytes of a regular file.</summary>
    [FieldOffset(48)]
    public long Size;
}
