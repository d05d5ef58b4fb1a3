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
            // A byte-order mark (which some editors write) is not JSON; it is skipped.
            ReadOnlySpan<byte> text = utf8.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? utf8[3..] : utf8;
            document = JsonDocument.Parse(text.ToArray(), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = false });
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

    /// <summary>
    /// The configuration with the network grants of <c>donjon run --publish [ADDR:]PORT[/udp]</c> (a listen entry; ADDR
    /// <c>0.0.0.0</c> when absent, which lets the keep bind any one IPv4 address; <c>[::1]:PORT</c> for IPv6) and
    /// <c>--allow-connect HOST:PORT[/udp]</c> (a connect entry; HOST a name, an address or a CIDR block, PORT a port or
    /// <c>FIRST-LAST</c>) added to its policy for one run, unless the admin forbids it (<c>policy.commandLineNetwork</c>).
    /// </summary>
    /// <param name="configuration">The configuration so far.</param>
    /// <param name="publishes">The <c>--publish</c> values, in order.</param>
    /// <param name="connects">The <c>--allow-connect</c> values, in order.</param>
    /// <param name="problems">What is wrong, one message per mistake, each naming the option and what to do.</param>
    /// <returns>The configuration to run with, or <see langword="null"/> when <paramref name="problems"/> is not empty.</returns>
    public static DonjonConfiguration? WithCommandLineNetwork(DonjonConfiguration configuration, IReadOnlyList<string> publishes, IReadOnlyList<string> connects, out List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        problems = [];
        if (publishes.Count == 0 && connects.Count == 0)
        {
            return configuration;
        }

        if (!configuration.AllowsCommandLineNetwork)
        {
            problems.Add($"--publish and --allow-connect are forbidden by the admin (policy.commandLineNetwork is false in {configuration.FilePath}); ask the admin to add the entries to policy.network");
            return null;
        }

        var grants = new List<NetworkGrant>(configuration.Policy.Network);
        foreach (string publish in publishes)
        {
            if (TryEndpoint(publish, defaultHost: "0.0.0.0", allowRange: false, out NetworkGrant? grant))
            {
                grants.Add(grant with { Direction = NetworkDirection.Listen });
            }
            else
            {
                problems.Add($"--publish '{publish}' is not [ADDR:]PORT[/udp] with an IP address and a port of 1-65535, for example --publish 8080, --publish 127.0.0.1:8080 or --publish [::1]:5353/udp");
            }
        }

        foreach (string connect in connects)
        {
            if (TryEndpoint(connect, defaultHost: null, allowRange: true, out NetworkGrant? grant))
            {
                grants.Add(grant with { Direction = NetworkDirection.Connect });
            }
            else
            {
                problems.Add($"--allow-connect '{connect}' is not HOST:PORT[/udp] (HOST a name, an address or a CIDR block; PORT 1-65535 or FIRST-LAST), for example --allow-connect example.org:443 or --allow-connect 10.0.0.0/8:5432");
            }
        }

        return problems.Count > 0 ? null : configuration with { Policy = configuration.Policy with { Network = grants } };
    }

    /// <summary>Reads <c>[HOST:]PORT[/udp]</c>: HOST may be <c>[v6]</c>; a missing HOST is <paramref name="defaultHost"/> (null: required).</summary>
    private static bool TryEndpoint(string text, string? defaultHost, bool allowRange, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NetworkGrant? grant)
    {
        grant = null;
        NetworkProtocol protocol = NetworkProtocol.Tcp;
        string rest = text;
        int slash = rest.LastIndexOf('/');
        if (slash >= 0 && rest[(slash + 1)..] is "udp" or "tcp")
        {
            protocol = rest[(slash + 1)..] == "udp" ? NetworkProtocol.Udp : NetworkProtocol.Tcp;
            rest = rest[..slash];
        }

        string? host;
        string port;
        if (rest.StartsWith('['))
        {
            int close = rest.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
            {
                return false;
            }

            host = rest[1..close];
            port = rest[(close + 2)..];
        }
        else
        {
            int colon = rest.LastIndexOf(':');
            host = colon < 0 ? defaultHost : rest[..colon];
            port = colon < 0 ? rest : rest[(colon + 1)..];
        }

        if (string.IsNullOrEmpty(host) || host.Contains(':', StringComparison.Ordinal) && !System.Net.IPAddress.TryParse(host.Split('/')[0], out _))
        {
            return false;
        }

        if (defaultHost is not null && !System.Net.IPAddress.TryParse(host, out _))
        {
            return false; // a listen entry binds an address, never a name
        }

        string[] range = port.Split('-');
        if (range.Length > (allowRange ? 2 : 1) || !range.All(p => int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 65535))
        {
            return false;
        }

        int first = int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture);
        int? last = range.Length == 2 ? int.Parse(range[1], System.Globalization.CultureInfo.InvariantCulture) : null;
        if (last < first)
        {
            return false;
        }

        grant = new NetworkGrant(NetworkDirection.Connect, host, first) { LastPort = last, Protocol = protocol };
        return true;
    }

    /// <summary>
    /// The configuration with the grants of <c>donjon run --mount HOST:KEEP[:ro|:rw]</c> (read-only unless <c>:rw</c>)
    /// and <c>--tmp</c> added to its policy for one run, checked by the same rules as the file's grants.
    /// </summary>
    /// <param name="configuration">The admin's configuration.</param>
    /// <param name="mounts">The <c>--mount</c> values, in order.</param>
    /// <param name="tmp">Whether <c>--tmp</c> was given.</param>
    /// <param name="problems">What is wrong, one message per mistake, each naming the option and what to do.</param>
    /// <param name="systemLibraries">Whether <c>--libraries system</c> was given: <see cref="SystemLibraries.Grants"/> are added.</param>
    /// <param name="pinned">The pinned file grants of <c>--manifest</c>: each replaces a grant of the same keep path, and comes before the system libraries.</param>
    /// <returns>The configuration to run with, or <see langword="null"/> when <paramref name="problems"/> is not empty.</returns>
    public static DonjonConfiguration? WithCommandLineGrants(DonjonConfiguration configuration, IReadOnlyList<string> mounts, bool tmp, out List<string> problems, bool systemLibraries = false, IReadOnlyList<FileGrant>? pinned = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(mounts);
        problems = [];
        if (mounts.Count == 0 && !tmp && !systemLibraries && pinned is null)
        {
            return configuration;
        }

        if (!configuration.AllowsCommandLineMounts)
        {
            problems.Add($"--mount, --libraries, --manifest and --tmp are forbidden by the admin (policy.commandLineMounts is false in {configuration.FilePath}); ask the admin to grant the files in policy.files (or \"libraries\": \"system\")");
            return null;
        }

        var files = new List<FileGrant>(configuration.Policy.Files);
        foreach (string mount in mounts)
        {
            string[] parts = mount.Split(':');
            string? mode = parts.Length == 3 ? parts[2] : null;
            if (parts.Length is < 2 or > 3 || parts[0].Length == 0 || parts[1].Length == 0 || (mode is not null && mode is not ("ro" or "rw")))
            {
                problems.Add($"--mount '{mount}' is not HOST:KEEP[:ro|:rw], for example --mount /srv/data:/data:ro");
                continue;
            }

            files.Add(new FileGrant(parts[0], mode == "rw" ? FileGrantAccess.Read | FileGrantAccess.Write : FileGrantAccess.Read) { KeepPath = parts[1] });
        }

        if (pinned is not null)
        {
            var pinnedPaths = new HashSet<string>(pinned.Select(p => p.EffectiveKeepPath), StringComparer.Ordinal);
            files.RemoveAll(f => pinnedPaths.Contains(f.EffectiveKeepPath));
            files.AddRange(pinned);
        }

        if (systemLibraries)
        {
            files.AddRange(SystemLibraries.Grants(files.Select(f => f.EffectiveKeepPath)));
        }

        // The same rules as the file's, by reading the merged grants as a policy document.
        var grants = files.Select(f => new Dictionary<string, object?>
        {
            ["host"] = f.Path,
            ["keep"] = f.EffectiveKeepPath,
            ["access"] = f.Access switch { FileGrantAccess.Read => "read", FileGrantAccess.Write => "write", _ => "read-write" },
            ["sha256"] = f.Sha256,
            ["sameFileSystem"] = f.SameFileSystem,
        }.Where(pair => pair.Value is not null).ToDictionary(pair => pair.Key, pair => pair.Value)).ToList();
        var document = new Dictionary<string, object?>
        {
            ["files"] = grants,
            ["tmp"] = tmp || configuration.Policy.ScratchTmp,
            ["workingDirectory"] = configuration.Policy.WorkingDirectory,
        };
        using JsonDocument parsed = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(document));
        var reader = new Reader(configuration.FilePath);
        KeepPolicy? merged = reader.ReadPolicy(parsed.RootElement, "$.policy");
        int first = configuration.Policy.Files.Count;
        foreach (ConfigurationError error in reader.Errors)
        {
            // Name the option rather than a JSON path for the grants the command line added.
            System.Text.RegularExpressions.Match index = System.Text.RegularExpressions.Regex.Match(error.Location, @"^\$\.policy\.files\[(\d+)\]");
            int at = index.Success ? int.Parse(index.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) - first : -1;
            string where = at >= 0 && at < mounts.Count && pinned is null
                ? $"--mount '{mounts[at]}'"
                : at >= 0 ? $"the grant of {files[Math.Min(at + first, files.Count - 1)].EffectiveKeepPath} that --mount, --libraries or --manifest added"
                : error.Location.StartsWith("$.policy.tmp", StringComparison.Ordinal) ? "--tmp" : error.Location;
            problems.Add($"{where}: {error.Problem}. {error.Remedy}");
        }

        return problems.Count > 0 || merged is null
            ? null
            : configuration with { Policy = configuration.Policy with { Files = merged.Files, ScratchTmp = merged.ScratchTmp } };
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

            CheckKeys(root, "$", ["$schema", "plugins", "backendOrder", "policy", "exec"]);

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
            bool commandLineMounts = true;
            if (root.TryGetProperty("policy", out JsonElement policyElement))
            {
                policy = ReadPolicy(policyElement, "$.policy") ?? policy;
                if (policyElement.ValueKind == JsonValueKind.Object && policyElement.TryGetProperty("commandLineMounts", out JsonElement allow))
                {
                    if (allow.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    {
                        commandLineMounts = allow.GetBoolean();
                    }
                    else
                    {
                        Error("$.policy.commandLineMounts", $"expected a boolean, found {Describe(allow)}", "Use false to forbid 'donjon run --mount' and '--tmp', true (the default) to allow them.");
                    }
                }
            }

            string? wasmLauncher = null;
            if (root.TryGetProperty("exec", out JsonElement execElement) && Expect(execElement, JsonValueKind.Object, "$.exec", "an object such as { \"wasm\": \"plugins/exec/wasm/bin/donjon-wasm\" }"))
            {
                CheckKeys(execElement, "$.exec", ["wasm"]);
                if (execElement.TryGetProperty("wasm", out JsonElement wasmElement) && ExpectNonEmptyString(wasmElement, "$.exec.wasm", out string declared))
                {
                    // Resolved now, checked when a module runs: a configuration without a built launcher still runs programs.
                    wasmLauncher = Path.GetFullPath(Path.Combine(_directory, declared));
                }
            }

            bool commandLineNetwork = true;
            if (policyElement.ValueKind == JsonValueKind.Object && policyElement.TryGetProperty("commandLineNetwork", out JsonElement allowNetwork))
            {
                if (allowNetwork.ValueKind is JsonValueKind.True or JsonValueKind.False)
                {
                    commandLineNetwork = allowNetwork.GetBoolean();
                }
                else
                {
                    Error("$.policy.commandLineNetwork", $"expected a boolean, found {Describe(allowNetwork)}", "Use false to forbid 'donjon run --publish' and '--allow-connect', true (the default) to allow them.");
                }
            }

            return new DonjonConfiguration(file, plugins, order, policy) { AllowsCommandLineMounts = commandLineMounts, AllowsCommandLineNetwork = commandLineNetwork, WasmLauncher = wasmLauncher };
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

        public KeepPolicy? ReadPolicy(JsonElement element, string location)
        {
            if (!Expect(element, JsonValueKind.Object, location, "an object"))
            {
                return null;
            }

            CheckKeys(element, location, ["files", "libraries", "tmp", "workingDirectory", "commandLineMounts", "commandLineNetwork", "network", "environment", "limits"]);
            var files = new List<FileGrant>();
            var indices = new List<int>();
            if (element.TryGetProperty("files", out JsonElement filesElement) && Expect(filesElement, JsonValueKind.Array, $"{location}.files", "an array"))
            {
                int index = 0;
                foreach (JsonElement grant in filesElement.EnumerateArray())
                {
                    FileGrant? file = ReadFileGrant(grant, $"{location}.files[{index}]");
                    if (file is not null)
                    {
                        files.Add(file);
                        indices.Add(index);
                    }

                    index++;
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

            bool tmp = false;
            if (element.TryGetProperty("tmp", out JsonElement tmpElement))
            {
                if (tmpElement.ValueKind is JsonValueKind.True or JsonValueKind.False)
                {
                    tmp = tmpElement.GetBoolean();
                }
                else
                {
                    Error($"{location}.tmp", $"expected a boolean, found {Describe(tmpElement)}", "Use true for a private scratch /tmp, false (the default) for none.");
                }
            }

            CheckMounts(files, indices, tmp, location);
            if (element.TryGetProperty("libraries", out JsonElement librariesElement))
            {
                if (librariesElement.ValueKind == JsonValueKind.String && librariesElement.GetString() == SystemLibraries.SystemValue)
                {
                    // After the check of the admin's own grants: a keep path the admin mounted keeps the admin's grant.
                    files.AddRange(SystemLibraries.Grants(files.Select(f => f.EffectiveKeepPath)));
                }
                else
                {
                    Error($"{location}.libraries", $"expected \"{SystemLibraries.SystemValue}\", found {Describe(librariesElement)}",
                        "Use \"system\" to mount the interpreter and the system library folders (/lib, /usr/lib...) read-only, or leave it out and mount what the program needs in policy.files.");
                }
            }

            string workingDirectory = "/";
            if (element.TryGetProperty("workingDirectory", out JsonElement cwdElement) && ExpectNonEmptyString(cwdElement, $"{location}.workingDirectory", out string cwd))
            {
                workingDirectory = ReadKeepPath(cwd, $"{location}.workingDirectory") ?? "/";
                bool reachable = workingDirectory == "/" || (tmp && (workingDirectory == "/tmp" || workingDirectory.StartsWith("/tmp/", StringComparison.Ordinal))) ||
                    files.Any(f => Contains(f.EffectiveKeepPath, workingDirectory) || Contains(workingDirectory, f.EffectiveKeepPath));
                if (!reachable)
                {
                    Error($"{location}.workingDirectory", $"'{workingDirectory}' is not inside any mount of policy.files",
                        "Use a keep path under one of the mounts (or \"/\", the default), or mount the directory.");
                }
            }

            return new KeepPolicy(files, network, environment, limits) { ScratchTmp = tmp, WorkingDirectory = workingDirectory };
        }

        private FileGrant? ReadFileGrant(JsonElement element, string location)
        {
            if (!Expect(element, JsonValueKind.Object, location, "an object such as { \"host\": \"/srv/data\", \"keep\": \"/data\", \"access\": \"read\" }"))
            {
                return null;
            }

            CheckKeys(element, location, ["path", "host", "keep", "access", "sha256", "sameFileSystem"]);
            bool hasPath = element.TryGetProperty("path", out JsonElement pathElement);
            bool hasHost = element.TryGetProperty("host", out JsonElement hostElement);
            bool hasKeep = element.TryGetProperty("keep", out JsonElement keepElement);
            if (hasPath == hasHost)
            {
                Error(location, hasPath ? "the grant has both 'path' and 'host'" : "the grant has neither 'path' nor 'host'",
                    "Give either { \"path\": \"/srv/data\" } (the same path on the host and in the keep) or { \"host\": \"/srv/data\", \"keep\": \"/data\" }.");
                return null;
            }

            if (hasPath && hasKeep)
            {
                Error($"{location}.keep", "'keep' goes with 'host', not with 'path'", "Replace 'path' with 'host' to mount the host path elsewhere in the keep.");
                return null;
            }

            if (hasHost && !hasKeep)
            {
                Error(location, "the required key 'keep' is missing", "Say where the keep sees the host path, for example \"keep\": \"/data\".");
                return null;
            }

            string hostKey = hasPath ? "path" : "host";
            if (!ExpectNonEmptyString(hasPath ? pathElement : hostElement, $"{location}.{hostKey}", out string path))
            {
                return null;
            }

            if (!Path.IsPathFullyQualified(path))
            {
                Error($"{location}.{hostKey}", $"'{path}' is not an absolute path", "Grant host files by absolute path, for example \"/srv/data\".");
                return null;
            }

            string hostPath = path.Length > 1 ? Path.TrimEndingDirectorySeparator(path) : path;
            string keepLocation = hasKeep ? $"{location}.keep" : $"{location}.path";
            string? keepPath = null;
            if (hasKeep)
            {
                if (!ExpectNonEmptyString(keepElement, keepLocation, out string keep))
                {
                    return null;
                }

                keepPath = ReadKeepPath(keep, keepLocation);
                if (keepPath is null)
                {
                    return null;
                }
            }
            else if (ReadKeepPath(path, keepLocation) is not string same)
            {
                return null;
            }
            else
            {
                hostPath = same;
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
                Error($"{location}.access", $"unknown access '{access}'", "Use \"read\" or \"read-write\" (\"write\" grants writing without reading).");
                return null;
            }

            string? sha256 = null;
            if (element.TryGetProperty("sha256", out JsonElement shaElement))
            {
                if (!ExpectNonEmptyString(shaElement, $"{location}.sha256", out string digest))
                {
                    return null;
                }

                if (digest.Length != 64 || !digest.All(char.IsAsciiHexDigit))
                {
                    Error($"{location}.sha256", $"'{digest}' is not a SHA-256 digest", "Give 64 hexadecimal digits, as sha256sum prints them.");
                    return null;
                }

                if (parsed.Value != FileGrantAccess.Read)
                {
                    Error($"{location}.sha256", "a pinned file must be granted \"read\" only", "Set \"access\": \"read\", or remove \"sha256\".");
                    return null;
                }

                if (RegularFile.KindOf(hostPath) is FileKind kind && kind != FileKind.Regular)
                {
                    Error($"{location}.sha256", $"'{hostPath}' is {RegularFile.Describe(kind)}; a digest pins one regular file", "Grant the file itself, or remove \"sha256\".");
                    return null;
                }

                sha256 = digest.ToLowerInvariant();
            }

            bool sameFileSystem = false;
            if (element.TryGetProperty("sameFileSystem", out JsonElement xdevElement))
            {
                if (xdevElement.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    Error($"{location}.sameFileSystem", $"expected a boolean, found {Describe(xdevElement)}", "Use true or false.");
                    return null;
                }

                sameFileSystem = xdevElement.GetBoolean();
            }

            return new FileGrant(hostPath, parsed.Value) { KeepPath = keepPath, Sha256 = sha256, SameFileSystem = sameFileSystem };
        }

        /// <summary>
        /// A keep path as the admin wrote it, checked: absolute, without <c>..</c> and without a NUL; returned
        /// normalised (no <c>.</c>, no repeated or trailing <c>/</c>).
        /// </summary>
        private string? ReadKeepPath(string path, string location)
        {
            if (path[0] != '/')
            {
                Error(location, $"'{path}' is not an absolute keep path", "Keep paths start with '/', for example \"/data\".");
                return null;
            }

            if (path.Contains('\0', StringComparison.Ordinal))
            {
                Error(location, "the path contains a NUL character", "Remove it.");
                return null;
            }

            string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(part => part != ".").ToArray();
            if (parts.Contains(".."))
            {
                Error(location, $"'{path}' contains '..'", "Write the path without '..' components.");
                return null;
            }

            return "/" + string.Join('/', parts);
        }

        /// <summary>Checks the grants together: no two at one keep path, none on a built-in device or on a scratch /tmp; <paramref name="indices"/> are their places in the file.</summary>
        private void CheckMounts(List<FileGrant> files, List<int> indices, bool tmp, string location)
        {
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < files.Count; i++)
            {
                int index = indices[i];
                string keep = files[i].EffectiveKeepPath;
                string where = $"{location}.files[{index}]";
                if (seen.TryGetValue(keep, out int first))
                {
                    Error(where, $"the keep path '{keep}' is already mounted by {location}.files[{first}]", "Mount each keep path once.");
                    continue;
                }

                seen[keep] = index;
                if (keep.StartsWith("/dev/", StringComparison.Ordinal) && Sessions.KeepFileSystem.DeviceNames.Contains(keep[5..]))
                {
                    Error(where, $"'{keep}' is one of the keep's built-in devices", "Mount the grant at another keep path.");
                }

                if (tmp && (keep == "/tmp" || keep.StartsWith("/tmp/", StringComparison.Ordinal)))
                {
                    Error(where, $"'{keep}' is inside the scratch /tmp that \"tmp\": true gives", "Mount the grant elsewhere, or set \"tmp\": false and mount your own /tmp.");
                }
            }
        }

        private NetworkGrant? ReadNetworkGrant(JsonElement element, string location)
        {
            if (!Expect(element, JsonValueKind.Object, location, "an object such as { \"direction\": \"connect\", \"host\": \"127.0.0.1\", \"port\": 8080 }"))
            {
                return null;
            }

            CheckKeys(element, location, ["direction", "host", "port", "protocol"]);
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
                int slash = hostText.IndexOf('/', StringComparison.Ordinal);
                if (slash >= 0 && !(System.Net.IPAddress.TryParse(hostText[..slash], out System.Net.IPAddress? network) &&
                    int.TryParse(hostText[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int prefix) &&
                    prefix <= (network.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)))
                {
                    Error($"{location}.host", $"'{hostText}' is not a CIDR block", "Write an address and a prefix length, such as \"10.0.0.0/8\" or \"fd00::/8\".");
                    host = null;
                }
            }

            long? port = null;
            int? lastPort = null;
            if (Required(element, "port", location, out JsonElement portElement))
            {
                if (portElement.ValueKind == JsonValueKind.String)
                {
                    string range = portElement.GetString() ?? string.Empty;
                    string[] parts = range.Split('-');
                    if (parts.Length == 2 &&
                        int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int first) &&
                        int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int last) &&
                        first is >= 1 and <= 65535 && last >= first && last <= 65535)
                    {
                        port = first;
                        lastPort = last;
                    }
                    else
                    {
                        Error($"{location}.port", $"'{range}' is not a port range", "Write a port (0 for any) or a range \"FIRST-LAST\" of ports 1-65535, such as \"8000-8099\".");
                    }
                }
                else
                {
                    port = ReadInteger(portElement, $"{location}.port", 0, 65535, "a port from 0 (any) to 65535, or a range \"FIRST-LAST\"");
                }
            }

            NetworkProtocol protocol = NetworkProtocol.Tcp;
            if (element.TryGetProperty("protocol", out JsonElement protocolElement) && ExpectNonEmptyString(protocolElement, $"{location}.protocol", out string protocolText))
            {
                switch (protocolText)
                {
                    case "tcp":
                        break;
                    case "udp":
                        protocol = NetworkProtocol.Udp;
                        break;
                    default:
                        Error($"{location}.protocol", $"unknown protocol '{protocolText}'", "Use \"tcp\" (the default) or \"udp\".");
                        break;
                }
            }

            return direction is null || host is null || port is null
                ? null
                : new NetworkGrant(direction.Value, host, (int)port.Value) { LastPort = lastPort, Protocol = protocol };
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

            CheckKeys(element, location, ["memorySize", "stackSize", "maxOpenFiles", "threads", "cpus"]);
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
            long threads = element.TryGetProperty("threads", out JsonElement t)
                ? ReadInteger(t, $"{location}.threads", 1, 1024, "a count of threads from 1 to 1024") ?? -1
                : defaults.Threads;
            long cpus = element.TryGetProperty("cpus", out JsonElement c)
                ? ReadInteger(c, $"{location}.cpus", 1, 8, "a count of vCPUs from 1 to 8") ?? -1
                : defaults.Cpus;
            if (memory < 0 || stack < 0 || files < 0 || threads < 0 || cpus < 0)
            {
                return null;
            }

            if (stack >= memory)
            {
                Error($"{location}.stackSize", $"the stack ({stack} bytes) does not fit in the memory limit ({memory} bytes)", "Raise memorySize or lower stackSize.");
                return null;
            }

            return new KeepLimits((ulong)memory, (ulong)stack, (int)files) { Threads = (int)threads, Cpus = (int)cpus };
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

        /// <summary>Whether keep path <paramref name="inner"/> is <paramref name="outer"/> or beneath it.</summary>
        private static bool Contains(string outer, string inner) =>
            outer == "/" || inner == outer || inner.StartsWith(outer + "/", StringComparison.Ordinal);

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
