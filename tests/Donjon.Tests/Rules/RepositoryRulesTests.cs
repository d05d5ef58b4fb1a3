using System.Text.RegularExpressions;

using Donjon.Tests.Support;

namespace Donjon.Tests.Rules;

/// <summary>The repository's own rules, enforced as tests (as Firecracker does).</summary>
public sealed partial class RepositoryRulesTests
{
    private static IEnumerable<string> SourceFiles(string folder) =>
        Directory.EnumerateFiles(Repository.PathOf(folder), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal));

    [Fact]
    public void The_top_level_layout_is_the_fixed_one()
    {
        foreach (string entry in new[] { "host", "abstractions", "plugins", "asm", "tests", "docs", "bench", ".ci" })
        {
            Directory.Exists(Repository.PathOf(entry)).Should().BeTrue($"{entry}/ is part of the fixed layout");
        }

        foreach (string file in new[] { "plugins.json", "README.md", ".ci/run", "docs/protocol.md", "docs/contract.md" })
        {
            File.Exists(Repository.PathOf(file)).Should().BeTrue($"{file} is part of the fixed layout");
        }
    }

    [Fact]
    public void Every_plugin_folder_has_a_readme()
    {
        var folders = Directory.EnumerateDirectories(Repository.PathOf("plugins/backends"))
            .Concat(Directory.EnumerateDirectories(Repository.PathOf("plugins/syscalls")))
            .Concat(Directory.EnumerateDirectories(Repository.PathOf("plugins/exec")))
            .Where(d => Directory.EnumerateFiles(d, "*.csproj").Any());
        folders.Should().NotBeEmpty();
        foreach (string folder in folders)
        {
            File.Exists(Path.Combine(folder, "README.md")).Should().BeTrue($"{folder} is a plugin and needs a README");
        }
    }

    [Fact]
    public void Interop_files_declare_one_library_import_each()
    {
        var files = SourceFiles("host").Concat(SourceFiles("plugins"))
            .Where(f => f.Contains("/Interop/", StringComparison.Ordinal)).ToList();
        files.Should().NotBeEmpty();
        foreach (string file in files)
        {
            int imports = LibraryImport().Count(File.ReadAllText(file));
            imports.Should().BeLessThanOrEqualTo(1, $"{file} must declare one LibraryImport");
        }
    }

    [Fact]
    public void Library_imports_live_under_Interop()
    {
        foreach (string file in SourceFiles("host").Concat(SourceFiles("plugins")))
        {
            if (LibraryImport().IsMatch(File.ReadAllText(file)))
            {
                file.Should().Contain("/Interop/", "LibraryImport declarations live in Interop/ folders, one per file");
            }
        }
    }

    [Fact]
    public void Files_with_unsafe_code_explain_it_with_SAFETY_comments()
    {
        foreach (string file in SourceFiles("host").Concat(SourceFiles("plugins")).Concat(SourceFiles("abstractions")))
        {
            string text = File.ReadAllText(file);
            bool hasUnsafeCode = UnsafeCode().IsMatch(text);
            if (hasUnsafeCode)
            {
                text.Should().Contain("// SAFETY:", $"{file} has unsafe code, and every unsafe block says why it is sound");
            }
        }
    }

    [Fact]
    public void The_abstractions_hold_contracts_only()
    {
        foreach (string file in SourceFiles("abstractions"))
        {
            string text = File.ReadAllText(file);
            text.Should().NotContain("unsafe", $"{file}: the contract has no unsafe code");
            text.Should().NotContain("LibraryImport", $"{file}: the contract calls nothing native");
        }
    }

    [GeneratedRegex(@"\[LibraryImport\(")]
    private static partial Regex LibraryImport();

    // An unsafe block or member, not the "unsafe partial" signature of a generated import.
    [GeneratedRegex(@"\bunsafe\b(?!\s+partial)")]
    private static partial Regex UnsafeCode();
}
