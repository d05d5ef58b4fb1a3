using System.Runtime.InteropServices;

namespace Donjon.Host.Interop;

internal static partial class Ids
{
    /// <summary>getuid(2): the user id the workload sees (AT_UID and AT_EUID, equal so libc stays out of secure mode).</summary>
    [LibraryImport("libc", EntryPoint = "getuid")]
    internal static partial uint GetUserId();
}
