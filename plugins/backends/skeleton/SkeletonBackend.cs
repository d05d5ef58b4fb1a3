using Donjon.Abstractions.Backends;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Keeps;
using Donjon.Abstractions.Plugins;
using Donjon.Backends.Sdk.Probes;
using Donjon.Backends.Sdk.Protocol;
using Donjon.Backends.Sdk.Shims;

namespace Donjon.Backends.Skeleton;

/// <summary>
/// The <c>skeleton</c> backend: a complete backend that does nothing. It loads,
/// probes the machine, writes the keep image blob a shim would carry out, and then refuses to launch with a remedy.
/// </summary>
/// <remarks>
/// <c>dotnet new donjon-backend</c> makes a copy of it to start a new keep architecture from
/// (<c>docs/writing-a-backend.md</c>). Each member says what a real backend does in its place.
/// </remarks>
public sealed class SkeletonBackend : IBackend
{
    /// <summary>The file name a real backend's shim would have beside the plugin.</summary>
    public const string ShimFileName = ShimLocator.ShimFileName;

    /// <summary>What to do instead of launching a skeleton keep.</summary>
    public const string Remedy =
        "The skeleton backend never launches a keep: implement LaunchAsync (docs/writing-a-backend.md), or choose backend 'process' (donjon run --backend process ...).";

    private static readonly BackendTraits SkeletonTraits = new(
        KeepShape.Process,
        IsConfidential: false,
        "skeleton: a do-nothing backend that probes and refuses to launch (the template of `dotnet new donjon-backend`)");

    private readonly string _pluginDirectory;

    /// <summary>Creates the backend; its shim would be looked for from the folder of its own assembly.</summary>
    public SkeletonBackend()
        : this(ShimLocator.PluginDirectoryOf(typeof(SkeletonBackend)))
    {
    }

    /// <summary>Creates the backend as the host loads it. The constructor never fails, whatever the machine.</summary>
    /// <param name="context">The plugin's folder and logging.</param>
    public SkeletonBackend(IPluginContext context)
        : this(context?.PluginDirectory ?? throw new ArgumentNullException(nameof(context)))
    {
    }

    private SkeletonBackend(string pluginDirectory) => _pluginDirectory = pluginDirectory;

    /// <inheritdoc />
    public string Name => "skeleton";

    /// <inheritdoc />
    public BackendTraits Traits => SkeletonTraits;

    /// <inheritdoc />
    /// <remarks>
    /// A real backend checks here what the machine must have (CPU features, device nodes, a hypervisor); the skeleton
    /// checks that CPUID can be read, and reports the CPU vendor. It never throws.
    /// </remarks>
    public Probe ProbePlatform()
    {
        Probe cpuid = Cpuid.IsAvailable
            ? Probe.Pass("CPUID", $"CPUID is readable; vendor {Cpuid.Vendor}")
            : Probe.Fail("CPUID", "this process cannot execute CPUID (not an x86-64 machine)", "Run Donjon on an x86-64 machine.");
        return Probe.Group("skeleton platform", [cpuid, Probe.Info("plugin folder", _pluginDirectory)]);
    }

    /// <inheritdoc />
    /// <remarks>
    /// A real backend checks here its own set-up: its shim is present and speaks the host's protocol
    /// (<see cref="ShimNote.Check"/>), its tools are installed. The skeleton reports whether a shim is present, and
    /// always fails its <c>launch</c> check: it has nothing to launch.
    /// </remarks>
    public Probe ProbeConfiguration()
    {
        string shimPath = Path.Combine(_pluginDirectory, ShimFileName);
        Probe shim = File.Exists(shimPath)
            ? ShimNote.Check(shimPath, ProtocolLayout.VersionMajor, ProtocolLayout.VersionMinor)
            : Probe.Info("shim", $"no {ShimFileName} beside the plugin ({shimPath}); a real backend ships one");
        return Probe.Group(
            "skeleton configuration",
            [shim, Probe.Fail("launch", "the skeleton backend does not launch keeps", Remedy)],
            Remedy);
    }

    /// <inheritdoc />
    /// <remarks>
    /// A real backend writes the keep image blob (<see cref="ImageBlobWriter"/>) where its shim finds it, creates the
    /// shared block (<see cref="SharedBlock"/>), starts its shim with the descriptors it needs and returns an
    /// <see cref="IKeep"/> whose ports ring the shim's doorbells. The skeleton checks the image as a shim would receive
    /// it, then ends in <see cref="BackendUnavailableException"/> whose message lists every failed check with its
    /// remedy.
    /// </remarks>
    public Task<IKeep> LaunchAsync(KeepImage image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<IKeep>(cancellationToken);
        }

        try
        {
            _ = ImageBlobWriter.Write(image, image.Layout.HeapMaxSize);
        }
        catch (InvalidOperationException problem)
        {
            return Task.FromException<IKeep>(new BackendUnavailableException($"backend 'skeleton': the keep image cannot be carried out: {problem.Message}", problem));
        }

        Probe tree = Probe.Group("skeleton", [ProbePlatform(), ProbeConfiguration()], Remedy);
        return Task.FromException<IKeep>(new BackendUnavailableException(ProbeReport.DescribeUnavailable(Name, tree), tree));
    }
}
