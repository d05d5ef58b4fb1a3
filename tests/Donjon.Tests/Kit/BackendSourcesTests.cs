using System.Xml.Linq;
using Donjon.Tests.Support;

namespace Donjon.Tests.Kit;

/// <summary>Issue 14's "the in-tree backends link no host source file": each backend builds from its own sources and the packages only.</summary>
public sealed class BackendSourcesTests
{
    public static TheoryData<string> Backends() =>
        new(Directory.GetDirectories(Repository.PathOf("plugins/backends")).Select(Path.GetFileName).Where(name => name is not null).Select(name => name!).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_backend_compiles_no_source_from_outside_its_folder_and_references_no_host_project(string backend)
    {
        string folder = Repository.PathOf($"plugins/backends/{backend}");
        string[] projects = Directory.GetFiles(folder, "*.csproj");
        projects.Should().ContainSingle($"plugins/backends/{backend} has one project");
        XDocument project = XDocument.Load(projects[0]);

        var compiled = project.Descendants().Where(e => e.Name.LocalName == "Compile").Select(e => (string?)e.Attribute("Include") ?? string.Empty).ToList();
        compiled.Should().NotContain(include => include.Contains("..", StringComparison.Ordinal) || include.Contains("host/", StringComparison.Ordinal) || include.Contains("$(DonjonRoot)", StringComparison.Ordinal),
            "a backend's sources are its own; shared code comes from Donjon.Backends.Sdk");

        var referenced = project.Descendants().Where(e => e.Name.LocalName == "ProjectReference").Select(e => (string?)e.Attribute("Include") ?? string.Empty).ToList();
        referenced.Should().OnlyContain(include => include.EndsWith("sdk/Donjon.Backends.Sdk/Donjon.Backends.Sdk.csproj", StringComparison.Ordinal) || include.EndsWith("abstractions/Donjon.Abstractions.csproj", StringComparison.Ordinal),
            "a backend references the contract and the SDK, never the host");
    }
}
