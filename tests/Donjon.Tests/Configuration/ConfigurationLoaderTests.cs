using System.Text.Json;
using Donjon.Abstractions.Sessions;
using Donjon.Host.Configuration;
using Donjon.Tests.Support;

namespace Donjon.Tests.Configuration;

public sealed class ConfigurationLoaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private ConfigurationException Rejected(string json)
    {
        string file = _dir.Write("plugins.json", json);
        Action load = () => ConfigurationLoader.Load(file);
        return load.Should().Throw<ConfigurationException>().Which;
    }

    [Fact]
    public void Missing_file_names_the_file_and_what_to_do()
    {
        string file = Path.Combine(_dir.Path, "absent.json");
        var error = FluentActions.Invoking(() => ConfigurationLoader.Load(file)).Should().Throw<ConfigurationException>().Which.Errors.Single();
        error.File.Should().Be(file);
        error.Problem.Should().Contain("does not exist");
        error.Remedy.Should().Contain("--config");
    }

    [Fact]
    public void Syntax_error_names_line_and_column()
    {
        var error = Rejected("{\n  \"plugins\": [],\n  \"backendOrder\": [\"a\" \"b\"]\n}").Errors.Single();
        error.Location.Should().StartWith("line 3, column ");
        error.Problem.Should().StartWith("JSON syntax error");
    }

    [Fact]
    public void Unknown_key_is_named_with_its_path_and_the_allowed_keys()
    {
        var error = Rejected("""{ "plugins": [], "backendOrder": [], "plugns": [] }""").Errors.Single();
        error.Location.Should().Be("$.plugns");
        error.Problem.Should().Be("unknown key 'plugns'");
        error.Remedy.Should().Contain("plugins").And.Contain("backendOrder");
    }

    [Fact]
    public void Key_with_wrong_case_gets_a_suggestion()
    {
        var error = Rejected("""{ "plugins": [], "BackendOrder": [], "backendOrder": [] }""").Errors.Single();
        error.Remedy.Should().Contain("Did you mean 'backendOrder'");
    }

    [Fact]
    public void Wrong_type_names_the_path_and_what_was_found()
    {
        var error = Rejected("""{ "plugins": {}, "backendOrder": [] }""").Errors.Single();
        error.Location.Should().Be("$.plugins");
        error.Problem.Should().Be("expected an array, found an object");
    }

    [Fact]
    public void Plugin_path_that_does_not_exist_is_reported_resolved_relative_to_the_file()
    {
        var error = Rejected("""{ "plugins": [ { "path": "nowhere/X.dll" } ], "backendOrder": [] }""").Errors.Single();
        error.Location.Should().Be("$.plugins[0].path");
        error.Problem.Should().Contain(Path.Combine(_dir.Path, "nowhere", "X.dll"));
        error.Remedy.Should().Contain("dotnet build");
    }

    [Fact]
    public void Every_mistake_is_reported_not_only_the_first()
    {
        var errors = Rejected("""
            { "plugins": [ { "path": 3 } ], "backendOrder": [ "a", "a" ],
              "policy": { "files": [ { "path": "relative", "access": "read" } ], "limits": { "memorySize": 5 }, "network": [ { "direction": "up", "host": "h", "port": 70000 } ] } }
            """).Errors;
        errors.Select(e => e.Location).Should().BeEquivalentTo(
            "$.plugins[0].path", "$.backendOrder[1]", "$.policy.files[0].path", "$.policy.network[0].direction", "$.policy.network[0].port", "$.policy.limits.memorySize");
    }

    [Fact]
    public void Policy_is_default_deny_when_absent()
    {
        string file = _dir.Write("plugins.json", """{ "plugins": [], "backendOrder": [] }""");
        DonjonConfiguration config = ConfigurationLoader.Load(file);
        config.Policy.Should().Be(KeepPolicy.DenyAll);
        config.Policy.Files.Should().BeEmpty();
        config.Policy.Network.Should().BeEmpty();
        config.Policy.Environment.PassThrough.Should().BeEmpty();
        config.Policy.Environment.Set.Should().BeEmpty();
    }

    [Fact]
    public void Policy_is_read_in_full()
    {
        string file = _dir.Write("plugins.json", """
            { "plugins": [], "backendOrder": ["process"],
              "policy": {
                "files": [ { "path": "/srv/data/", "access": "read-write" } ],
                "network": [ { "direction": "listen", "host": "127.0.0.1", "port": 8080 } ],
                "environment": { "passThrough": [ "TERM" ], "set": { "LANG": "C" } },
                "limits": { "memorySize": 67108864, "stackSize": 1048576, "maxOpenFiles": 64 } } }
            """);
        KeepPolicy policy = ConfigurationLoader.Load(file).Policy;
        policy.Files.Should().Equal(new FileGrant("/srv/data", FileGrantAccess.Read | FileGrantAccess.Write));
        policy.Network.Should().Equal(new NetworkGrant(NetworkDirection.Listen, "127.0.0.1", 8080));
        policy.Environment.PassThrough.Should().Equal("TERM");
        policy.Environment.Set.Should().Contain("LANG", "C");
        policy.Limits.Should().Be(new KeepLimits(64UL << 20, 1UL << 20, 64));
    }

    [Fact]
    public void Limits_cpus_defaults_to_one_whatever_the_host_and_is_read()
    {
        string file = _dir.Write("plugins.json", """{ "plugins": [], "backendOrder": [], "policy": { "limits": { "cpus": 3 } } }""");
        ConfigurationLoader.Load(file).Policy.Limits.Cpus.Should().Be(3);
        KeepLimits.Default.Cpus.Should().Be(1, "a constant default keeps the measurement host-independent");
        file = _dir.Write("plugins.json", """{ "plugins": [], "backendOrder": [], "policy": { "limits": { "threads": 4 } } }""");
        ConfigurationLoader.Load(file).Policy.Limits.Cpus.Should().Be(1);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("9")]
    [InlineData("\"2\"")]
    public void Limits_cpus_out_of_range_is_refused(string value)
    {
        var error = Rejected($$"""{ "plugins": [], "backendOrder": [], "policy": { "limits": { "cpus": {{value}} } } }""").Errors.Single();
        error.Location.Should().Be("$.policy.limits.cpus");
    }

    [Fact]
    public void The_committed_plugins_json_is_valid_and_uses_only_schema_keys()
    {
        DonjonConfiguration config = ConfigurationLoader.Load(Repository.PathOf("plugins.json"));
        config.BackendOrder.Should().Contain("process");

        using JsonDocument schema = JsonDocument.Parse(File.ReadAllText(Repository.PathOf("plugins.schema.json")));
        using JsonDocument committed = JsonDocument.Parse(File.ReadAllText(Repository.PathOf("plugins.json")));
        AssertKeysInSchema(committed.RootElement, schema.RootElement, "$");
    }

    [Fact]
    public void The_wasm_exec_layer_resolves_relative_to_the_file_and_a_bad_one_names_its_path()
    {
        string plugin = Repository.PathOf("plugins/backends/sgx/bin/Donjon.Backends.Sgx.dll");
        string good = _dir.Write("good.json", $$"""{ "plugins": [ { "path": "{{plugin}}" } ], "backendOrder": [], "exec": { "wasm": "exec/donjon-wasm" } }""");
        string none = _dir.Write("none.json", $$"""{ "plugins": [ { "path": "{{plugin}}" } ], "backendOrder": [] }""");
        string bad = _dir.Write("bad.json", $$"""{ "plugins": [ { "path": "{{plugin}}" } ], "backendOrder": [], "exec": { "wasm": 3, "java": "x" } }""");

        ConfigurationLoader.Load(good).WasmLauncher.Should().Be(Path.Combine(_dir.Path, "exec", "donjon-wasm"), "a launcher not yet built is checked when a module runs");
        ConfigurationLoader.Load(none).WasmLauncher.Should().BeNull();
        FluentActions.Invoking(() => ConfigurationLoader.Load(bad)).Should().Throw<ConfigurationException>()
            .Which.Message.Should().Contain("$.exec.wasm").And.Contain("$.exec.java");
    }

    [Fact]
    public void Every_key_the_schema_allows_is_accepted_by_the_loader()
    {
        using JsonDocument schema = JsonDocument.Parse(File.ReadAllText(Repository.PathOf("plugins.schema.json")));
        var paths = new List<string>();
        CollectSchemaKeys(schema.RootElement, "$", paths);
        paths.Should().Contain(["$.plugins[].path", "$.policy.files[].access", "$.policy.network[].port", "$.policy.environment.passThrough", "$.policy.limits.maxOpenFiles"]);

        // A document that uses every key: the loader must accept each of them.
        string plugin = Repository.PathOf("plugins/backends/sgx/bin/Donjon.Backends.Sgx.dll");
        string file = _dir.Write("plugins.json", $$"""
            { "$schema": "x", "plugins": [ { "path": "{{plugin}}", "description": "d" } ], "backendOrder": [], "exec": { "wasm": "bin/donjon-wasm" },
              "policy": { "files": [ { "path": "/a", "access": "read" }, { "host": "/no/such/file", "keep": "/b", "access": "read", "sha256": "{{new string('a', 64)}}", "sameFileSystem": true } ],
                          "libraries": "system", "tmp": true, "workingDirectory": "/a", "commandLineMounts": true, "commandLineNetwork": true, "network": [ { "direction": "connect", "host": "*", "port": 0, "protocol": "udp" } ],
                          "environment": { "passThrough": [ "A" ], "set": { "B": "c" } },
                          "limits": { "memorySize": 16777216, "stackSize": 65536, "maxOpenFiles": 3, "threads": 2, "cpus": 2 } } }
            """);
        FluentActions.Invoking(() => ConfigurationLoader.Load(file)).Should().NotThrow();
        var usedKeys = new List<string>();
        using (JsonDocument doc = JsonDocument.Parse(File.ReadAllText(file)))
        {
            CollectDocumentKeys(doc.RootElement, "$", usedKeys);
        }

        paths.Where(p => !p.EndsWith(".description", StringComparison.Ordinal) && !p.Contains(".set.", StringComparison.Ordinal))
            .Should().BeSubsetOf(usedKeys);
    }

    private static void AssertKeysInSchema(JsonElement value, JsonElement schema, string path)
    {
        if (value.ValueKind == JsonValueKind.Object && schema.TryGetProperty("properties", out JsonElement properties))
        {
            foreach (JsonProperty property in value.EnumerateObject())
            {
                properties.TryGetProperty(property.Name, out JsonElement child).Should().BeTrue($"{path}.{property.Name} must be in the schema");
                AssertKeysInSchema(property.Value, child, $"{path}.{property.Name}");
            }
        }
        else if (value.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out JsonElement items))
        {
            foreach (JsonElement item in value.EnumerateArray())
            {
                AssertKeysInSchema(item, items, path + "[]");
            }
        }
    }

    private static void CollectSchemaKeys(JsonElement schema, string path, List<string> paths)
    {
        if (schema.TryGetProperty("properties", out JsonElement properties))
        {
            foreach (JsonProperty property in properties.EnumerateObject())
            {
                paths.Add($"{path}.{property.Name}");
                CollectSchemaKeys(property.Value, $"{path}.{property.Name}", paths);
            }
        }

        if (schema.TryGetProperty("items", out JsonElement items))
        {
            CollectSchemaKeys(items, path + "[]", paths);
        }
    }

    private static void CollectDocumentKeys(JsonElement value, string path, List<string> keys)
    {
        if (value.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty property in value.EnumerateObject())
            {
                keys.Add($"{path}.{property.Name}");
                CollectDocumentKeys(property.Value, $"{path}.{property.Name}", keys);
            }
        }
        else if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement item in value.EnumerateArray())
            {
                CollectDocumentKeys(item, path + "[]", keys);
            }
        }
    }

    [Fact]
    public void Libraries_system_mounts_the_interpreter_and_the_library_folders_read_only_and_anything_else_is_refused()
    {
        string plugin = Repository.PathOf("plugins/backends/sgx/bin/Donjon.Backends.Sgx.dll");
        string good = _dir.Write("libraries.json", $$"""
            { "plugins": [ { "path": "{{plugin}}" } ], "backendOrder": [], "policy": { "files": [ { "host": "/etc/hostname", "keep": "/usr/lib", "access": "read" } ], "libraries": "system" } }
            """);
        var files = ConfigurationLoader.Load(good).Policy.Files;
        files.Should().Contain(f => f.EffectiveKeepPath == "/lib64/ld-linux-x86-64.so.2" && f.Access == Donjon.Abstractions.Sessions.FileGrantAccess.Read);
        files.Should().Contain(f => f.EffectiveKeepPath == "/lib" && f.Access == Donjon.Abstractions.Sessions.FileGrantAccess.Read);
        files.Where(f => f.EffectiveKeepPath == "/usr/lib").Should().ContainSingle().Which.Path.Should().Be("/etc/hostname", "the admin's own grant of a keep path stays");

        string bad = _dir.Write("bad-libraries.json", $$"""
            { "plugins": [ { "path": "{{plugin}}" } ], "backendOrder": [], "policy": { "libraries": "all" } }
            """);
        FluentActions.Invoking(() => ConfigurationLoader.Load(bad)).Should().Throw<ConfigurationException>()
            .Which.Message.Should().Contain("$.policy.libraries").And.Contain("\"system\"");
    }
}
