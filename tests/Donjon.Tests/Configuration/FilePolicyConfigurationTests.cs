using Donjon.Abstractions.Sessions;
using Donjon.Host.Configuration;
using Donjon.Tests.Support;

namespace Donjon.Tests.Configuration;

/// <summary>The file policy of <c>plugins.json</c>: mounts in both forms, the scratch /tmp, the working directory, and every mistake named.</summary>
public sealed class FilePolicyConfigurationTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private KeepPolicy Policy(string policy) =>
        ConfigurationLoader.Load(_dir.Write("plugins.json", $$"""{ "plugins": [], "backendOrder": [], "policy": {{policy}} }""")).Policy;

    private ConfigurationError[] Rejected(string policy)
    {
        string file = _dir.Write("plugins.json", $$"""{ "plugins": [], "backendOrder": [], "policy": {{policy}} }""");
        return FluentActions.Invoking(() => ConfigurationLoader.Load(file)).Should().Throw<ConfigurationException>().Which.Errors.ToArray();
    }

    [Fact]
    public void Both_forms_give_mounts_with_normalised_keep_paths_and_the_defaults()
    {
        KeepPolicy policy = Policy("""
            { "files": [ { "path": "/srv/same/", "access": "read" },
                         { "host": "/srv/data", "keep": "//data/./set/", "access": "read-write", "sameFileSystem": true },
                         { "host": "/etc/hosts", "keep": "/etc/hosts", "access": "read", "sha256": "ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789" } ] }
            """);
        policy.Files.Should().Equal(
            new FileGrant("/srv/same", FileGrantAccess.Read),
            new FileGrant("/srv/data", FileGrantAccess.Read | FileGrantAccess.Write) { KeepPath = "/data/set", SameFileSystem = true },
            new FileGrant("/etc/hosts", FileGrantAccess.Read) { KeepPath = "/etc/hosts", Sha256 = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789" });
        policy.Files[0].EffectiveKeepPath.Should().Be("/srv/same");
        policy.ScratchTmp.Should().BeFalse();
        policy.WorkingDirectory.Should().Be("/");
    }

    [Fact]
    public void Tmp_and_a_working_directory_inside_a_mount_are_accepted()
    {
        KeepPolicy policy = Policy("""{ "files": [ { "host": "/srv/w", "keep": "/work", "access": "read-write" } ], "tmp": true, "workingDirectory": "/work/sub/" }""");
        policy.ScratchTmp.Should().BeTrue();
        policy.WorkingDirectory.Should().Be("/work/sub");
        Policy("""{ "tmp": true, "workingDirectory": "/tmp" }""").WorkingDirectory.Should().Be("/tmp");
    }

    [Theory]
    [InlineData("""{ "files": [ { "path": "/a", "host": "/a", "keep": "/a", "access": "read" } ] }""", "$.policy.files[0]", "both 'path' and 'host'")]
    [InlineData("""{ "files": [ { "access": "read" } ] }""", "$.policy.files[0]", "neither 'path' nor 'host'")]
    [InlineData("""{ "files": [ { "host": "/a", "access": "read" } ] }""", "$.policy.files[0]", "the required key 'keep' is missing")]
    [InlineData("""{ "files": [ { "path": "/a", "keep": "/b", "access": "read" } ] }""", "$.policy.files[0].keep", "'keep' goes with 'host'")]
    [InlineData("""{ "files": [ { "host": "relative", "keep": "/b", "access": "read" } ] }""", "$.policy.files[0].host", "not an absolute path")]
    [InlineData("""{ "files": [ { "host": "/a", "keep": "data", "access": "read" } ] }""", "$.policy.files[0].keep", "not an absolute keep path")]
    [InlineData("""{ "files": [ { "host": "/a", "keep": "/data/../etc", "access": "read" } ] }""", "$.policy.files[0].keep", "contains '..'")]
    [InlineData("""{ "files": [ { "host": "/a", "keep": "/d", "access": "rw" } ] }""", "$.policy.files[0].access", "unknown access 'rw'")]
    [InlineData("""{ "files": [ { "host": "/a", "keep": "/d", "access": "read", "sha256": "abc" } ] }""", "$.policy.files[0].sha256", "not a SHA-256 digest")]
    [InlineData("""{ "files": [ { "host": "/a", "keep": "/d", "access": "read-write", "sha256": "0000000000000000000000000000000000000000000000000000000000000000" } ] }""", "$.policy.files[0].sha256", "must be granted \"read\" only")]
    [InlineData("""{ "files": [ { "host": "/a", "keep": "/d", "access": "read", "sameFileSystem": "yes" } ] }""", "$.policy.files[0].sameFileSystem", "expected a boolean")]
    [InlineData("""{ "files": [ { "host": "/a", "keep": "/d", "access": "read" }, { "host": "/b", "keep": "/d/", "access": "read" } ] }""", "$.policy.files[1]", "already mounted by $.policy.files[0]")]
    [InlineData("""{ "files": [ { "host": "/a", "keep": "/dev/null", "access": "read" } ] }""", "$.policy.files[0]", "built-in devices")]
    [InlineData("""{ "files": [ { "host": "/a", "keep": "/tmp/x", "access": "read" } ], "tmp": true }""", "$.policy.files[0]", "inside the scratch /tmp")]
    [InlineData("""{ "tmp": "yes" }""", "$.policy.tmp", "expected a boolean")]
    [InlineData("""{ "files": [ { "host": "/a", "keep": "/data", "access": "read" } ], "workingDirectory": "/elsewhere" }""", "$.policy.workingDirectory", "not inside any mount")]
    [InlineData("""{ "workingDirectory": "relative" }""", "$.policy.workingDirectory", "not an absolute keep path")]
    public void A_mistake_is_named_with_its_json_path(string policy, string location, string problem)
    {
        ConfigurationError error = Rejected(policy).Should().ContainSingle().Which;
        error.Location.Should().Be(location);
        error.Problem.Should().Contain(problem);
        error.Remedy.Should().NotBeNullOrWhiteSpace();
    }

    [Fact]
    public void A_digest_on_a_directory_is_refused()
    {
        ConfigurationError error = Rejected($$"""{ "files": [ { "host": "{{_dir.Path}}", "keep": "/d", "access": "read", "sha256": "{{new string('a', 64)}}" } ] }""").Single();
        error.Location.Should().Be("$.policy.files[0].sha256");
        error.Problem.Should().Contain("is a directory; a digest pins one regular file");
    }

    [Fact]
    public void The_repository_plugins_json_loads_and_lists_the_files_set()
    {
        DonjonConfiguration configuration = ConfigurationLoader.Load(Repository.PathOf("plugins.json"));
        configuration.Plugins.Select(p => Path.GetFileName(p.AssemblyPath)).Should().Contain("Donjon.Syscalls.Files.dll");
    }
}
