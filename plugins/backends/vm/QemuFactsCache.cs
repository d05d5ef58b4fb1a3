using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Donjon.Backends.Vm;

/// <summary>
/// QEMU's answers to the backend's queries (<see cref="QemuInstallation"/>), kept per QEMU binary so that a run does
/// not start QEMU four times before the keep's own QEMU: one JSON file per binary in the cache folder, keyed by the
/// binary's full path, size and modification time, so that an upgraded or replaced QEMU is asked again. The folder is
/// <c>DONJON_CACHE_DIR</c>, else <c>$XDG_CACHE_HOME/donjon</c>, else <c>~/.cache/donjon</c>; an empty
/// <c>DONJON_CACHE_DIR</c> is taken as unset, and <c>DONJON_CACHE_DIR=off</c> turns the cache off. A file that
/// cannot be read, is malformed or belongs to another key is ignored and rewritten; writes go to a temporary file that
/// replaces the old one, so that a reader never sees half a file. Only complete sets of answers are kept.
/// </summary>
/// <remarks>
/// The file is not trusted further than the binary's own answers would be, and less where it matters: an answer that
/// would turn a protection off (no <c>-sandbox</c>) is never kept and never believed from a file
/// (<see cref="QemuInstallation"/> asks QEMU itself then), so that a forged or stale file can only make a run fail,
/// never run a keep with less isolation. The temporary file is made with <c>O_CREAT | O_EXCL</c> under a random
/// name (never through a link planted there), and the folder is made private to its owner (mode 0700).
/// </remarks>
internal static class QemuFactsCache
{
    /// <summary>The file's format; a file of another is ignored.</summary>
    private const int Format = 1;

    /// <summary>The folder of the cache files, or <see langword="null"/> when there is none (turned off, no home).</summary>
    public static string? Folder()
    {
        string? configured = Environment.GetEnvironmentVariable("DONJON_CACHE_DIR");
        if (!string.IsNullOrEmpty(configured))
        {
            return configured == "off" ? null : configured;
        }

        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, "donjon");
        }

        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".cache", "donjon");
    }

    /// <summary>The cache file of the binary at <paramref name="qemuPath"/> (a full path), or null without a folder.</summary>
    public static string? FileOf(string qemuPath)
    {
        string? folder = Folder();
        if (folder is null)
        {
            return null;
        }

        string digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(qemuPath)))[..16];
        return Path.Combine(folder, $"qemu-{digest}.json");
    }

    /// <summary>The binary's key: full path, size and modification time; null when it cannot be read.</summary>
    public static string? KeyOf(string qemuPath)
    {
        try
        {
            var info = new FileInfo(qemuPath);
            return info.Exists
                ? string.Create(CultureInfo.InvariantCulture, $"{qemuPath}|{info.Length}|{info.LastWriteTimeUtc.Ticks}")
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The answers kept for the binary as it is now, or null.</summary>
    /// <param name="qemuPath">The binary's full path.</param>
    /// <param name="count">How many answers are expected.</param>
    public static (string Output, string? Problem)[]? TryRead(string qemuPath, int count)
    {
        string? file = FileOf(qemuPath);
        string? key = KeyOf(qemuPath);
        if (file is null || key is null)
        {
            return null;
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(file));
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("format", out JsonElement format) || format.ValueKind != JsonValueKind.Number || format.GetInt32() != Format
                || !root.TryGetProperty("key", out JsonElement stored) || stored.ValueKind != JsonValueKind.String || stored.GetString() != key
                || !root.TryGetProperty("answers", out JsonElement answers) || answers.ValueKind != JsonValueKind.Array || answers.GetArrayLength() != count)
            {
                return null;
            }

            var result = new (string Output, string? Problem)[count];
            int i = 0;
            foreach (JsonElement answer in answers.EnumerateArray())
            {
                if (answer.ValueKind != JsonValueKind.Object
                    || !answer.TryGetProperty("output", out JsonElement output) || output.ValueKind != JsonValueKind.String
                    || !answer.TryGetProperty("problem", out JsonElement problem) || problem.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                {
                    return null;
                }

                result[i++] = (output.GetString()!, problem.ValueKind == JsonValueKind.Null ? null : problem.GetString());
            }

            return result;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Keeps the answers for the binary as it is now; failures are ignored (the next run asks QEMU again).</summary>
    /// <param name="qemuPath">The binary's full path.</param>
    /// <param name="answers">The answers, in the order the reader expects them.</param>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public static void Write(string qemuPath, IReadOnlyList<(string Output, string? Problem)> answers)
    {
        string? file = FileOf(qemuPath);
        string? key = KeyOf(qemuPath);
        if (file is null || key is null)
        {
            return;
        }

        // A name no other writer can have guessed, made only if nothing is there (O_EXCL): a link or a file planted
        // at it makes this write fail, never write through it.
        string temporary = file + "." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)) + ".tmp";
        bool made = false;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            using (var stream = new FileStream(temporary, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
            using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                made = true;
                writer.WriteStartObject();
                writer.WriteNumber("format", Format);
                writer.WriteString("key", key);
                writer.WriteStartArray("answers");
                foreach ((string output, string? problem) in answers)
                {
                    writer.WriteStartObject();
                    writer.WriteString("output", output);
                    if (problem is null)
                    {
                        writer.WriteNull("problem");
                    }
                    else
                    {
                        writer.WriteString("problem", problem);
                    }

                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            File.Move(temporary, file, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (!made)
            {
                return;   // nothing of ours to remove: whatever is at that name is not this writer's
            }

            try
            {
                File.Delete(temporary);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // Nothing more to do: the cache is an optimisation.
            }
        }
    }
}
