using System.Text.Json;
using System.Text.Json.Nodes;
using Donjon.Tests.Support;
using Donjon.Tests.Vm;

namespace Donjon.Tests.Kit;

/// <summary>
/// The third party's path, from packages only (docs/writing-a-backend.md, docs/writing-a-syscall-set.md): the kit is
/// packed into a local folder feed; a backend and a syscall set are generated from the templates into a folder
/// outside the repository and built against the packed packages only; they are added to a copy of plugins.json; the
/// conformance suite runs, through the package, against the generated backend (the parts of a backend that does not
/// launch) and against the in-tree process and vm backends; the generated set's harness tests pass; and a C workload
/// that calls the generated set's syscall prints its answer in both keeps.
/// </summary>
public sealed class OutOfTreeKitTests
{
    [Fact]
    public void A_backend_and_a_syscall_set_from_the_templates_build_from_the_packages_and_pass_conformance()
    {
        using var folder = new TempDirectory();
        string feed = Path.Combine(folder.Path, "feed");
        string work = Path.Combine(folder.Path, "work");
        string hive = Path.Combine(folder.Path, "template-hive");
        Directory.CreateDirectory(work);
        // A version of this run's own: the global package cache then never serves a stale copy of the kit.
        string version = $"1.0.0-ci.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";

        try
        {
            // 1. Pack the kit (what the tests' build made) into the local feed.
            string configuration = Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/')))!;
            Dotnet(["msbuild", Repository.PathOf("sdk/pack.proj"), "-t:Pack", "-nologo", "-v:q", $"-p:Configuration={configuration}",
                $"-p:PackageOutputPath={feed}/", $"-p:DonjonPackageVersion={version}"], Repository.Root);
            Directory.GetFiles(feed, "*.nupkg").Select(Path.GetFileName).Should().BeEquivalentTo(
                new[] { "Donjon.Abstractions", "Donjon.Backends.Sdk", "Donjon.Shims.Common", "Donjon.Conformance", "Donjon.Templates" }.Select(p => $"{p}.{version}.nupkg"));

            // 2. Generate a backend and a syscall set outside the repository, from the template package.
            Dotnet(["new", "install", Path.Combine(feed, $"Donjon.Templates.{version}.nupkg"), "--debug:custom-hive", hive], work);
            Dotnet(["new", "donjon-backend", "-n", "Contoso", "-o", Path.Combine(work, "contoso"), "--DonjonVersion", version, "--debug:custom-hive", hive], work);
            Dotnet(["new", "donjon-syscalls", "-n", "Hello", "-o", Path.Combine(work, "hello"), "--DonjonVersion", version, "--debug:custom-hive", hive], work);
            File.ReadAllText(Path.Combine(work, "contoso/src/ContosoBackend.cs")).Should().Contain("public string Name => \"contoso\";");

            // Only the feed is added: the NuGet source already configured serves xunit and the test SDK.
            File.WriteAllText(Path.Combine(work, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources><add key="donjon-kit" value="{feed}" /></packageSources>
                </configuration>
                """);
            Directory.EnumerateFiles(work, "*.csproj", SearchOption.AllDirectories)
                .Should().AllSatisfy(project => File.ReadAllText(project).Should().NotContain(Repository.Root, "a generated project references packages only"));

            // 3. Build both against the packed packages.
            Dotnet(["build", Path.Combine(work, "contoso/src"), "-nologo", "-v:q"], work);
            Dotnet(["build", Path.Combine(work, "hello/src"), "-nologo", "-v:q"], work);
            string backendDll = Path.Combine(work, "contoso/src/bin/Debug/net10.0/Donjon.Backends.Contoso.dll");
            string setDll = Path.Combine(work, "hello/src/bin/Debug/net10.0/Donjon.Syscalls.Hello.dll");
            File.Exists(backendDll).Should().BeTrue();
            File.Exists(Path.Combine(Path.GetDirectoryName(backendDll)!, "Donjon.Backends.Sdk.dll")).Should().BeTrue("the SDK is a private dependency beside the plugin");
            File.Exists(Path.Combine(Path.GetDirectoryName(backendDll)!, "Donjon.Abstractions.dll")).Should().BeFalse("the contract is the host's copy");

            // 4. A copy of plugins.json with both added.
            string config = Path.Combine(work, "plugins.json");
            var document = JsonNode.Parse(File.ReadAllText(Repository.PathOf("plugins.json")))!.AsObject();
            document.Remove("$schema");
            var plugins = document["plugins"]!.AsArray();
            foreach (JsonNode? plugin in plugins)
            {
                plugin!["path"] = Repository.PathOf(plugin["path"]!.GetValue<string>());
            }

            plugins.Add(new JsonObject { ["path"] = backendDll, ["description"] = "generated from donjon-backend" });
            plugins.Add(new JsonObject { ["path"] = setDll, ["description"] = "generated from donjon-syscalls" });
            File.WriteAllText(config, document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

            // 5. The conformance suite, through the package: the generated backend's own tests, plus the keep suite
            //    against the in-tree process and vm backends, from the same test project.
            File.WriteAllText(Path.Combine(work, "contoso/tests/InTreeBackendsConformanceTests.cs"), """
                using Donjon.Conformance;

                namespace Donjon.Backends.Contoso.Tests;

                public sealed class ProcessConformanceTests : KeepConformanceSuite
                {
                    protected override ConformanceTarget Target { get; } = ConformanceTarget.FromEnvironment("process");
                }

                public sealed class VmConformanceTests : KeepConformanceSuite
                {
                    protected override ConformanceTarget Target { get; } = ConformanceTarget.FromEnvironment("vm");
                }

                // The protocol-violation checks: the process plugin's folder, copied with its shim replaced by the
                // hostile stand-in shim the test names.
                public sealed class ProcessProtocolViolationTests : ProtocolViolationSuite, System.IDisposable
                {
                    private readonly string _dir = System.IO.Directory.CreateTempSubdirectory("contoso-hostile-").FullName;

                    public ProcessProtocolViolationTests()
                    {
                        var target = ConformanceTarget.FromEnvironment("process");
                        string config = ConfigurationWithShim(target.Configuration,
                            System.Environment.GetEnvironmentVariable("CONTOSO_PROCESS_PLUGIN")!, "donjon-shim",
                            System.Environment.GetEnvironmentVariable("CONTOSO_HOSTILE_SHIM")!, _dir);
                        Target = target with { Configuration = config };
                    }

                    protected override ConformanceTarget Target { get; }

                    public void Dispose() => System.IO.Directory.Delete(_dir, recursive: true);
                }
                """);
            VmPrerequisite.Require();
            var conformance = new Dictionary<string, string>
            {
                ["DONJON_CONFORMANCE_DONJON"] = DonjonProcess.HostAssembly,
                ["DONJON_CONFORMANCE_CONFIG"] = config,
                ["CONTOSO_PROCESS_PLUGIN"] = Repository.PathOf("plugins/backends/process/bin/Donjon.Backends.Process.dll"),
                ["CONTOSO_HOSTILE_SHIM"] = ProcessProtocolViolationTests.HostileShim,
            };
            string backendTests = Dotnet(["test", Path.Combine(work, "contoso/tests"), "-nologo"], work, conformance);
            backendTests.Should().MatchRegex(@"Passed!\s+-\s+Failed:\s+0, Passed:\s+46\b", "4 backend checks for contoso, 4 + 11 keep checks for each of process and vm, 12 protocol-violation checks for process");
            string setTests = Dotnet(["test", Path.Combine(work, "hello/tests"), "-nologo"], work);
            setTests.Should().MatchRegex(@"Passed!\s+-\s+Failed:\s+0, Passed:\s+3\b");

            // 6. A C workload that calls the generated set's syscall, in both keeps.
            string greet = Path.Combine(work, "greet");
            ChildProcess.Result gcc = ChildProcess.Run("gcc", ["-O2", "-static-pie", "-o", greet, Path.Combine(work, "hello/workload/greet.c")], ChildProcess.DotnetEnvironment());
            gcc.ExitCode.Should().Be(0, gcc.Stderr);
            foreach (string backend in new[] { "process", "vm" })
            {
                ChildProcess.Result run = ChildProcess.Run("dotnet", [DonjonProcess.HostAssembly, "run", "--backend", backend, "--config", config, greet], ChildProcess.DotnetEnvironment());
                run.ExitCode.Should().Be(0, $"{backend}: {run.Stderr}");
                run.StdoutText.Should().Be("hello from the Hello set\n", backend);
            }

            // And `donjon plugins --check` passes with both generated plugins loaded.
            ChildProcess.Result check = ChildProcess.Run("dotnet", [DonjonProcess.HostAssembly, "plugins", "--check", "--config", config], ChildProcess.DotnetEnvironment());
            check.ExitCode.Should().Be(0, check.StdoutText + check.Stderr);
            check.StdoutText.Should().Contain("backend 'contoso'").And.Contain("syscall set 'Hello'");
        }
        finally
        {
            // This run's kit packages in the global cache are of no use to any later run.
            string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages
                ? packages : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            foreach (string id in new[] { "donjon.abstractions", "donjon.backends.sdk", "donjon.shims.common", "donjon.conformance", "donjon.templates" })
            {
                string cached = Path.Combine(cache, id, version);
                if (Directory.Exists(cached))
                {
                    Directory.Delete(cached, recursive: true);
                }
            }
        }
    }

    private static string Dotnet(string[] arguments, string workingDirectory, IReadOnlyDictionary<string, string>? extra = null)
    {
        var environment = ChildProcess.DotnetEnvironment();
        environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        environment["DOTNET_NOLOGO"] = "1";
        environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach ((string name, string value) in extra ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        ChildProcess.Result result = ChildProcess.Run("sh", ["-c", "cd \"$0\" && exec dotnet \"$@\"", workingDirectory, .. arguments], environment, timeout: TimeSpan.FromMinutes(10));
        result.ExitCode.Should().Be(0, $"dotnet {string.Join(' ', arguments)}: {result.StdoutText}{result.Stderr}");
        return result.StdoutText;
    }
}
