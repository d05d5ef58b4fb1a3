using System.Text.Json;
using Donjon.Abstractions.Sessions;
using Donjon.Host.Files;

namespace Donjon.Host.Configuration;

/// <summary>
/// Reads and validates <c>plugins.json</c>. Every mistake found is reported, each with the file, the JSON path (or
/// line and column for a syntax error) and what to do. The structure mirrors <c>plugins.schema.json</c>; a test
/// keeps the two in step.
/// </summary>
/// <remarks>
/// Written on System.Text.Json rather than a JSON-Schema library: the schema libraries report generic messages
/// ("value is not of type integer") without a remedy, and we want each message to say what to do.
/// </remarks>
internal static class ConfigurationLoader
{
    public const string FileName = "plugins.json";

    /// <summary>The largest configuration file read, in bytes.</summary>
    public const long MaxFileSize = 16L << 20;

    private const string SchemaHint = "See plugins.schema.json and the README's 'Configuring Donjon' section.";

    public static DonjonConfiguration Load(string path)
    {
        string fullPath = Path.GetFullPath(path);
        byte[] bytes;
        try
        {
            // Opened without blocking and checked on the descriptor it is read from: a FIFO named as the
            // configuration is refused at once instead of hanging Donjon.
            bytes = RegularFile.ReadAll(fullPath, MaxFileSize);
        }
        catch (FileNotFoundException)
        {
            throw new ConfigurationException(new ConfigurationError(fullPath, "(file)", "the configuration file does not exist",
                $"Create it (the repository's {FileName} is a working example), or point --config or DONJON_CONFIG at an existing file."));
        }
        catch (NotARegularFileException e)
        {
            throw new ConfigurationException(new ConfigurationError(fullPath, "(file)", $"the configuration file {e.Problem}",
                $"Point --config or DONJON_CONFIG at a regular JSON file such as the repository's {FileName}."));
        }
        catch (FileTooLargeException e)
        {
            throw new ConfigurationException(new ConfigurationError(fullPath, "(file)", $"the configuration file is {e.Size} bytes, more than the {MaxFileSize} bytes accepted",
                $"Point --config or DONJON_CONFIG at the admin's {FileName}; it is a few kilobytes."));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException(new ConfigurationError(fullPath, "(file)", $"cannot be read: {e.Message}", "Check the file's permissions."));
        }

        return Parse(bytes, fullPath);
    }

    public static DonjonConfiguration Parse(ReadOnlySpan<byte> utf8, string fullPath)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8.ToArray(), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            long line = (e.LineNumber ?? 0) + 1;
            long column = (e.BytePositionInLine ?? 0) + 1;
            string detail = e.Message.Split(" Path:", StringSplitOptions.None)[0].Split(" LineNumber:", StringSplitOptions.None)[0];
            throw new ConfigurationException(new ConfigurationError(fullPath, $"line {line}, column {column}", $"JSON syntax error: {detail}",
                "Fix the JSON at that position (a missing comma or quote is the usual cause)."));
        }

        using (document)
        {
            var reader = new Reader(fullPath);
            DonjonConfiguration? configuration = reader.ReadRoot(document.RootElement);
            if (reader.Errors.Count > 0 || configuration is null)
            {
                throw new ConfigurationException(reader.Errors);
            }

            return configuration;
        }
    }

    /// <summary>Walks the document, collecting every error instead of stopping at the first.</summary>
    private sealed class Reader(string file)
    {
        private readonly string _directory = Path.GetDirectoryName(file)!;

        public List<ConfigurationError> Errors { get; } = [];

        private void Error(string location, string problem, string remedy) => Errors.Add(new ConfigurationError(file, location, problem, remedy));

        public DonjonConfiguration? ReadRoot(JsonElement root)
        {
            if (!Expect(root, JsonValueKind.Object, "$", "an object"))
            {
                return null;
            }

            CheckKeys(root, "$", ["$schema", "plugins", "backendOrder", "policy"]);

            var plugins = new List<PluginReference>();
            if (Required(root, "plugins", "$", out JsonElement pluginsElement) && Expect(pluginsElement, JsonValueKind.Array, "$.plugins", "an array"))
            {
                int index = 0;
                foreach (JsonElement entry in pluginsElement.EnumerateArray())
                {
                    PluginReference? plugin = ReadPlugin(entry, $"$.plugins[{index++}]");
                    if (plugin is not null)
                    {
                        plugins.Add(plugin);
                    }
                }
            }

            var order = new List<string>();
            if (Required(root, "backendOrder", "$", out JsonElement orderElement) && Expect(orderElement, JsonValueKind.Array, "$.backendOrder", "an array of backend names"))
            {
                int index = 0;
                foreach (JsonElement name in orderElement.EnumerateArray())
                {
                    string location = $"$.backendOrder[{index++}]";
                    if (ExpectNonEmptyString(name, location, out string value))
                    {
                        if (order.Contains(value, StringComparer.Ordinal))
                        {
                            Error(location, $"backend '{value}' is listed twice", "List each backend once.");
                        }
                        else
                        {
                            order.Add(value);
                        }
                    }
                }
            }

            KeepPolicy policy = KeepPolicy.DenyAll;
            if (root.TryGetProperty("policy", out JsonElement policyElement))
            {
                policy = ReadPolicy(policyElement, "$.policy") ?? policy;
            }

            return new DonjonConfiguration(file, plugins, order, policy);
        }

        private PluginReference? ReadPlugin(JsonElement entry, string location)
        {
            if (!Expect(entry, JsonValueKind.Object, location, "an object such as { \"path\": \"plugins/.../bin/X.dll\" }"))
            {
                return null;
            }

            CheckKeys(entry, location, ["path", "description"]);
            if (entry.TryGetProperty("description", out JsonElement description))
            {
                Expect(description, JsonValueKind.String, $"{location}.description", "a string");
            }

            if (!Required(entry, "path", location, out JsonElement pathElement) || !ExpectNonEmptyString(pathElement, $"{location}.path", out string declared))
            {
                return null;
            }

            string resolved = Path.GetFullPath(Path.Combine(_directory, declared));
            FileKind? kind = RegularFile.KindOf(resolved);
            if (kind is null)
            {
                Error($"{location}.path", $"plugin assembly '{declared}' not found (resolved to {resolved})",
                    "Build the plugins first ('dotnet build' at the repository root), or correct the path; paths are relative to this file.");
                return null;
            }

            if (kind != FileKind.Regular)
            {
                // Loading it would open it, and opening a FIFO blocks: it is refused without being opened.
                Error($"{location}.path", $"plugin assembly '{declared}' (resolved to {resolved}) is {RegularFile.Describe(kind.Value)}, not a regular file",
                    "Point the entry at the plugin's DLL in its bin/ folder.");
                return null;
            }

            return new PluginReference(resolved, location);
        }

        private KeepPolicy? ReadPolicy(JsonElement element, string location)
        {
            if (!Expect(element, JsonValueKind.Object, location, "an object"))
            {
                return null;
            }

            CheckKeys(element, location, ["files", "network", "environment", "limits"]);
            var files = new List<FileGrant>();
            if (element.TryGetProperty("files", out JsonElement filesElement) && Expect(filesElement, JsonValueKind.Array, $"{location}.files", "an array"))
            {
                int index = 0;
                foreach (JsonElement grant in filesElement.EnumerateArray())
                {
                    FileGrant? file = ReadFileGrant(grant, $"{location}.files[{index++}]");
                    if (file is not null)
                    {
                        files.Add(file);
                    }
                }
            }

            var network = new List<NetworkGrant>();
            if (element.TryGetProperty("network", out JsonElement networkElement) && Expect(networkElement, JsonValueKind.Array, $"{location}.network", "an array"))
            {
                int index = 0;
                foreach (JsonElement grant in networkElement.EnumerateArray())
                {
                    NetworkGrant? endpoint = ReadNetworkGrant(grant, $"{location}.network[{index++}]");
                    if (endpoint is not null)
                    {
                        network.Add(endpoint);
                    }
                }
            }

            EnvironmentPolicy environment = KeepPolicy.DenyAll.Environment;
            if (element.TryGetProperty("environment", out JsonElement environmentElement))
            {
                environment = ReadEnvironment(environmentElement, $"{location}.environment") ?? environment;
            }

            KeepLimits limits = KeepLimits.Default;
            if (element.TryGetProperty("limits", out JsonElement limitsElement))
            {
                limits = ReadLimits(limitsElement, $"{location}.limits") ?? limits;
            }

            return new KeepPolicy(files, network, environment, limits);
        }

        private FileGrant? ReadFileGrant(JsonElement element, string location)
        {
            if (!Expect(element, JsonValueKind.Object, location, "an object such as { \"path\": \"/srv/data\", \"access\": \"read\" }"))
            {
                return null;
            }

            CheckKeys(element, location, ["path", "access"]);
            if (!Required(element, "path", location, out JsonElement pathElement) || !ExpectNonEmptyString(pathElement, $"{location}.path", out string path))
            {
                return null;
            }

            if (!Path.IsPathFullyQualified(path))
            {
                Error($"{location}.path", $"'{path}' is not an absolute path", "Grant host files by absolute path, for example \"/srv/data\".");
                return null;
            }

            if (!Required(element, "access", location, out JsonElement accessElement) || !ExpectNonEmptyString(accessElement, $"{location}.access", out string access))
            {
                return null;
            }

            FileGrantAccess? parsed = access switch
            {
                "read" => FileGrantAccess.Read,
                "write" => FileGrantAccess.Write,
                "read-write" => FileGrantAccess.Read | FileGrantAccess.Write,
                _ => null,
            };
            if (parsed is null)
            {
                Error($"{location}.access", $"unknown access '{access}'", "Use \"read\", \"write\" or \"read-write\".");
                return null;
            }

            return new FileGrant(Path.TrimEndingDirectorySeparator(path), parsed.Value);
        }

        private NetworkGrant? ReadNetworkGrant(JsonElement element, string location)
        {
            if (!Expect(element, JsonValueKind.Object, location, "an object such as { \"direction\": \"connect\", \"host\": \"127.0.0.1\", \"port\": 8080 }"))
            {
                return null;
            }

            CheckKeys(element, location, ["direction", "host", "port"]);
            NetworkDirection? direction = null;
            if (Required(element, "direction", location, out JsonElement directionElement) && ExpectNonEmptyString(directionElement, $"{location}.direction", out string text))
            {
                direction = text switch { "connect" => NetworkDirection.Connect, "listen" => NetworkDirection.Listen, _ => null };
                if (direction is null)
                {
                    Error($"{location}.direction", $"unknown direction '{text}'", "Use \"connect\" or \"listen\".");
                }
            }

            string? host = null;
            if (Required(element, "host", location, out JsonElement hostElement) && ExpectNonEmptyString(hostElement, $"{location}.host", out string hostText))
            {
                host = hostText;
            }

            long? port = null;
            if (Required(element, "port", location, out JsonElement portElement))
            {
                port = ReadInteger(portElement, $"{location}.port", 0, 65535, "a port from 0 (any) to 65535");
            }

            return direction is null || host is null || port is null ? null : new NetworkGrant(direction.Value, host, (int)port.Value);
        }

        private EnvironmentPolicy? ReadEnvironment(JsonElement element, string location)
        {
            if (!Expect(element, JsonValueKind.Object, location, "an object"))
            {
                return null;
            }

            CheckKeys(element, location, ["passThrough", "set"]);
            var passThrough = new List<string>();
            if (element.TryGetProperty("passThrough", out JsonElement passElement) && Expect(passElement, JsonValueKind.Array, $"{location}.passThrough", "an array of variable names"))
            {
                int index = 0;
                foreach (JsonElement name in passElement.EnumerateArray())
                {
                    string itemLocation = $"{location}.passThrough[{index++}]";
                    if (ExpectNonEmptyString(name, itemLocation, out string value) && CheckVariableName(value, itemLocation))
                    {
                        passThrough.Add(value);
                    }
                }
            }

            var set = new Dictionary<string, string>(StringComparer.Ordinal);
            if (element.TryGetProperty("set", out JsonElement setElement) && Expect(setElement, JsonValueKind.Object, $"{location}.set", "an object of NAME: value"))
            {
                foreach (JsonProperty property in setElement.EnumerateObject())
                {
                    string itemLocation = $"{location}.set.{property.Name}";
                    if (CheckVariableName(property.Name, itemLocation) && Expect(property.Value, JsonValueKind.String, itemLocation, "a string"))
                    {
                        set[property.Name] = property.Value.GetString()!;
                    }
                }
            }

            return new EnvironmentPolicy(passThrough, set);
        }

        private KeepLimits? ReadLimits(JsonElement element, string location)
        {
            if (!Expect(element, JsonValueKind.Object, location, "an object"))
            {
                return null;
            }

            CheckKeys(element, location, ["memorySize", "stackSize", "maxOpenFiles"]);
            KeepLimits defaults = KeepLimits.Default;
            long memory = element.TryGetProperty("memorySize", out JsonElement m)
                ? ReadInteger(m, $"{location}.memorySize", 16L << 20, 1L << 40, "a size in bytes from 16 MiB to 1 TiB") ?? -1
                : (long)defaults.MemorySize;
            long stack = element.TryGetProperty("stackSize", out JsonElement s)
                ? ReadInteger(s, $"{location}.stackSize", 64L << 10, 1L << 30, "a size in bytes from 64 KiB to 1 GiB") ?? -1
                : (long)defaults.StackSize;
            long files = element.TryGetProperty("maxOpenFiles", out JsonElement f)
                ? ReadInteger(f, $"{location}.maxOpenFiles", 3, 65536, "a count from 3 to 65536") ?? -1
                : defaults.MaxOpenFiles;
            if (memory < 0 || stack < 0 || files < 0)
            {
                return null;
            }

            if (stack >= memory)
            {
                Error($"{location}.stackSize", $"the stack ({stack} bytes) does not fit in the memory limit ({memory} bytes)", "Raise memorySize or lower stackSize.");
                return null;
            }

            return new KeepLimits((ulong)memory, (ulong)stack, (int)files);
        }

        private bool CheckVariableName(string name, string location)
        {
            if (name.Length == 0 || name.Contains('=', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal))
            {
                Error(location, $"'{name}' is not a valid environment variable name", "Use a non-empty name without '=' or NUL.");
                return false;
            }

            return true;
        }

        private long? ReadInteger(JsonElement element, string location, long min, long max, string expected)
        {
            if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out long value))
            {
                Error(location, $"expected {expected}, found {Describe(element)}", SchemaHint);
                return null;
            }

            if (value < min || value > max)
            {
                Error(location, $"{value} is out of range", $"Use {expected}.");
                return null;
            }

            return value;
        }

        private void CheckKeys(JsonElement element, string location, string[] allowed)
        {
            foreach (JsonProperty property in element.EnumerateObject())
            {
                if (!allowed.Contains(property.Name, StringComparer.Ordinal))
                {
                    string? near = allowed.FirstOrDefault(a => string.Equals(a, property.Name, StringComparison.OrdinalIgnoreCase));
                    string hint = near is null ? $"Allowed keys here: {string.Join(", ", allowed)}." : $"Did you mean '{near}'? Keys are case-sensitive.";
                    Error($"{location}.{property.Name}", $"unknown key '{property.Name}'", hint);
                }
            }
        }

        private bool Required(JsonElement element, string key, string location, out JsonElement value)
        {
            if (element.TryGetProperty(key, out value))
            {
                return true;
            }

            Error(location, $"the required key '{key}' is missing", SchemaHint);
            return false;
        }

        private bool Expect(JsonElement element, JsonValueKind kind, string location, string expected)
        {
            if (element.ValueKind == kind)
            {
                return true;
            }

            Error(location, $"expected {expected}, found {Describe(element)}", SchemaHint);
            return false;
        }

        private bool ExpectNonEmptyString(JsonElement element, string location, out string value)
        {
            value = string.Empty;
            if (!Expect(element, JsonValueKind.String, location, "a string"))
            {
                return false;
            }

            value = element.GetString()!;
            if (value.Length == 0)
            {
                Error(location, "the string is empty", SchemaHint);
                return false;
            }

            return true;
        }

        private static string Describe(JsonElement element) => element.ValueKind switch
        {
            JsonValueKind.String => $"the string \"{element.GetString()}\"",
            JsonValueKind.Number => $"the number {element.GetRawText()}",
            JsonValueKind.True or JsonValueKind.False => $"the boolean {element.GetRawText()}",
            JsonValueKind.Null => "null",
            JsonValueKind.Array => "an array",
            JsonValueKind.Object => "an object",
            _ => element.ValueKind.ToString(),
        };
    }
}
