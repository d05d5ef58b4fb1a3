using Donjon.Abstractions.Sessions;
using Donjon.Host.Sessions;
using Microsoft.Extensions.Logging.Abstractions;

namespace Donjon.Tests.Execution;

/// <summary>The keep's descriptor table (host/Sessions), the open files and the session.</summary>
public sealed class FileDescriptorTableTests
{
    private sealed class CountingFile(string name) : IOpenFile
    {
        private int _disposals;

        public int Disposals => Volatile.Read(ref _disposals);

        public int HostDescriptor => -1;

        public string Description => name;

        public void Dispose() => Interlocked.Increment(ref _disposals);
    }

    [Fact]
    public void Add_gives_the_lowest_free_number()
    {
        var table = new FileDescriptorTable(16);
        var files = Enumerable.Range(0, 5).Select(i => new CountingFile($"f{i}")).ToArray();
        files.Select(f => table.Add(f)).Should().Equal(0, 1, 2, 3, 4);
        table.Close(1).Should().BeTrue();
        table.Close(3).Should().BeTrue();
        table.Add(new CountingFile("a")).Should().Be(1);
        table.Add(new CountingFile("b")).Should().Be(3);
        table.Add(new CountingFile("c")).Should().Be(5);
    }

    [Fact]
    public void Add_respects_the_lowest_number_asked_for()
    {
        var table = new FileDescriptorTable(16);
        table.Add(new CountingFile("a"), lowest: 10).Should().Be(10);
        table.Add(new CountingFile("b"), lowest: 10).Should().Be(11);
        table.Add(new CountingFile("c")).Should().Be(0);
    }

    [Fact]
    public void A_full_table_gives_minus_one_and_leaves_the_file_to_the_caller()
    {
        var table = new FileDescriptorTable(2);
        table.Add(new CountingFile("a")).Should().Be(0);
        table.Add(new CountingFile("b")).Should().Be(1);
        var refused = new CountingFile("c");
        table.Add(refused).Should().Be(-1);
        refused.Disposals.Should().Be(0);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    [InlineData(16)]
    [InlineData(int.MaxValue)]
    public void Untrusted_descriptors_out_of_range_never_throw(int descriptor)
    {
        var table = new FileDescriptorTable(16);
        table.Add(new CountingFile("a"));
        table.TryGet(descriptor, out var file).Should().BeFalse();
        file.Should().BeNull();
        table.Close(descriptor).Should().BeFalse();
        table.Set(descriptor, new CountingFile("b")).Should().BeFalse();
        table.Add(new CountingFile("c"), descriptor).Should().Be(-1);
    }

    [Fact]
    public void Closing_an_unopened_descriptor_is_false()
    {
        var table = new FileDescriptorTable(16);
        table.Close(3).Should().BeFalse();
        table.Close(3000).Should().BeFalse();
    }

    [Fact]
    public void A_shared_file_is_disposed_when_its_last_number_closes()
    {
        var table = new FileDescriptorTable(16);
        var file = new CountingFile("shared");
        int first = table.Add(file);
        int second = table.Add(file);
        table.Set(9, file).Should().BeTrue();

        table.Close(first);
        table.Close(9);
        file.Disposals.Should().Be(0);
        table.TryGet(second, out var found).Should().BeTrue();
        found.Should().BeSameAs(file);

        table.Close(second);
        file.Disposals.Should().Be(1);
    }

    [Fact]
    public void A_released_file_is_never_taken_back()
    {
        var table = new FileDescriptorTable(16);
        var file = new CountingFile("f");
        table.Add(file).Should().Be(0);
        table.Close(0).Should().BeTrue();
        file.Disposals.Should().Be(1);

        // A dup that raced with the last close must not resurrect a disposed file.
        table.Add(file).Should().Be(-1);
        table.Set(3, file).Should().BeFalse();
        table.Count.Should().Be(0);
    }

    [Fact]
    public void Set_replaces_and_disposes_what_the_number_referred_to()
    {
        var table = new FileDescriptorTable(16);
        var old = new CountingFile("old");
        var replacement = new CountingFile("new");
        table.Add(old).Should().Be(0);
        table.Set(0, replacement).Should().BeTrue();
        old.Disposals.Should().Be(1);
        table.TryGet(0, out var found).Should().BeTrue();
        found.Should().BeSameAs(replacement);
    }

    [Fact]
    public void Set_to_the_same_file_changes_nothing()
    {
        var table = new FileDescriptorTable(16);
        var file = new CountingFile("f");
        table.Add(file);
        table.Set(0, file).Should().BeTrue();
        table.Close(0);
        file.Disposals.Should().Be(1);
        table.Count.Should().Be(0);
    }

    [Fact]
    public void Set_beyond_the_slots_used_so_far_works_up_to_the_limit()
    {
        var table = new FileDescriptorTable(100_000);
        table.Set(99_999, new CountingFile("far")).Should().BeTrue();
        table.TryGet(99_999, out _).Should().BeTrue();
        table.Add(new CountingFile("near")).Should().Be(0);
    }

    [Fact]
    public void Dispose_closes_every_file_once()
    {
        var table = new FileDescriptorTable(16);
        var a = new CountingFile("a");
        var b = new CountingFile("b");
        table.Add(a);
        table.Add(a);
        table.Add(b);
        table.Dispose();
        table.Dispose();
        a.Disposals.Should().Be(1);
        b.Disposals.Should().Be(1);
        table.Add(new CountingFile("late")).Should().Be(-1);
        table.TryGet(0, out _).Should().BeFalse();
    }

    [Fact]
    public void Concurrent_use_keeps_the_table_consistent()
    {
        var table = new FileDescriptorTable(64);
        var files = new System.Collections.Concurrent.ConcurrentBag<CountingFile>();
        Parallel.For(0, 8, worker =>
        {
            var random = new Random(worker);
            for (int i = 0; i < 20_000; i++)
            {
                int descriptor = random.Next(-2, 70);
                switch (random.Next(4))
                {
                    case 0:
                        var file = new CountingFile("x");
                        files.Add(file);
                        if (table.Add(file) < 0)
                        {
                            file.Dispose();
                        }

                        break;
                    case 1:
                        table.Close(descriptor);
                        break;
                    case 2:
                        if (table.TryGet(descriptor, out var existing))
                        {
                            table.Add(existing); // dup
                        }

                        break;
                    default:
                        var replacement = new CountingFile("y");
                        files.Add(replacement);
                        if (!table.Set(descriptor, replacement))
                        {
                            replacement.Dispose();
                        }

                        break;
                }
            }
        });

        int open = Enumerable.Range(0, 64).Count(d => table.TryGet(d, out _));
        table.Count.Should().Be(open);
        table.Dispose();
        files.Should().OnlyContain(f => f.Disposals == 1, "every file is disposed exactly once: when its last number closed, or at the end");
    }

    [Fact]
    public void A_session_starts_with_stdio_that_it_never_closes()
    {
        string path = Path.GetTempFileName();
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
            int fd = (int)handle.DangerousGetHandle();
            var policy = KeepPolicy.DenyAll;
            var session = new KeepSession(new("/bin/x", new string('0', 64), 1), policy, new KeepStdio(fd, fd, fd), NullLogger.Instance);

            session.Files.TryGet(0, out var stdin).Should().BeTrue();
            stdin!.Description.Should().Be("stdin");
            stdin.HostDescriptor.Should().Be(fd);
            session.Files.TryGet(1, out var stdout).Should().BeTrue();
            stdout!.Description.Should().Be("stdout");
            session.Files.TryGet(2, out _).Should().BeTrue();
            session.Files.Add(new HostOpenFile(fd, "dup", ownsDescriptor: false)).Should().Be(3);

            session.Files.Close(1).Should().BeTrue();
            session.Dispose();

            // The host descriptor is still Donjon's: writing through it works.
            RandomAccess.Write(handle, "still open"u8, 0);
            File.ReadAllText(path).Should().Be("still open");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_session_needs_room_for_stdio()
    {
        var policy = KeepPolicy.DenyAll with { Limits = KeepLimits.Default with { MaxOpenFiles = 2 } };
        var act = () => new KeepSession(new("/bin/x", new string('0', 64), 1), policy, new KeepStdio(0, 1, 2), NullLogger.Instance);
        act.Should().Throw<ArgumentException>().WithMessage("*at least 3*");
    }

    [Fact]
    public void An_owning_open_file_closes_its_descriptor()
    {
        string path = Path.GetTempFileName();
        try
        {
            var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            int fd = (int)handle.DangerousGetHandle();
            handle.SetHandleAsInvalid(); // the open file now owns the descriptor
            var file = new HostOpenFile(fd, path, ownsDescriptor: true);
            ResolveFd(fd).Should().Be(path);
            file.Dispose();
            file.IsDisposed.Should().BeTrue();
            ResolveFd(fd).Should().NotBe(path);
        }
        finally
        {
            File.Delete(path);
        }

        static string? ResolveFd(int fd)
        {
            try
            {
                return new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
            }
            catch (IOException)
            {
                return null;
            }
        }
    }
}
