using Donjon.Abstractions.Keeps;
using Donjon.Backends.Sdk.Protocol;

namespace Donjon.Backends.Process;

/// <summary>
/// What the process shim's own exit statuses mean (docs/protocol.md §5): it exits 120–124 when it fails before the
/// workload runs, or 122 on a protocol violation by the host. The backend knows its shim; the host only shows the
/// <see cref="KeepExit.Reason"/> given here.
/// </summary>
internal static class ShimExitStatus
{
    /// <summary>The exit of a shim that exited with <paramref name="status"/>, with its meaning when it is one of the shim's own.</summary>
    public static KeepExit Exited(int status) => Meaning(status) is string meaning
        ? new KeepExit(status & 0xff, null, $"the keep's shim failed (status {status}): {meaning}; see its message above")
        : KeepExit.Exited(status);

    /// <summary>The meaning of one of the shim's own statuses, or null for any other.</summary>
    public static string? Meaning(int status) => status switch
    {
        ProtocolLayout.ShimExitBadArguments => "it was started with bad arguments or descriptors",
        ProtocolLayout.ShimExitBadImage => "it rejected the keep image",
        ProtocolLayout.ShimExitBadBlock => "the shared block or a reply broke the protocol",
        ProtocolLayout.ShimExitMapFailed => "it could not map the keep image",
        ProtocolLayout.ShimExitSeccompFailed => "it could not install its seccomp filter",
        _ => null,
    };
}
