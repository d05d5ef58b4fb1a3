namespace Donjon.Tests.Support;

/// <summary>Paths inside the repository the tests run from.</summary>
internal static class Repository
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (DirectoryInfo? folder = new(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Donjon.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"no Donjon.sln above {AppContext.BaseDirectory}");
    });

    public static string Root => RootPath.Value;

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>The built assembly of a fixture plugin under tests/fixtures/plugins.</summary>
    public static string FixturePlugin(string name) => PathOf($"tests/fixtures/plugins/{name}/bin/{name}.dll");
}
