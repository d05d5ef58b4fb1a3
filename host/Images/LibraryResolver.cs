using Donjon.Host.Elf;

namespace Donjon.Host.Images;

/// <summary>
/// Resolves a dynamic program's <c>DT_NEEDED</c> closure the way glibc's interpreter will inside the keep, through the
/// keep's mounts (<see cref="KeepFileView"/>): for each needed name, <c>DT_RPATH</c> (of the object that needs it, when
/// it has no <c>DT_RUNPATH</c>, then of the program), <c>LD_LIBRARY_PATH</c> from the keep's environment,
/// <c>DT_RUNPATH</c> of the object that needs it, the keep's <c>/etc/ld.so.cache</c> when a mount shows one
/// (<see cref="LdSoCache"/>), then the system search path of Debian's x86-64 glibc. <c>$ORIGIN</c> is the keep folder
/// of the object. The first file found that is an x86-64 ELF64 is the one the interpreter loads.
/// </summary>
/// <remarks>
/// Not followed: the <c>glibc-hwcaps</c> subfolders (the cache's hardware-capability entries are skipped too),
/// <c>DF_1_NODEFLIB</c>, and <c>LD_PRELOAD</c>. Every name and path is untrusted: each comes from a file's headers.
/// </remarks>
internal static class LibraryResolver
{
    /// <summary>The interpreter's own search path, after the paths the objects and the environment give (Debian, x86-64).</summary>
    public static readonly string[] SystemSearchPath = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"];

    /// <summary>Where the interpreter reads its cache, in the keep.</summary>
    public const string CachePath = "/etc/ld.so.cache";

    /// <summary>The most libraries one closure may hold, so a hostile file cannot make the walk long.</summary>
    public const int MaxLibraryCount = 512;

    /// <summary>Resolves the closure of <paramref name="program"/>, whose keep path is <paramref name="programKeepPath"/>.</summary>
    /// <param name="program">The inspected program.</param>
    /// <param name="programKeepPath">Where the keep sees the program (for <c>$ORIGIN</c>); its host path when no mount shows it.</param>
    /// <param name="view">The keep's mounts.</param>
    /// <param name="environment">The keep's environment, <c>NAME=VALUE</c> (for <c>LD_LIBRARY_PATH</c>).</param>
    public static LibraryClosure Resolve(ElfReport program, string programKeepPath, KeepFileView view, IReadOnlyList<string> environment)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(view);
        string[] libraryPath = environment.FirstOrDefault(e => e.StartsWith("LD_LIBRARY_PATH=", StringComparison.Ordinal)) is { } assignment
            ? assignment["LD_LIBRARY_PATH=".Length..].Split(':', ';')
            : [];
        LdSoCache cache = view.Read(CachePath).Contents is { } cacheBytes ? LdSoCache.Parse(cacheBytes) : LdSoCache.Empty;
        var found = new List<ResolvedLibrary>();
        var problems = new List<LibraryProblem>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<(string Name, ElfReport NeededBy, string NeededByPath)>();
        foreach (string name in program.NeededLibraries)
        {
            queue.Enqueue((name, program, programKeepPath));
        }

        while (queue.Count > 0 && found.Count + problems.Count < MaxLibraryCount)
        {
            (string name, ElfReport neededBy, string neededByPath) = queue.Dequeue();
            if (!seen.Add(name))
            {
                continue;
            }

            List<string> candidates = Candidates(name, neededBy, neededByPath, program, programKeepPath, libraryPath, cache);
            ResolvedLibrary? library = null;
            KeepFileRead? refused = null;
            bool anyUngranted = false;
            foreach (string candidate in candidates)
            {
                KeepFileRead read = view.Read(candidate);
                anyUngranted |= read.IsUngranted;
                if (read.IsPinMismatch)
                {
                    refused = read;
                    break;
                }

                if (read.Contents is { } bytes && IsX86_64Elf64(bytes))
                {
                    ElfReport report = ElfInspector.Inspect(bytes, candidate);
                    library = new ResolvedLibrary(name, candidate, read.HostPath ?? candidate, report.Sha256, neededByPath, report);
                    break;
                }
            }

            if (library is not null)
            {
                found.Add(library);
                foreach (string next in library.Report.NeededLibraries)
                {
                    queue.Enqueue((next, library.Report, library.KeepPath));
                }
            }
            else
            {
                problems.Add(new LibraryProblem(name, neededByPath, candidates, anyUngranted, refused));
            }
        }

        return new LibraryClosure(found, problems);
    }

    /// <summary>Where the interpreter looks for <paramref name="name"/>, in order.</summary>
    private static List<string> Candidates(string name, ElfReport neededBy, string neededByPath, ElfReport program, string programPath, string[] libraryPath, LdSoCache cache)
    {
        if (name.Contains('/', StringComparison.Ordinal))
        {
            return [Normalise(name.StartsWith('/') ? name : "/" + name)];
        }

        var folders = new List<string>();
        if (neededBy.RunPath is null)
        {
            folders.AddRange(Split(neededBy.RPath, neededByPath));
            if (!ReferenceEquals(neededBy, program) && program.RunPath is null)
            {
                folders.AddRange(Split(program.RPath, programPath));
            }
        }

        folders.AddRange(libraryPath.Where(p => p.Length > 0));
        folders.AddRange(Split(neededBy.RunPath, neededByPath));
        List<string> candidates = folders.Where(f => f.StartsWith('/')).Select(f => Normalise(f.TrimEnd('/') + "/" + name)).ToList();
        if (cache.Lookup(name) is { } cached)
        {
            candidates.Add(Normalise(cached));
        }

        candidates.AddRange(SystemSearchPath.Select(f => f + "/" + name));
        return candidates.Distinct().ToList();
    }

    private static IEnumerable<string> Split(string? path, string objectPath)
    {
        if (path is null)
        {
            return [];
        }

        string origin = Path.GetDirectoryName(objectPath) ?? "/";
        return path.Split(':').Where(p => p.Length > 0).Select(p => p.Replace("${ORIGIN}", origin, StringComparison.Ordinal).Replace("$ORIGIN", origin, StringComparison.Ordinal));
    }

    /// <summary>Removes <c>.</c>, empty parts and <c>..</c> (lexically, as the keep's paths are normalised).</summary>
    private static string Normalise(string path)
    {
        var parts = new List<string>();
        foreach (string part in path.Split('/'))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                continue;
            }

            parts.Add(part);
        }

        return "/" + string.Join('/', parts);
    }

    private static bool IsX86_64Elf64(byte[] bytes) =>
        bytes.Length >= 64 && bytes[0] == 0x7f && bytes[1] == (byte)'E' && bytes[2] == (byte)'L' && bytes[3] == (byte)'F'
        && bytes[4] == 2 && bytes[5] == 1 && bytes[18] == 62 && bytes[19] == 0;
}

/// <summary>A dynamic program's libraries: the ones found, in load order, and the ones that could not be.</summary>
/// <param name="Libraries">Each library found, breadth-first from the program's <c>DT_NEEDED</c>, as the interpreter loads them.</param>
/// <param name="Problems">Each needed name no candidate satisfied.</param>
internal sealed record LibraryClosure(IReadOnlyList<ResolvedLibrary> Libraries, IReadOnlyList<LibraryProblem> Problems);

/// <summary>One library of a closure.</summary>
/// <param name="Name">The <c>DT_NEEDED</c> name.</param>
/// <param name="KeepPath">Where the keep finds it.</param>
/// <param name="HostPath">The host file behind it.</param>
/// <param name="Sha256">The SHA-256 of its bytes.</param>
/// <param name="NeededBy">The keep path of the object that needs it first.</param>
/// <param name="Report">Its inspection (for its own <c>DT_NEEDED</c> and run paths).</param>
internal sealed record ResolvedLibrary(string Name, string KeepPath, string HostPath, string Sha256, string NeededBy, ElfReport Report);

/// <summary>A needed library that the keep would not find.</summary>
/// <param name="Name">The <c>DT_NEEDED</c> name.</param>
/// <param name="NeededBy">The keep path of the object that needs it.</param>
/// <param name="Searched">The keep paths looked at, in order.</param>
/// <param name="Ungranted">Whether some of them lie outside every mount (a grant would help).</param>
/// <param name="Refused">The candidate whose pinned digest differs, when that is why.</param>
internal sealed record LibraryProblem(string Name, string NeededBy, IReadOnlyList<string> Searched, bool Ungranted, KeepFileRead? Refused)
{
    /// <summary>Where the library is on this host (the first candidate that exists there), if anywhere.</summary>
    public string? HostCandidate => Searched.FirstOrDefault(File.Exists);

    /// <summary>One line: which library, needed by what, why it is not there, and the grant that would give it.</summary>
    public string Describe()
    {
        if (Refused is { } refused)
        {
            return $"its library {refused.KeepPath} ({Name}, needed by {NeededBy}) differs from the trusted digest: {refused.Problem}; restore the library, or measure the program again with `donjon measure --manifest` and trust the new manifest";
        }

        string folders = string.Join(", ", Searched.Select(s => Path.GetDirectoryName(s) ?? "/").Distinct());
        string where = HostCandidate is { } host
            ? $"; it is {host} on this host: run with --libraries system, or add {KeepFileRead.GrantFor(Path.GetDirectoryName(host)!)} to policy.files"
            : "; it is in none of those folders on this host either: install it, or mount the folder that holds it read-only and add it to LD_LIBRARY_PATH (--env)";
        return Ungranted
            ? $"its library {Name} (DT_NEEDED of {NeededBy}) is not granted to the keep: the interpreter searches {folders}, and no mount of policy.files holds it there{where}"
            : $"its library {Name} (DT_NEEDED of {NeededBy}) is missing: the interpreter searches {folders} in the keep and none holds it{where}";
    }
}
