using Donjon.Host.Configuration;
using Donjon.Host.Plugins;
using Donjon.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Donjon.Tests.Configuration;

public sealed class PluginCatalogTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Sgx => Repository.PathOf("plugins/backends/sgx/bin/Donjon.Backends.Sgx.dll");

    private DonjonConfiguration Config(string[] pluginPaths, string[]? order = null)
    {
        string plugins = string.Join(", ", pluginPaths.Select(p => $"{{ \"path\": \"{p}\" }}"));
        string backendOrder = string.Join(", ", (order ?? []).Select(n => $"\"{n}\""));
        string file = _dir.Write("plugins.json", $"{{ \"plugins\": [ {plugins} ], \"backendOrder\": [ {backendOrder} ] }}");
        return ConfigurationLoader.Load(file);
    }

    private ConfigurationError LoadFails(string[] pluginPaths, string[]? order = null)
    {
        DonjonConfiguration config = Config(pluginPaths, order);
        return FluentActions.Invoking(() => PluginCatalog.Load(config, NullLoggerFactory.Instance))
            .Should().Throw<ConfigurationException>().Which.Errors.Single();
    }

    [Fact]
    public void Real_plugins_load_with_their_backends_in_the_admins_order()
    {
        using PluginCatalog catalog = PluginCatalog.Load(ConfigurationLoader.Load(Repository.PathOf("plugins.json")), NullLoggerFactory.Instance);
        catalog.OrderedBackends.Select(b => b.Name).Should().StartWith(["sev", "sgx", "process"]);
        catalog.Plugins.Should().OnlyContain(p => p.ContractVersion == PluginCatalog.HostContractVersion);
        catalog.SyscallSets.Select(s => s.Name).Should().Contain("core");
    }

    [Fact]
    public void Assembly_without_a_plugin_type_is_rejected()
    {
        var error = LoadFails([Repository.FixturePlugin("NoPluginType")]);
        error.Location.Should().Be("$.plugins[0].path");
        error.Problem.Should().Contain("contains no plugin").And.Contain("no public class implements IBackend or ISyscallHandlerSet");
    }

    [Fact]
    public void Assembly_that_does_not_reference_the_contract_is_rejected()
    {
        var error = LoadFails([Repository.FixturePlugin("NotAPlugin")]);
        error.Problem.Should().Contain("contains no plugin").And.Contain("does not reference Donjon.Abstractions");
    }

    [Fact]
    public void File_that_is_not_an_assembly_is_rejected()
    {
        string fake = _dir.Write("Fake.dll", "this is text, not a PE file");
        var error = LoadFails([fake]);
        error.Problem.Should().Contain("is not a .NET assembly");
    }

    [Fact]
    public void Plugin_built_against_an_incompatible_contract_is_rejected_before_it_loads()
    {
        var error = LoadFails([Repository.FixturePlugin("IncompatibleContract")]);
        error.Problem.Should().Contain("built against contract version 2.0").And.Contain($"this host speaks {PluginCatalog.HostContractVersion.ToString(2)}");
        error.Remedy.Should().Contain("Rebuild the plugin");
    }

    [Fact]
    public void Constructor_that_throws_is_reported_with_its_message()
    {
        var error = LoadFails([Repository.FixturePlugin("ThrowingConstructor")]);
        error.Problem.Should().Be("the constructor of plugin type Fixtures.ThrowingConstructor.ThrowingBackend threw InvalidOperationException: fixture: the device is missing");
    }

    [Fact]
    public void Two_backends_with_one_name_are_rejected_naming_both_plugins()
    {
        var error = LoadFails([Sgx, Repository.FixturePlugin("DuplicateBackend")]);
        error.Problem.Should().Contain("two backends are named 'sgx'").And.Contain("Donjon.Backends.Sgx.dll").And.Contain("DuplicateBackend.dll");
    }

    [Fact]
    public void Unknown_backend_in_the_order_is_rejected_listing_the_loaded_ones()
    {
        var error = LoadFails([Sgx], ["sgx", "kvm"]);
        error.Location.Should().Be("$.backendOrder[1]");
        error.Problem.Should().Be("unknown backend 'kvm' (loaded: sgx)");
    }

    [Fact]
    public void Plugin_carries_its_own_version_of_a_dependency_the_host_also_uses()
    {
        using PluginCatalog catalog = PluginCatalog.Load(Config([Repository.FixturePlugin("PrivateDependency")]), NullLoggerFactory.Instance);

        // Polly.Core's assembly version is 8.0.0.0 in every 8.x package, so each side reports the file version it loaded.
        string hostPolly = System.Diagnostics.FileVersionInfo.GetVersionInfo(typeof(Polly.ResiliencePipeline).Assembly.Location).FileVersion!;
        string pluginPolly = catalog.OrderedBackends.Single().Traits.Description;
        hostPolly.Should().StartWith("8.9.1");
        pluginPolly.Should().StartWith("polly 8.4.2");
    }

    private static string Core => Repository.PathOf("plugins/syscalls/core/bin/Donjon.Syscalls.Core.dll");

    [Fact]
    public void A_set_that_declares_a_syscall_the_shims_serve_is_rejected_naming_plugin_and_syscall()
    {
        var error = LoadFails([Core, Repository.FixturePlugin("ShadowsBrk")]);
        error.Location.Should().Be("$.plugins[1].path");
        error.Problem.Should().Be($"plugin {Repository.FixturePlugin("ShadowsBrk")}: handler set 'shadows-brk': syscall 12 (brk): " +
            "the shims serve brk (syscall 12) themselves inside the keep, so a handler set may not declare it");
        error.Remedy.Should().Contain("Remove the declaration of brk");
    }

    [Fact]
    public void A_malformed_signature_is_rejected_when_the_plugin_loads()
    {
        var error = LoadFails([Core, Repository.FixturePlugin("MalformedSignature")]);
        error.Location.Should().Be("$.plugins[1].path");
        error.Problem.Should().Be($"plugin {Repository.FixturePlugin("MalformedSignature")}: handler set 'vague': syscall 17 (pread64): " +
            "argument 1 (OutputBuffer): a buffer needs a length argument or a fixed size, and has neither");
    }

    [Fact]
    public void The_core_set_passes_the_load_time_checks()
    {
        using PluginCatalog catalog = PluginCatalog.Load(Config([Core]), NullLoggerFactory.Instance);
        catalog.SyscallSets.Single().Name.Should().Be("core");
    }
}
