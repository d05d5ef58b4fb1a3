namespace Donjon.Syscalls.Files;

/// <summary>
/// The built-in devices every keep has under <c>/dev</c>, whatever the policy: <c>null</c>, <c>zero</c>, <c>full</c>,
/// <c>random</c> and <c>urandom</c> are the host's own devices (opened by their fixed host paths, never by a keep
/// string); <c>stdin</c>, <c>stdout</c> and <c>stderr</c> are the keep's descriptors 0, 1 and 2, shared as
/// <c>dup</c> shares them.
/// </summary>
internal static class Devices
{
    /// <summary>The names under <c>/dev</c>.</summary>
    public static readonly string[] Names = ["null", "zero", "full", "random", "urandom", "stdin", "stdout", "stderr"];

    /// <summary>The keep descriptor a stdio device stands for, or -1 for a host device.</summary>
    /// <param name="name">A device name.</param>
    /// <returns>0, 1, 2 or -1.</returns>
    public static int StdioDescriptor(string name) => name switch
    {
        "stdin" => 0,
        "stdout" => 1,
        "stderr" => 2,
        _ => -1,
    };

    /// <summary>The host path of a host device, built by the host.</summary>
    /// <param name="name">A device name other than the stdio ones.</param>
    /// <returns>Its NUL-terminated host path.</returns>
    public static byte[] HostPath(string name) => KeepPaths.ToHost("/dev/" + name);
}
