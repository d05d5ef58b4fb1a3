using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;

namespace Donjon.Conformance;

/// <summary>
/// The suites' workloads: C sources carried inside this assembly, built with <c>gcc -O2 -static-pie</c> (glibc) the
/// first time a test needs one, into a folder under the temporary directory named by the source's digest.
/// </summary>
public static class ConformanceWorkloads
{
    private static readonly Lock BuildLock = new();

    /// <summary>The names of the workloads this assembly carries (without <c>.c</c>).</summary>
    public static IReadOnlyList<string> Names { get; } = typeof(ConformanceWorkloads).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".c", StringComparison.Ordinal))
        .Select(n => n[Prefix.Length..^2]).Order(StringComparer.Ordinal).ToArray();

    private const string Prefix = "Donjon.Conformance.Workloads.";

    /// <summary>Builds workload <paramref name="name"/> (once) and returns the static-PIE program's path.</summary>
    /// <param name="name">One of <see cref="Names"/>.</param>
    /// <returns>The program.</returns>
    /// <exception cref="InvalidOperationException">gcc is missing or failed, or the result is not a static PIE.</exception>
    public static string Build(string name)
    {
        using Stream source = typeof(ConformanceWorkloads).Assembly.GetManifestResourceStream(Prefix + name + ".c")
            ?? throw new ArgumentException($"no conformance workload '{name}' (there are: {string.Join(", ", Names)})", nameof(name));
        using var buffer = new MemoryStream();
        source.CopyTo(buffer);
        return BuildSource(name, buffer.ToArray());
    }

    /// <summary>Builds a C source of the caller's (for example a workload that calls a new syscall set's syscall).</summary>
    /// <param name="name">A name for the program.</param>
    /// <param name="source">The C source.</param>
    /// <returns>The static-PIE program's path.</returns>
    public static string BuildSource(string name, byte[] source)
    {
        ArgumentNullException.ThrowIfNull(source);
        string digest = Convert.ToHexStringLower(SHA256.HashData(source))[..16];
        string directory = Path.Combine(Path.GetTempPath(), "donjon-conformance", digest);
        string program = Path.Combine(directory, name);
        lock (BuildLock)
        {
            if (File.Exists(program))
            {
                return program;
            }

            Directory.CreateDirectory(directory);
            string file = Path.Combine(directory, name + ".c");
            File.WriteAllBytes(file, source);
            var info = new ProcessStartInfo("gcc") { ArgumentList = { "-O2", "-static-pie", "-pthread", "-o", program + ".tmp", file }, RedirectStandardError = true, UseShellExecute = false };
            Process gcc;
            try
            {
                gcc = Process.Start(info)!;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException($"gcc is needed to build the conformance workloads ({e.Message}): install gcc and libc6-dev", e);
            }

            using (gcc)
            {
                string errors = gcc.StandardError.ReadToEnd();
                gcc.WaitForExit();
                if (gcc.ExitCode != 0)
                {
                    throw new InvalidOperationException($"gcc failed on {file}: {errors}");
                }
            }

            CheckStaticPie(program + ".tmp");
            File.Move(program + ".tmp", program, overwrite: true);
            return program;
        }
    }

    /// <summary>Checks that <paramref name="path"/> is an x86-64 ET_DYN ELF with no PT_INTERP: what a keep runs.</summary>
    /// <param name="path">The program.</param>
    /// <exception cref="InvalidOperationException">It is something else; the message says what.</exception>
    public static void CheckStaticPie(string path)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7F || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F' || elf[4] != 2)
        {
            throw new InvalidOperationException($"{path} is not a 64-bit ELF file");
        }

        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(16));
        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(18));
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(32));
        ushort phentsize = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(54));
        ushort phnum = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(56));
        if (type != 3 || machine != 62)
        {
            throw new InvalidOperationException($"{path}: e_type {type}, e_machine {machine}; a keep runs an x86-64 ET_DYN (3) static PIE");
        }

        for (int i = 0; i < phnum; i++)
        {
            ulong at = phoff + ((ulong)i * phentsize);
            if (at + 4 <= (ulong)elf.Length && BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan((int)at)) == 3)
            {
                throw new InvalidOperationException($"{path} has a PT_INTERP: it is a dynamic PIE, not a static one");
            }
        }
    }
}
