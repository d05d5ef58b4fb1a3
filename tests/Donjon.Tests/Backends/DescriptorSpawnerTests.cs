using System.Globalization;
using Donjon.Backends.Sdk.Spawning;
using Donjon.Tests.Support;

namespace Donjon.Tests.Backends;

/// <summary>The SDK's spawner: the child has exactly the descriptors it is given, at their numbers, in a session of its own.</summary>
public sealed class DescriptorSpawnerTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_child_gets_each_descriptor_at_its_number_and_nothing_else()
    {
        string three = _dir.Write("three", "the third\n");
        string four = _dir.Write("four", "the fourth\n");
        string output = Path.Combine(_dir.Path, "output");
        using var third = File.OpenHandle(three);
        using var fourth = File.OpenHandle(four);
        using var written = File.OpenHandle(output, FileMode.CreateNew, FileAccess.Write);
        using var unplaced = File.OpenHandle(three);
        int unplacedNumber = (int)unplaced.DangerousGetHandle();

        // 4 comes from the descriptor that 3 comes from in the other map entry's place: sources and targets cross.
        int pid = DescriptorSpawner.Spawn(
            "/bin/sh",
            ["sh", "-c", $"cat <&3; cat <&4; for n in 0 5 {unplacedNumber}; do if (: <&$n) 2>/dev/null; then echo $n open; else echo $n closed; fi; done; echo \"env=$FOO\"; cut -d' ' -f6 /proc/self/stat"],
            ["FOO=bar"],
            new Dictionary<int, int>
            {
                [3] = (int)third.DangerousGetHandle(),
                [4] = (int)fourth.DangerousGetHandle(),
                [1] = (int)written.DangerousGetHandle(),
            });

        // The child is not the test's to reap (.NET reaps it): its output file says when it is done.
        string text = "";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (text.Count(c => c == '\n') < 7 && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(20);
            text = File.ReadAllText(output);
        }

        text.Should().Be(
            "the third\nthe fourth\n0 open\n5 closed\n" + unplacedNumber.ToString(CultureInfo.InvariantCulture) + " closed\nenv=bar\n"
            + pid.ToString(CultureInfo.InvariantCulture) + "\n",
            "0 is /dev/null, 5 and the host's own descriptor are not inherited, and the child leads its own session");
    }

    [Fact]
    public void A_source_that_is_not_open_is_an_error_that_names_it()
    {
        var spawn = () => DescriptorSpawner.Spawn("/bin/true", ["true"], [], new Dictionary<int, int> { [3] = 987_654 });
        spawn.Should().Throw<IOException>().WithMessage("*descriptor 3 from host descriptor 987654*");
    }
}
