using System.Security.Cryptography;
using System.Text.Json;
using Donjon.Abstractions.Sessions;
using Donjon.Host.Images;

namespace Donjon.Host.Measurement;

/// <summary>
/// The trusted-library manifest of a dynamic program (<c>donjon measure --manifest FILE</c>): its interpreter and every
/// library of its <c>DT_NEEDED</c> closure, as the interpreter will resolve them in the keep, each as a read-only file
/// grant that pins its SHA-256, in the form of <c>policy.files</c>' trusted files. <c>donjon run --manifest FILE</c>
/// adds those grants to the policy, so a library whose bytes differ is refused (before launch, and at every open), and
/// the SHA-256 of the manifest's bytes goes into the configuration page, which is measured: a verifier who trusts the
/// measurement trusts the libraries too.
/// </summary>
internal static class LibraryManifest
{
    /// <summary>The manifest format's version, its <c>"version"</c> member.</summary>
    public const int Version = 1;

    /// <summary>The largest manifest Donjon reads, in bytes.</summary>
    public const long MaxSize = 4 << 20;

    /// <summary>The manifest's bytes: UTF-8 JSON, stable for the same program, interpreter and libraries.</summary>
    public static byte[] Write(string programPath, string programSha256, InterpreterFile interpreter, IReadOnlyList<ResolvedLibrary> libraries)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", Version);
            writer.WriteString("program", programPath);
            writer.WriteString("programSha256", programSha256);
            writer.WriteStartArray("files");
            WriteGrant(writer, interpreter.HostPath, interpreter.KeepPath, interpreter.Elf.Sha256);
            foreach (ResolvedLibrary library in libraries)
            {
                WriteGrant(writer, library.HostPath, library.KeepPath, library.Sha256);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        stream.WriteByte((byte)'\n');
        return stream.ToArray();
    }

    /// <summary>The SHA-256 of a manifest's bytes: what the configuration page carries.</summary>
    public static byte[] Digest(ReadOnlySpan<byte> manifest) => SHA256.HashData(manifest);

    /// <summary>Reads the manifest at <paramref name="path"/> as pinned file grants.</summary>
    /// <param name="path">The manifest file (the user's).</param>
    /// <param name="bytes">Its bytes, for <see cref="Digest"/>.</param>
    /// <param name="problem">What is wrong with it, naming the member, when the result is <see langword="null"/>.</param>
    public static List<FileGrant>? Read(string path, out byte[] bytes, out string? problem)
    {
        bytes = [];
        try
        {
            bytes = Files.RegularFile.ReadAll(path, MaxSize);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"--manifest {path}: {e.Message}";
            return null;
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(bytes);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("version", out JsonElement version) || version.ValueKind != JsonValueKind.Number || version.GetInt32() != Version
                || !root.TryGetProperty("files", out JsonElement files) || files.ValueKind != JsonValueKind.Array)
            {
                problem = $"--manifest {path}: not a Donjon library manifest (an object with \"version\": {Version} and a \"files\" array); make it with `donjon measure --manifest {path} PROGRAM`";
                return null;
            }

            var grants = new List<FileGrant>();
            int index = 0;
            foreach (JsonElement file in files.EnumerateArray())
            {
                string? host = file.ValueKind == JsonValueKind.Object && file.TryGetProperty("host", out JsonElement h) && h.ValueKind == JsonValueKind.String ? h.GetString() : null;
                string? keep = file.ValueKind == JsonValueKind.Object && file.TryGetProperty("keep", out JsonElement k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
                string? sha256 = file.ValueKind == JsonValueKind.Object && file.TryGetProperty("sha256", out JsonElement d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                string? access = file.ValueKind == JsonValueKind.Object && file.TryGetProperty("access", out JsonElement a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
                if (host is null || keep is null || sha256 is null || access != "read" || sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigitLower))
                {
                    problem = $"--manifest {path}: files[{index}] is not {{ \"host\", \"keep\", \"access\": \"read\", \"sha256\": 64 lowercase hex digits }}; make the manifest again with `donjon measure --manifest`";
                    return null;
                }

                grants.Add(new FileGrant(host, FileGrantAccess.Read) { KeepPath = keep, Sha256 = sha256 });
                index++;
            }

            problem = null;
            return grants;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            problem = $"--manifest {path}: not valid JSON ({e.Message}); make it with `donjon measure --manifest {path} PROGRAM`";
            return null;
        }
    }

    private static void WriteGrant(Utf8JsonWriter writer, string host, string keep, string sha256)
    {
        writer.WriteStartObject();
        writer.WriteString("host", host);
        writer.WriteString("keep", keep);
        writer.WriteString("access", "read");
        writer.WriteString("sha256", sha256);
        writer.WriteEndObject();
    }
}
