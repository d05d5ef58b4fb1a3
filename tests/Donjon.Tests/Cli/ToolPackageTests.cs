using Donjon.Tests.Support;

namespace Donjon.Tests.Cli;

/// <summary>
/// The README's install path: <c>dotnet pack</c> of the host makes the .NET tool package <c>donjon</c>, and <c>dotnet tool
/// install</c> from it gives a <c>donjon</c> that finds its packaged plugins.json, plugins and shims, and runs the sample.
/// </summary>
public sealed class ToolPackageTests
{
    [Fact]
    public void The_packed_tool_installs_into_a_tool_path_and_runs_the_sample()
    {
        using var folder = new TempDirectory();
        string artifacts = Path.Combine(folder.Path, "artifacts");
        string toolPath = Path.Combine(folder.Path, "tools");

        // The solution is built already (the tests are part of it): pack what was built, in the tests' configuration.
        string configuration = Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/')))!;
        Dotnet(["pack", Repository.PathOf("host/Donjon.Host.csproj"), "--no-build", "-c", configuration, "-o", artifacts]);
        File.Exists(Path.Combine(artifacts, "donjon.0.1.0.nupkg")).Should().BeTrue(string.Join(", ", Directory.GetFiles(artifacts)));

        // Only the packed folder is a source (nuget.org is not asked), and the package cache is private to the test,
        // so the install takes this package and no other.
        string config = folder.Write("nuget.config", $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources><clear /><add key="artifacts" value="{artifacts}" /></packageSources>
            </configuration>
            """);
        Dotnet(["tool", "install", "--tool-path", toolPath, "donjon", "--add-source", artifacts, "--configfile", config],
            new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(folder.Path, "packages") });

        string donjon = Path.Combine(toolPath, "donjon");
        File.Exists(donjon).Should().BeTrue();
        var environment = ChildProcess.DotnetEnvironment();
        ChildProcess.Result run = ChildProcess.Run(donjon, ["run", "--backend", "process", Repository.PathOf("samples/bin/hello"), "one", "two words"], environment);
        run.ExitCode.Should().Be(0, run.Stderr);
        run.StdoutText.Should().Be("Hello from inside a keep!\nargv[1] = one\nargv[2] = two words\nLANG = C.UTF-8\n");
        run.Stderr.Should().BeEmpty();

        // The configuration in force is the one packaged beside the installed program, not the repository's.
        ChildProcess.Result info = ChildProcess.Run(donjon, ["platform", "info"], environment);
        info.ExitCode.Should().Be(0, info.Stderr);
        string packaged = Path.Combine(toolPath, ".store", "donjon", "0.1.0", "donjon", "0.1.0", "tools", "net10.0", "linux-x64", "plugins.json");   // RID-specific: the build is ReadyToRun for linux-x64
        info.StdoutText.Split('\n')[..2].Should().Equal($"configuration: {packaged}", "  from the nearest plugins.json above the donjon program");
    }

    private static void Dotnet(string[] arguments, IReadOnlyDictionary<string, string>? extra = null)
    {
        var environment = ChildProcess.DotnetEnvironment();
        environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        environment["DOTNET_NOLOGO"] = "1";
        foreach ((string name, string value) in extra ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        ChildProcess.Result result = ChildProcess.Run("dotnet", arguments, environment, timeout: TimeSpan.FromMinutes(5));
        result.ExitCode.Should().Be(0, $"dotnet {string.Join(' ', arguments)}: {result.StdoutText}{result.Stderr}");
    }
}
