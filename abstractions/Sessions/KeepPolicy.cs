namespace Donjon.Abstractions.Sessions;

/// <summary>What the admin grants a keep. Everything not granted is denied.</summary>
/// <param name="Files">Host files and directories the keep may open.</param>
/// <param name="Network">Network endpoints the keep may connect to or listen on.</param>
/// <param name="Environment">Which environment variables reach the workload.</param>
/// <param name="Limits">Resource limits.</param>
public sealed record KeepPolicy(IReadOnlyList<FileGrant> Files, IReadOnlyList<NetworkGrant> Network, EnvironmentPolicy Environment, KeepLimits Limits)
{
    /// <summary>The policy that grants nothing, with default limits.</summary>
    public static KeepPolicy DenyAll { get; } = new([], [], new EnvironmentPolicy([], new Dictionary<string, string>()), KeepLimits.Default);

    /// <summary>
    /// Whether the keep gets a private, read-write scratch <c>/tmp</c>, made empty for each keep and removed when it ends
    /// (<c>"tmp": true</c>). Default <see langword="false"/>: no <c>/tmp</c> unless a grant mounts one.
    /// </summary>
    public bool ScratchTmp { get; init; }

    /// <summary>The keep's initial working directory, an absolute keep path (<c>"workingDirectory"</c>). Default <c>/</c>.</summary>
    public string WorkingDirectory { get; init; } = "/";
}

/// <summary>
/// A grant of access to a host path and everything under it: a <em>mount</em> of the host path <see cref="Path"/> at
/// the keep path <see cref="KeepPath"/>. Paths beneath it are resolved by the host kernel beneath the mount's directory
/// (<c>openat2</c> with <c>RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS</c>), so nothing outside it can be reached.
/// </summary>
/// <param name="Path">An absolute host path (<c>"host"</c>, or <c>"path"</c> in the short form).</param>
/// <param name="Access">What the keep may do there.</param>
public sealed record FileGrant(string Path, FileGrantAccess Access)
{
    /// <summary>Where the keep sees it: an absolute, normalised keep path. <see langword="null"/> (the default) means <see cref="Path"/>.</summary>
    public string? KeepPath { get; init; }

    /// <summary>
    /// For a grant of one regular file: the SHA-256 its contents must have, 64 lowercase hexadecimal digits, checked
    /// when the keep opens it (a mismatch is <c>EACCES</c>). <see langword="null"/> (the default) pins nothing.
    /// </summary>
    public string? Sha256 { get; init; }

    /// <summary>
    /// Whether resolution beneath the mount may not cross into another host file system (<c>RESOLVE_NO_XDEV</c>).
    /// Default <see langword="false"/>.
    /// </summary>
    public bool SameFileSystem { get; init; }

    /// <summary>Where the keep sees the grant: <see cref="KeepPath"/>, or <see cref="Path"/> when none is given.</summary>
    public string EffectiveKeepPath => KeepPath ?? Path;
}

/// <summary>Access granted on a path.</summary>
[Flags]
public enum FileGrantAccess
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>Open for reading, stat, list.</summary>
    Read = 1,

    /// <summary>Open for writing, create, remove.</summary>
    Write = 2,
}

/// <summary>A grant of network endpoints.</summary>
/// <param name="Direction">Whether the keep may connect to it or listen on it.</param>
/// <param name="Host">
/// A host name, an IP address, or a CIDR block such as <c>10.0.0.0/8</c>; <c>*</c> for any. For a listen grant, the
/// address the keep may bind: <c>0.0.0.0</c> (or <c>::</c>) also lets it bind any one address of that family.
/// </param>
/// <param name="Port">A port number, the first of a range when <see cref="LastPort"/> is set; 0 for any.</param>
public sealed record NetworkGrant(NetworkDirection Direction, string Host, int Port)
{
    /// <summary>The last port of the range that starts at <see cref="Port"/>; <see langword="null"/> (the default) for <see cref="Port"/> alone.</summary>
    public int? LastPort { get; init; }

    /// <summary>The transport the grant is for. Default <see cref="NetworkProtocol.Tcp"/>.</summary>
    public NetworkProtocol Protocol { get; init; }
}

/// <summary>The transport of a network grant.</summary>
public enum NetworkProtocol
{
    /// <summary>TCP: stream sockets.</summary>
    Tcp = 0,

    /// <summary>UDP: datagram sockets.</summary>
    Udp = 1,
}

/// <summary>The direction of a network grant.</summary>
public enum NetworkDirection
{
    /// <summary>Outgoing connections.</summary>
    Connect = 0,

    /// <summary>Listening sockets.</summary>
    Listen = 1,
}

/// <summary>Which environment variables reach the workload.</summary>
/// <param name="PassThrough">Names of host variables passed through when set.</param>
/// <param name="Set">Variables set to fixed values.</param>
public sealed record EnvironmentPolicy(IReadOnlyList<string> PassThrough, IReadOnlyDictionary<string, string> Set);

/// <summary>Resource limits of a keep.</summary>
/// <param name="MemorySize">The most memory the workload may map, in bytes.</param>
/// <param name="StackSize">The size of the workload's initial stack, in bytes.</param>
/// <param name="MaxOpenFiles">The size of the descriptor table.</param>
public sealed record KeepLimits(ulong MemorySize, ulong StackSize, int MaxOpenFiles)
{
    /// <summary>The most threads the workload may have at once, 1 to 1024 (default 128): the keep's slot count, measured with the image.</summary>
    public int Threads { get; init; } = 128;

    /// <summary>
    /// The vCPUs the keep's threads may run on at once, 1 to 8 (default 1), measured with the image. The default is a
    /// constant, not the host's cores, so that one binary under one configuration measures the same on every host. The
    /// VM keep runs one vCPU whatever the value (docs/vm.md, "Why one vCPU"); the process keep's threads are host
    /// threads, which the host's scheduler places.
    /// </summary>
    public int Cpus { get; init; } = 1;

    /// <summary>The limits used when the admin sets none: 1 GiB of memory, an 8 MiB stack, 1024 descriptors, 128 threads, one vCPU.</summary>
    public static KeepLimits Default { get; } = new(1UL << 30, 8UL << 20, 1024);
}
