using System.Reflection.PortableExecutable;
using System.Text.Json.Nodes;
using Donjon.Tests.Support;

namespace Donjon.Tests.Cli;

/// <summary>
/// The normal build precompiles the host and every plugin (Directory.Build.targets, DonjonReadyToRun): the built
/// donjon.dll, the assemblies beside it and each plugin's assemblies are ReadyToRun images, so that a run's start JITs
/// little. (A build with -p:DonjonReadyToRun=false makes plain IL, and fails this test.)
/// </summary>
public sealed class ReadyToRunBuildTests
{
    [Fact]
    public void The_built_host_and_every_plugin_of_plugins_json_are_ReadyToRun_images()
    {
        string configuration = Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/')))!;
        string host = Repository.PathOf($"host/bin/{configuration}/net10.0");
        var assemblies = new List<string>
        {
            Path.Combine(host, "donjon.dll"),
            Path.Combine(host, "Donjon.Abstractions.dll"),
            Path.Combine(host, "System.CommandLine.dll"),
        };
        JsonNode config = JsonNode.Parse(File.ReadAllText(Repository.PathOf("plugins.json")))!;
        foreach (JsonNode? plugin in config["plugins"]!.AsArray())
        {
            assemblies.Add(Repository.PathOf(plugin!["path"]!.GetValue<string>()));
        }

        assemblies.Add(Repository.PathOf("plugins/backends/vm/bin/Donjon.Backends.Sdk.dll"));   // a plugin's private dependency too

        foreach (string assembly in assemblies)
        {
            using var pe = new PEReader(File.OpenRead(assembly));
            pe.PEHeaders.CorHeader.Should().NotBeNull(assembly);
            pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size.Should().BePositive($"{assembly} is a ReadyToRun image (it has a managed native header)");
        }

        // The contract is the host's alone: no plugin folder carries its own copy to precompile.
        Directory.GetFiles(Repository.PathOf("plugins"), "Donjon.Abstractions.dll", SearchOption.AllDirectories)
            .Where(path => path.Contains("/bin/", StringComparison.Ordinal)).Should().BeEmpty();
    }
}
