using System.Text;
using Donjon.Syscalls.Files;

namespace Donjon.Tests.Syscalls;

/// <summary>The files set's keep-path normaliser, by examples and by fuzzing against a reference model.</summary>
public sealed class KeepPathTests
{
    [Theory]
    [InlineData("/", "/", "/", true)]
    [InlineData("/", "/a/b/c", "/a/b/c", false)]
    [InlineData("/", "//a///b/", "/a/b", true)]
    [InlineData("/", "/a/./b/.", "/a/b", true)]
    [InlineData("/", "/a/../../../../b", "/b", false)]
    [InlineData("/", "/..", "/", true)]
    [InlineData("/work", "file", "/work/file", false)]
    [InlineData("/work/sub", "../x", "/work/x", false)]
    [InlineData("/work/sub", "../../../../etc/passwd", "/etc/passwd", false)]
    [InlineData("/work", ".", "/work", true)]
    [InlineData("/work", "..", "/", true)]
    [InlineData("/work", "a/..", "/work", true)]
    public void Examples(string baseDirectory, string path, string expected, bool mustBeDirectory)
    {
        KeepPaths.Normalise(baseDirectory, Encoding.UTF8.GetBytes(path), out bool directory).Should().Be(expected);
        directory.Should().Be(mustBeDirectory);
    }

    [Fact]
    public void A_path_longer_than_PATH_MAX_is_refused()
    {
        KeepPaths.Normalise("/", Encoding.ASCII.GetBytes("/" + new string('a', 4096)), out _).Should().BeNull();
        KeepPaths.Normalise("/", Encoding.ASCII.GetBytes("/" + new string('a', 4094)), out _).Should().NotBeNull();
    }

    [Fact]
    public void Mount_lookup_matches_whole_components()
    {
        KeepPaths.IsBeneath("/data", "/data", out string same).Should().BeTrue();
        same.Should().Be(".");
        KeepPaths.IsBeneath("/data", "/data/a/b", out string below).Should().BeTrue();
        below.Should().Be("a/b");
        KeepPaths.IsBeneath("/data", "/database", out _).Should().BeFalse("a prefix of a name is not a parent");
        KeepPaths.IsBeneath("/", "/x/y", out string root).Should().BeTrue();
        root.Should().Be("x/y");
    }

    [Fact]
    public void Fuzzed_paths_normalise_to_clean_absolute_paths_the_reference_model_agrees_with()
    {
        var random = new Random(20261201);
        byte[] alphabet = "/./.././ab\u00ff\u0001"u8.ToArray();
        for (int round = 0; round < 20000; round++)
        {
            byte[] path = new byte[random.Next(1, 40)];
            for (int i = 0; i < path.Length; i++)
            {
                path[i] = random.Next(8) == 0 ? (byte)random.Next(1, 256) : alphabet[random.Next(alphabet.Length)];
            }

            string baseDirectory = random.Next(2) == 0 ? "/" : "/w/x";
            string? normalised = KeepPaths.Normalise(baseDirectory, path, out _);
            normalised.Should().NotBeNull();
            normalised!.Should().StartWith("/");
            if (normalised.Length > 1)
            {
                normalised.Should().NotEndWith("/");
                normalised.Split('/').Skip(1).Should().NotContain(part => part.Length == 0 || part == "." || part == "..", Encoding.Latin1.GetString(path));
            }

            normalised.Should().Be(Reference(baseDirectory, path), Encoding.Latin1.GetString(path));
            KeepPaths.Normalise("/", Encoding.Latin1.GetBytes(normalised), out _).Should().Be(normalised, "normalising twice changes nothing");
            KeepPaths.Normalise("/", KeepPaths.ToHost(normalised).AsSpan(0, normalised.Length), out _).Should().Be(normalised, "a keep path's bytes round-trip");
        }
    }

    /// <summary>A plain model: a stack of components.</summary>
    private static string Reference(string baseDirectory, byte[] path)
    {
        string text = Encoding.Latin1.GetString(path);
        var stack = new Stack<string>();
        if (!text.StartsWith('/'))
        {
            foreach (string part in baseDirectory.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                stack.Push(part);
            }
        }

        foreach (string part in text.Split('/'))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                stack.TryPop(out _);
            }
            else
            {
                stack.Push(part);
            }
        }

        return "/" + string.Join('/', stack.Reverse());
    }
}
