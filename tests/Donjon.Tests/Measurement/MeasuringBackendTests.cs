using Donjon.Abstractions.Backends;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Keeps;
using Donjon.Abstractions.Measurement;
using Donjon.Backends.Sdk.Measurement;
using Donjon.Backends.Sev;
using Donjon.Backends.Sgx;
using Donjon.Host.Measurement;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Measurement;

/// <summary>
/// The <c>sgx</c> and <c>sev</c> plugins as <see cref="IMeasuringBackend"/>s (their shim, their answers), and the
/// host's default for a backend that does not measure.
/// </summary>
public sealed class MeasuringBackendTests : IDisposable
{
    private readonly TempDirectory _pluginFolder = new();

    public void Dispose() => _pluginFolder.Dispose();

    [Theory]
    [InlineData("sgx")]
    [InlineData("sev")]
    public void A_hardware_backend_measures_with_the_shim_beside_it_without_any_hardware(string name)
    {
        string shimPath = Path.Combine(_pluginFolder.Path, "donjon-shim");
        File.Copy(WorkloadBuilder.Build(Workload.AssemblyStaticPieHi), shimPath);
        IMeasuringBackend backend = Create(name, _pluginFolder.Path);
        KeepImage image = MeasurementFixtures.Image(MeasurementFixtures.HelloBytes());

        LaunchMeasurement measurement = backend.Measure(image);

        ShimImage shim = ShimImage.Parse(shimPath, File.ReadAllBytes(shimPath));
        LaunchMeasurement expected = MeasurementFixtures.Measure(name, image, shim);
        MeasurementFixtures.Hex(measurement).Should().Be(MeasurementFixtures.Hex(expected), "the plugin compiles the same measurement source as the host");
        measurement.Algorithm.Should().Be(name == "sgx" ? "sgx-mrenclave" : "sev-snp-launch-digest");
        measurement.Regions.Should().Equal(expected.Regions);
        measurement.Notes.Should().Contain(note => note.Contains(shimPath, StringComparison.Ordinal) && note.Contains(shim.Sha256, StringComparison.Ordinal)
            && !note.Contains("standing in", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("sgx")]
    [InlineData("sev")]
    public void Without_a_shim_the_measurement_says_it_needs_one(string name)
    {
        IMeasuringBackend backend = Create(name, _pluginFolder.Path);
        KeepImage image = MeasurementFixtures.Image(MeasurementFixtures.HelloBytes());

        FluentActions.Invoking(() => backend.Measure(image)).Should().Throw<InvalidOperationException>()
            .WithMessage($"*'{name}' measurement covers the keep's shim*donjon-shim*'dotnet build'*");
    }

    [Theory]
    [InlineData("sgx")]
    [InlineData("sev")]
    public void In_the_repository_a_built_shim_stands_in(string name)
    {
        string pluginFolder = Repository.PathOf($"plugins/backends/{name}/bin");
        string processShim = Repository.PathOf("plugins/backends/process/bin/donjon-shim");
        string vmShim = Repository.PathOf("plugins/backends/vm/bin/donjon-vm-shim");
        File.Exists(processShim).Should().BeTrue("'dotnet build' builds the process keep's shim");
        string expected = name == "sev" && File.Exists(vmShim) ? vmShim : processShim;
        IMeasuringBackend backend = Create(name, pluginFolder);

        LaunchMeasurement measurement = backend.Measure(MeasurementFixtures.Image(MeasurementFixtures.HelloBytes()));

        measurement.Notes.Should().Contain(note => note.Contains(Path.GetFullPath(expected), StringComparison.Ordinal) && note.Contains("standing in", StringComparison.Ordinal));
    }

    [Fact]
    public void Both_hardware_backends_measure_and_stay_plugins_with_one_public_type()
    {
        new SgxBackend().Should().BeAssignableTo<IMeasuringBackend>();
        new SevBackend().Should().BeAssignableTo<IMeasuringBackend>();
        typeof(SgxBackend).GetConstructor([typeof(Abstractions.Plugins.IPluginContext)]).Should().NotBeNull();
        typeof(SevBackend).GetConstructor([typeof(Abstractions.Plugins.IPluginContext)]).Should().NotBeNull();
    }

    [Fact]
    public void A_backend_that_does_not_measure_gets_the_documented_default()
    {
        var confidential = new StubBackend("secret", IsConfidential: true);
        var plain = new StubBackend("plain", IsConfidential: false);
        KeepImage image = MeasurementFixtures.Image(MeasurementFixtures.HelloBytes());

        BackendMeasurement.HasMeasurement(confidential).Should().BeFalse();
        FluentActions.Invoking(() => BackendMeasurement.Measure(confidential, image)).Should().Throw<NotSupportedException>()
            .WithMessage("backend 'secret' does not compute launch measurements");

        BackendMeasurement.HasMeasurement(plain).Should().BeTrue();
        LaunchMeasurement digest = BackendMeasurement.Measure(plain, image);
        digest.Algorithm.Should().Be("donjon-keep-image");
        MeasurementFixtures.Hex(digest).Should().Be(MeasurementFixtures.Hex(KeepImageDigest.Measure(image)));
    }

    [Fact]
    public void Without_backend_the_first_that_measures_in_the_admins_order_is_chosen()
    {
        var confidential = new StubBackend("secret", IsConfidential: true);
        var plain = new StubBackend("plain", IsConfidential: false);
        var sev = new SevBackend();

        BackendMeasurement.SelectDefault([confidential, plain, sev]).Should().BeSameAs(sev, "a backend that implements IMeasuringBackend comes first");
        BackendMeasurement.SelectDefault([confidential, plain]).Should().BeSameAs(plain);
        BackendMeasurement.SelectDefault([confidential]).Should().BeNull();
    }

    private static IMeasuringBackend Create(string name, string pluginFolder) => name switch
    {
        "sgx" => new SgxBackend(new TestPluginContext(pluginFolder)),
        "sev" => new SevBackend(new TestPluginContext(pluginFolder)),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown backend"),
    };

    private sealed record StubBackend(string Name, bool IsConfidential) : IBackend
    {
        public BackendTraits Traits => new(KeepShape.Process, IsConfidential, "a stub");

        public Probe ProbePlatform() => Probe.Pass("stub", "stub");

        public Probe ProbeConfiguration() => Probe.Pass("stub", "stub");

        public Task<IKeep> LaunchAsync(KeepImage image, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
