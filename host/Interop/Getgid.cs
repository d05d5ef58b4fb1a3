using System.Runtime.InteropServices;

namespace Donjon.Host.Interop;

internal static partial class Ids
{
    /// <summary>getgid(2): the group id the workload sees (AT_GID and AT_EGID).</summary>
    [LibraryImport("libc", EntryPoint = "getgid")]
    internal static partial uint GetGroupId();
}
