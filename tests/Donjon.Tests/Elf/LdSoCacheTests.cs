using System.Buffers.Binary;
using System.Text.RegularExpressions;
using Donjon.Host.Images;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Elf;

/// <summary>
/// <see cref="LdSoCache"/> against glibc's own reader (<c>ldconfig -p</c>) on this machine's cache and on caches that
/// <c>ldconfig</c> writes, and against damaged and hostile files, which must give an empty or partial cache and never
/// an exception.
/// </summary>
public sealed partial class LdSoCacheTests : IDisposable
{
    private const string Ldconfig = "/usr/sbin/ldconfig";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_machines_cache_gives_what_ldconfig_p_prints_for_every_x86_64_entry()
    {
        var expected = LdconfigPrint("/etc/ld.so.cache");
        expected.Should().NotBeEmpty("this machine's cache lists libc at least");

        LdSoCache cache = LdSoCache.Parse(File.ReadAllBytes("/etc/ld.so.cache"));

        cache.Count.Should().Be(expected.Count);
        foreach ((string name, string path) in expected)
        {
            cache.Lookup(name).Should().Be(path, $"ldconfig -p maps {name} to {path}");
        }

        cache.Lookup("libdoes-not-exist.so.9").Should().BeNull();
    }

    [Fact]
    public void A_cache_that_ldconfig_writes_for_a_folder_of_its_own_lists_that_folders_library()
    {
        (string folder, string cacheFile) = CustomCache();

        LdSoCache cache = LdSoCache.Parse(File.ReadAllBytes(cacheFile));

        cache.Lookup("libdonjoncache.so.1").Should().Be(Path.Combine(folder, "libdonjoncache.so.1"));
        LdconfigPrint(cacheFile).Should().Contain(new KeyValuePair<string, string>("libdonjoncache.so.1", Path.Combine(folder, "libdonjoncache.so.1")));
    }

    [Fact]
    public void The_resolver_consults_the_keeps_cache_after_the_run_paths_and_before_the_default_folders()
    {
        (string folder, string cacheFile) = CustomCache();
        string program = BuildProgram(folder);
        var grants = new List<Donjon.Abstractions.Sessions.FileGrant>
        {
            new(folder, Donjon.Abstractions.Sessions.FileGrantAccess.Read),
            new("/lib/x86_64-linux-gnu", Donjon.Abstractions.Sessions.FileGrantAccess.Read),
        };
        var report = Donjon.Host.Elf.ElfInspector.Inspect(File.ReadAllBytes(program), program);

        var without = LibraryResolver.Resolve(report, program, new KeepFileView(grants), []);
        without.Problems.Select(p => p.Name).Should().Equal(["libdonjoncache.so.1"], "no cache is granted, and the folder is on no search path");

        grants.Add(new(cacheFile, Donjon.Abstractions.Sessions.FileGrantAccess.Read) { KeepPath = LibraryResolver.CachePath });
        var with = LibraryResolver.Resolve(report, program, new KeepFileView(grants), []);
        with.Problems.Should().BeEmpty();
        with.Libraries.Should().Contain(l => l.Name == "libdonjoncache.so.1" && l.KeepPath == Path.Combine(folder, "libdonjoncache.so.1"));
    }

    [Fact]
    public void Every_truncation_and_byte_flip_of_a_real_cache_parses_without_an_exception()
    {
        byte[] real = File.ReadAllBytes("/etc/ld.so.cache");
        int full = LdSoCache.Parse(real).Count;
        for (int length = 0; length < Math.Min(real.Length, 2048); length++)
        {
            LdSoCache.Parse(real.AsSpan(0, length)).Count.Should().BeLessThanOrEqualTo(full);
        }

        var random = new Random(20261202);
        for (int round = 0; round < 3000; round++)
        {
            byte[] mutated = (byte[])real.Clone();
            for (int flips = random.Next(1, 8); flips > 0; flips--)
            {
                // Mostly the header and the table, where counts and offsets live.
                int at = random.Next(2) == 0 ? random.Next(Math.Min(mutated.Length, 4096)) : random.Next(mutated.Length);
                mutated[at] = (byte)random.Next(256);
            }

            LdSoCache cache = LdSoCache.Parse(mutated);
            cache.Count.Should().BeLessThanOrEqualTo(LdSoCache.MaxEntryCount);
        }

        for (int round = 0; round < 500; round++)
        {
            byte[] noise = new byte[random.Next(0, 512)];
            random.NextBytes(noise);
            LdSoCache.Parse(noise).Count.Should().Be(0, "random bytes carry no magic");
        }
    }

    [Fact]
    public void A_hostile_count_or_offset_is_refused_rather_than_followed()
    {
        byte[] real = File.ReadAllBytes("/etc/ld.so.cache");
        int start = real.AsSpan().IndexOf("glibc-ld.so.cache1.1"u8);
        start.Should().BeGreaterThanOrEqualTo(0);

        byte[] huge = (byte[])real.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(huge.AsSpan(start + 20), uint.MaxValue);
        LdSoCache.Parse(huge).Count.Should().Be(0, "a table larger than the file is not read");

        byte[] pointing = (byte[])real.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(pointing.AsSpan(start + 48 + 4), uint.MaxValue); // the first entry's key
        BinaryPrimitives.WriteUInt32LittleEndian(pointing.AsSpan(start + 48 + 8), (uint)(pointing.Length - start - 1)); // and its value: the last byte
        LdSoCache parsed = LdSoCache.Parse(pointing);
        parsed.Count.Should().Be(LdSoCache.Parse(real).Count - 1, "only the entry with the offset outside the file is dropped");

        byte[] unterminated = (byte[])real.Clone();
        unterminated[^1] = (byte)'x'; // the last string loses its NUL
        LdSoCache.Parse(unterminated).Count.Should().BeLessThanOrEqualTo(LdSoCache.Parse(real).Count);
    }

    /// <summary>A folder holding <c>libdonjoncache.so.1</c>, and a cache <c>ldconfig</c> built for it (and the trusted folders).</summary>
    private (string Folder, string CacheFile) CustomCache()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_dir.Path, "custom-libs")).FullName;
        string source = _dir.Write("answer.c", "int donjon_cache_answer(void) { return 42; }\n");
        ToolRunner.RunChecked("gcc", "-O2", "-shared", "-fPIC", "-Wl,-soname,libdonjoncache.so.1", "-o", Path.Combine(folder, "libdonjoncache.so.1"), source);
        string conf = _dir.Write("ld.so.conf", folder + "\n");
        string cacheFile = Path.Combine(_dir.Path, "ld.so.cache");
        ToolRunner.RunChecked(Ldconfig, "-X", "-C", cacheFile, "-f", conf);
        return (folder, cacheFile);
    }

    /// <summary>A dynamic program that needs <c>libdonjoncache.so.1</c> and prints its answer.</summary>
    private string BuildProgram(string folder)
    {
        string source = _dir.Write("main.c", "#include <stdio.h>\nint donjon_cache_answer(void);\nint main(void) { printf(\"answer %d\\n\", donjon_cache_answer()); return 0; }\n");
        string program = Path.Combine(_dir.Path, "uses-cache");
        ToolRunner.RunChecked("gcc", "-O2", "-o", program, source, "-L" + folder, "-l:libdonjoncache.so.1");
        return program;
    }

    /// <summary>What glibc's <c>ldconfig -p</c> prints for <paramref name="cacheFile"/>: the first x86-64 entry per name.</summary>
    internal static Dictionary<string, string> LdconfigPrint(string cacheFile)
    {
        var result = ToolRunner.RunChecked(Ldconfig, "-p", "-C", cacheFile);
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in result.Split('\n'))
        {
            Match match = EntryLine().Match(line);
            if (match.Success)
            {
                entries.TryAdd(match.Groups[1].Value, match.Groups[2].Value);
            }
        }

        return entries;
    }

    [GeneratedRegex(@"^\t(\S+) \(libc6,x86-64(?:, OS ABI: [^)]*)?\) => (\S+)$")]
    private static partial Regex EntryLine();
}
