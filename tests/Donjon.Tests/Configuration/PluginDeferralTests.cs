using Donjon.Host.Configuration;
using Donjon.Host.Plugins;
using Donjon.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Donjon.Tests.Configuration;

/// <summary>
/// A run loads the handler-set plugins at once and a backend plugin only when it reaches it (PluginCatalog.LoadForRun),
/// with the real plugins: which assemblies are loaded is read back from the catalog.
/// </summary>
public sealed class PluginDeferralTests : IDisposable
{
    private static readonly string[] AllPlugins =
    [
        Repository.PathOf("plugins/backends/process/bin/Donjon.Backends.Process.dll"),
        Repository.PathOf("plugins/backends/vm/bin/Donjon.Backends.Vm.dll"),
        Repository.PathOf("plugins/backends/sgx/bin/Donjon.Backends.Sgx.dll"),
        Repository.PathOf("plugins/backends/sev/bin/Donjon.Backends.Sev.dll"),
        Repository.PathOf("plugins/syscalls/core/bin/Donjon.Syscalls.Core.dll"),
        Repository.PathOf("plugins/syscalls/files/bin/Donjon.Syscalls.Files.dll"),
        Repository.PathOf("plugins/syscalls/net/bin/Donjon.Syscalls.Net.dll"),
    ];

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private DonjonConfiguration Config(string[] order)
    {
        string plugins = string.Join(", ", AllPlugins.Select(p => $"{{ \"path\": \"{p}\" }}"));
        string backendOrder = string.Join(", ", order.Select(n => $"\"{n}\""));
        return ConfigurationLoader.Load(_dir.Write("plugins.json", $"{{ \"plugins\": [ {plugins} ], \"backendOrder\": [ {backendOrder} ] }}"));
    }

    private static string[] LoadedFiles(PluginCatalog catalog) => catalog.Plugins.Select(p => Path.GetFileName(p.AssemblyPath)).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void A_run_loads_the_handler_sets_at_once_and_no_backend_before_it_is_named()
    {
        using PluginCatalog catalog = PluginCatalog.LoadForRun(Config(["sev", "sgx", "process", "vm"]), NullLoggerFactory.Instance);

        LoadedFiles(catalog).Should().Equal("Donjon.Syscalls.Core.dll", "Donjon.Syscalls.Files.dll", "Donjon.Syscalls.Net.dll");
        catalog.SyscallSets.Select(s => s.Name).Should().BeEquivalentTo(["core", "files", "net"]);
        catalog.OrderedBackends.Should().BeEmpty();
        catalog.HasDeferredPlugins.Should().BeTrue();
    }

    [Fact]
    public void Naming_a_backend_loads_the_backend_plugins_in_file_order_up_to_the_one_that_has_it()
    {
        using PluginCatalog catalog = PluginCatalog.LoadForRun(Config(["sev", "sgx", "process", "vm"]), NullLoggerFactory.Instance);

        catalog.TryLoadBackend("process").Should().BeTrue();
        catalog.OrderedBackends.Select(b => b.Name).Should().Equal("process");

        catalog.TryLoadBackend("vm").Should().BeTrue();
        catalog.OrderedBackends.Select(b => b.Name).Should().Equal("process", "vm");
        LoadedFiles(catalog).Should().NotContain(["Donjon.Backends.Sgx.dll", "Donjon.Backends.Sev.dll"]);
        catalog.HasDeferredPlugins.Should().BeTrue();
    }

    [Fact]
    public void An_unknown_backend_name_loads_every_plugin_and_is_not_found()
    {
        using PluginCatalog catalog = PluginCatalog.LoadForRun(Config(["process", "vm"]), NullLoggerFactory.Instance);

        catalog.TryLoadBackend("nosuch").Should().BeFalse();
        catalog.HasDeferredPlugins.Should().BeFalse();
        catalog.OrderedBackends.Select(b => b.Name).Should().Equal("process", "vm", "sgx", "sev");
    }

    [Fact]
    public void The_backends_to_try_follow_the_admins_order_and_stopping_at_the_first_loads_no_more()
    {
        using PluginCatalog catalog = PluginCatalog.LoadForRun(Config(["vm", "process"]), NullLoggerFactory.Instance);

        catalog.BackendsToTry().First().Name.Should().Be("vm");
        LoadedFiles(catalog).Should().Contain("Donjon.Backends.Vm.dll").And.NotContain(["Donjon.Backends.Sgx.dll", "Donjon.Backends.Sev.dll"]);

        catalog.BackendsToTry().Select(b => b.Name).Should().Equal("vm", "process", "sgx", "sev");
        catalog.HasDeferredPlugins.Should().BeFalse();
    }

    [Fact]
    public void A_full_load_still_loads_every_plugin_and_checks_every_backendOrder_name()
    {
        using (PluginCatalog catalog = PluginCatalog.Load(Config(["process"]), NullLoggerFactory.Instance))
        {
            catalog.HasDeferredPlugins.Should().BeFalse();
            catalog.OrderedBackends.Select(b => b.Name).Should().Equal("process", "vm", "sgx", "sev");
        }

        FluentActions.Invoking(() => PluginCatalog.Load(Config(["nosuch"]), NullLoggerFactory.Instance))
            .Should().Throw<ConfigurationException>().Which.Errors.Single().Problem.Should().Contain("unknown backend 'nosuch'");
    }
}
