using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Text;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Host.Sessions;
using Donjon.Syscalls.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace Donjon.Tests.Syscalls;

/// <summary>
/// The <c>core</c> handler set against real host pipes, files and clocks. Requests are built as the host's parser
/// builds them: pointer arguments are 0, fixed-size outputs have exactly their size as capacity, and a length argument
/// equals its buffer's size. The session is the host's own <see cref="KeepSession"/>, whose descriptors 0-2 are the
/// test runner's stdio; the pipes and files the tests add are owned by the table, as a keep's are.
/// </summary>
public sealed class CoreSyscallsTests : IDisposable
{
    private const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EBADF = 9, EFAULT = 14, EINVAL = 22, ENOTTY = 25, ESPIPE = 29, ENOSYS = 38, EOPNOTSUPP = 95;
    private const int SIfmt = 0xF000, SIfifo = 0x1000, SIfchr = 0x2000, SIfreg = 0x8000;

    private const string WorkloadPath = "/opt/keeps/hello-static";

    private readonly CoreSyscalls _set = new();

    /// <summary>The files set, which serves newfstatat and readlink since it owns paths; requests go to the set that declares them.</summary>
    private readonly Donjon.Syscalls.Files.FileSyscalls _files = new();
    private readonly List<IDisposable> _disposables = [];
    private readonly KeepSession _session;
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("donjon-core-");

    public CoreSyscallsTests() => _session = NewSession();

    public void Dispose()
    {
        foreach (IDisposable disposable in _disposables)
        {
            disposable.Dispose();
        }

        _directory.Delete(recursive: true);
    }

    // ---- the declarations ----

    [Fact]
    public void The_set_is_named_core_and_declares_each_number_once()
    {
        _set.Name.Should().Be("core");
        _set.Syscalls.Select(s => s.Number).Should().OnlyHaveUniqueItems();
        _set.Syscalls.Select(s => s.Name).Should().OnlyHaveUniqueItems();
        _set.Syscalls.Select(s => s.Number).Should().BeEquivalentTo(
            [0, 1, 3, 5, 7, 8, 16, 17, 18, 19, 20, 23, 32, 33, 35, 36, 37, 38, 39, 63, 96, 97, 99, 102, 104, 107, 108, 110, 157, 201, 204, 222, 223, 224, 225, 226, 228, 229, 230, 270, 271, 292, 302, 318]);
        _set.Syscalls.Select(s => s.Number).Should().NotIntersectWith(_files.Syscalls.Select(s => s.Number), "the two sets load together");
    }

    [Fact]
    public void Every_buffer_argument_has_a_length_argument_or_a_fixed_size()
    {
        foreach (SyscallSignature signature in _set.Syscalls)
        {
            signature.Arguments.Count.Should().BeLessThanOrEqualTo(SyscallRequest.MaxArguments, signature.Name);
            for (int i = 0; i < signature.Arguments.Count; i++)
            {
                SyscallArgument argument = signature.Arguments[i];
                string where = $"{signature.Name} argument {i}";
                switch (argument.Kind)
                {
                    case ArgumentKind.Value or ArgumentKind.CString:
                        argument.LengthArgument.Should().Be(-1, where);
                        argument.FixedSize.Should().Be(0, where);
                        break;
                    case ArgumentKind.InputIovec or ArgumentKind.OutputIovec:
                        argument.LengthArgument.Should().BeInRange(0, signature.Arguments.Count - 1, where);
                        argument.FixedSize.Should().Be(0, where);
                        signature.Arguments[argument.LengthArgument].Kind.Should().Be(ArgumentKind.Value, where);
                        break;
                    case ArgumentKind.InputArray or ArgumentKind.OutputArray or ArgumentKind.InOutArray:
                        argument.LengthArgument.Should().BeInRange(0, signature.Arguments.Count - 1, where);
                        argument.FixedSize.Should().BeInRange(1, 65535, where);
                        signature.Arguments[argument.LengthArgument].Kind.Should().Be(ArgumentKind.Value, where);
                        break;
                    default:
                        (argument.LengthArgument >= 0 ^ argument.FixedSize > 0).Should().BeTrue($"{where} has exactly one of a length argument and a fixed size");
                        if (argument.LengthArgument >= 0)
                        {
                            argument.LengthArgument.Should().BeLessThan(signature.Arguments.Count, where);
                            signature.Arguments[argument.LengthArgument].Kind.Should().Be(ArgumentKind.Value, where);
                        }

                        break;
                }
            }
        }
    }

    [Fact]
    public void Fixed_sizes_are_the_kernel_structures()
    {
        FixedSize(5, 1).Should().Be(144);    // fstat: struct stat
        FixedSize(16, 2).Should().Be(36);    // ioctl: the kernel's struct termios
        FixedSize(63, 0).Should().Be(390);   // uname: struct utsname
        FixedSize(228, 1).Should().Be(16);   // clock_gettime: struct timespec
        FixedSize(35, 0).Should().Be(16);
        FixedSize(35, 1).Should().Be(16);
        FixedSize(302, 2).Should().Be(16);   // prlimit64: struct rlimit
        FixedSize(201, 0).Should().Be(8);    // time
    }

    [Fact]
    public async Task An_undeclared_number_is_ENOSYS()
    {
        var signature = new SyscallSignature(57, "fork", []);
        var request = new SyscallRequest(signature, new ulong[6], new ReadOnlyMemory<byte>[6], new int[6]);
        (await _set.HandleAsync(request, _session, CancellationToken.None)).Value.Should().Be(-ENOSYS);
    }

    // ---- descriptors ----

    [Fact]
    public async Task Write_to_a_pipe_then_read_it_back()
    {
        (int read, int write) = Pipe();

        SyscallResult written = await Call(1, [(ulong)write, 0, 5], inputs: new() { [1] = "hello"u8.ToArray() });
        written.Value.Should().Be(5);
        written.Outputs.Should().BeEmpty();

        SyscallResult got = await Call(0, [(ulong)read, 0, 64]);
        got.Value.Should().Be(5);
        Output(got, 1).Should().Equal("hello"u8.ToArray());
    }

    [Fact]
    public async Task Read_returns_what_the_pipe_holds_and_never_more_than_asked()
    {
        (int read, _, AnonymousPipeServerStream writer) = PipeWithWriter();
        writer.Write("0123456789"u8);

        SyscallResult first = await Call(0, [(ulong)read, 0, 4]);
        first.Value.Should().Be(4);
        Output(first, 1).Should().Equal("0123"u8.ToArray());

        SyscallResult rest = await Call(0, [(ulong)read, 0, 100]);
        rest.Value.Should().Be(6);
        Output(rest, 1).Should().Equal("456789"u8.ToArray());
    }

    [Fact]
    public async Task Read_at_end_of_file_returns_zero()
    {
        (int read, int write) = Pipe();
        (await Call(3, [(ulong)write])).Value.Should().Be(0);

        SyscallResult result = await Call(0, [(ulong)read, 0, 16]);
        result.Value.Should().Be(0);
        Output(result, 1).Should().BeEmpty();
    }

    [Fact]
    public async Task Writev_writes_the_concatenated_elements_in_one_go()
    {
        (int read, int write) = Pipe();

        SyscallResult written = await Call(20, [(ulong)write, 0, 3], inputs: new() { [1] = "ab"u8.ToArray().Concat("cde"u8.ToArray()).Concat("f"u8.ToArray()).ToArray() });
        written.Value.Should().Be(6);

        Output(await Call(0, [(ulong)read, 0, 64]), 1).Should().Equal("abcdef"u8.ToArray());
    }

    [Fact]
    public async Task Readv_returns_at_most_the_elements_total_length()
    {
        (int read, _, AnonymousPipeServerStream writer) = PipeWithWriter();
        writer.Write("readv-data"u8);

        SyscallResult result = await Call(19, [(ulong)read, 0, 2], capacities: new() { [1] = 5 });
        result.Value.Should().Be(5);
        Output(result, 1).Should().Equal("readv"u8.ToArray());
    }

    [Fact]
    public async Task Readv_and_writev_refuse_more_than_1024_elements()
    {
        (int read, int write) = Pipe();
        (await Call(19, [(ulong)read, 0, 1025], capacities: new() { [1] = 8 })).Value.Should().Be(-EINVAL);
        (await Call(20, [(ulong)write, 0, 1025], inputs: new() { [1] = [1] })).Value.Should().Be(-EINVAL);
    }

    [Fact]
    public async Task Pread_and_pwrite_on_a_pipe_are_ESPIPE()
    {
        (int read, int write) = Pipe();
        (await Call(17, [(ulong)read, 0, 8, 0])).Value.Should().Be(-ESPIPE);
        (await Call(18, [(ulong)write, 0, 2, 0], inputs: new() { [1] = "xy"u8.ToArray() })).Value.Should().Be(-ESPIPE);
    }

    [Fact]
    public async Task Pread_and_pwrite_on_a_file_use_the_offset_and_leave_the_position()
    {
        int file = OpenFile("positional", "0123456789"u8);

        SyscallResult read = await Call(17, [(ulong)file, 0, 3, 4]);
        read.Value.Should().Be(3);
        Output(read, 1).Should().Equal("456"u8.ToArray());

        (await Call(18, [(ulong)file, 0, 2, 8], inputs: new() { [1] = "XY"u8.ToArray() })).Value.Should().Be(2);
        (await Call(8, [(ulong)file, 0, 1])).Value.Should().Be(0, "the position is still at the start (SEEK_CUR)");
        Output(await Call(0, [(ulong)file, 0, 32]), 1).Should().Equal("01234567XY"u8.ToArray());
    }

    [Fact]
    public async Task Lseek_on_a_file_moves_the_position()
    {
        int file = OpenFile("seek", "abcdefgh"u8);

        (await Call(8, [(ulong)file, 0, 2])).Value.Should().Be(8, "SEEK_END gives the size");
        (await Call(8, [(ulong)file, 3, 0])).Value.Should().Be(3, "SEEK_SET");
        Output(await Call(0, [(ulong)file, 0, 2]), 1).Should().Equal("de"u8.ToArray());
        (await Call(8, [(ulong)file, unchecked((ulong)-1L), 1])).Value.Should().Be(4, "SEEK_CUR back one from 5");
        (await Call(8, [(ulong)file, unchecked((ulong)-100L), 0])).Value.Should().Be(-EINVAL);
        (await Call(8, [(ulong)file, 0, 77])).Value.Should().Be(-EINVAL, "an unknown whence");
    }

    [Fact]
    public async Task Lseek_on_a_pipe_is_ESPIPE()
    {
        (int read, _) = Pipe();
        (await Call(8, [(ulong)read, 0, 1])).Value.Should().Be(-ESPIPE);
    }

    [Theory]
    [InlineData(0)]     // read
    [InlineData(1)]     // write
    [InlineData(3)]     // close
    [InlineData(5)]     // fstat
    [InlineData(8)]     // lseek
    [InlineData(16)]    // ioctl
    [InlineData(17)]    // pread64
    [InlineData(18)]    // pwrite64
    [InlineData(19)]    // readv
    [InlineData(20)]    // writev
    [InlineData(32)]    // dup
    [InlineData(33)]    // dup2
    [InlineData(292)]   // dup3
    public async Task An_unknown_descriptor_is_EBADF(int number)
    {
        foreach (ulong descriptor in new ulong[] { 99, 1023, 1024, 0xFFFF_FFFF, unchecked((ulong)-1L) })
        {
            ulong[] arguments = [descriptor, 5, 5, 0, 0, 0];
            if (number == 16)
            {
                arguments[1] = 0x5401; // TCGETS
            }
            else if (number == 292)
            {
                arguments[2] = 0; // dup3 checks its flags first
            }

            SyscallResult result = await Call(number, arguments, inputs: new() { [1] = new byte[5] }, capacities: new() { [1] = 5 });
            result.Value.Should().Be(-EBADF, $"syscall {number} on descriptor {descriptor}");
            result.Outputs.Should().BeEmpty();
        }
    }

    [Fact]
    public async Task Dup_then_close_keeps_the_file_open()
    {
        (int read, int write) = Pipe();
        _session.Files.TryGet(write, out IOpenFile? file).Should().BeTrue();

        long copy = (await Call(32, [(ulong)write])).Value;
        copy.Should().Be(5, "the lowest free number after stdio (0-2) and the pipe (3, 4)");
        (await Call(3, [(ulong)write])).Value.Should().Be(0);
        ((HostOpenFile)file!).IsDisposed.Should().BeFalse();

        (await Call(1, [(ulong)copy, 0, 3], inputs: new() { [1] = "dup"u8.ToArray() })).Value.Should().Be(3);
        Output(await Call(0, [(ulong)read, 0, 8]), 1).Should().Equal("dup"u8.ToArray());

        (await Call(3, [(ulong)copy])).Value.Should().Be(0);
        ((HostOpenFile)file!).IsDisposed.Should().BeTrue();
        (await Call(3, [(ulong)copy])).Value.Should().Be(-EBADF, "closing twice");
        (await Call(0, [(ulong)read, 0, 8])).Value.Should().Be(0, "the last write end was really closed on the host: end of file");
    }

    [Fact]
    public async Task Dup2_and_dup3_put_the_file_on_the_number_asked()
    {
        (int read, int write) = Pipe();

        (await Call(33, [(ulong)write, 40])).Value.Should().Be(40);
        (await Call(33, [(ulong)write, (ulong)write])).Value.Should().Be(write, "dup2 onto itself is a no-op");
        (await Call(292, [(ulong)write, (ulong)write, 0])).Value.Should().Be(-EINVAL, "dup3 onto itself");
        (await Call(292, [(ulong)write, 41, 0x80000])).Value.Should().Be(41, "O_CLOEXEC is accepted");
        (await Call(292, [(ulong)write, 42, 1])).Value.Should().Be(-EINVAL, "an unknown flag");
        (await Call(33, [(ulong)write, 5000])).Value.Should().Be(-EBADF, "beyond the table's limit");

        (await Call(1, [41, 0, 2], inputs: new() { [1] = "41"u8.ToArray() })).Value.Should().Be(2);
        (await Call(1, [40, 0, 2], inputs: new() { [1] = "40"u8.ToArray() })).Value.Should().Be(2);
        Output(await Call(0, [(ulong)read, 0, 8]), 1).Should().Equal("4140"u8.ToArray());
    }

    [Fact]
    public async Task Dup2_over_an_open_number_closes_what_it_held()
    {
        (_, int write) = Pipe();
        int file = OpenFile("replaced", "x"u8);
        _session.Files.TryGet(file, out IOpenFile? replaced).Should().BeTrue();

        (await Call(33, [(ulong)write, (ulong)file])).Value.Should().Be(file);
        ((HostOpenFile)replaced!).IsDisposed.Should().BeTrue();
    }

    // ---- fstat, newfstatat, ioctl ----

    [Fact]
    public async Task Fstat_reports_the_real_kind_of_file()
    {
        (int read, _) = Pipe();
        int file = OpenFile("stat", "twelve bytes"u8);

        SyscallResult pipe = await Call(5, [(ulong)read, 0]);
        pipe.Value.Should().Be(0);
        Output(pipe, 1).Should().HaveCount(144);
        Mode(Output(pipe, 1)).Should().Be(SIfifo);

        SyscallResult regular = await Call(5, [(ulong)file, 0]);
        regular.Value.Should().Be(0);
        Mode(Output(regular, 1)).Should().Be(SIfreg);
        BinaryPrimitives.ReadInt64LittleEndian(Output(regular, 1).AsSpan(48)).Should().Be(12, "st_size");
    }

    [Fact]
    public async Task Newfstatat_with_an_empty_path_stats_the_descriptor()
    {
        int file = OpenFile("statat", "abc"u8);

        SyscallResult result = await Call(262, [(ulong)file, 0, 0, 0x1000], inputs: new() { [1] = CString("") });
        result.Value.Should().Be(0);
        Mode(Output(result, 2)).Should().Be(SIfreg);
        BinaryPrimitives.ReadInt64LittleEndian(Output(result, 2).AsSpan(48)).Should().Be(3);
    }

    [Fact]
    public async Task Newfstatat_of_paths_no_mount_holds_is_ENOENT()
    {
        int file = OpenFile("statat-path", "abc"u8);

        (await Call(262, [unchecked((ulong)-100L), 0, 0, 0], inputs: new() { [1] = CString("/etc/passwd") })).Value.Should().Be(-ENOENT);
        (await Call(262, [(ulong)file, 0, 0, 0], inputs: new() { [1] = CString("") })).Value.Should().Be(-ENOENT, "an empty path needs AT_EMPTY_PATH");
        SyscallResult cwd = await Call(262, [unchecked((ulong)-100L), 0, 0, 0x1000], inputs: new() { [1] = CString("") });
        cwd.Value.Should().Be(0, "AT_FDCWD with AT_EMPTY_PATH is the working directory, the keep's root");
        Mode(Output(cwd, 2)).Should().Be(0x4000);
        (await Call(262, [99, 0, 0, 0x1000], inputs: new() { [1] = CString("") })).Value.Should().Be(-EBADF);
        (await Call(262, [(ulong)file, 0, 0, 0x1000 | 0x8], inputs: new() { [1] = CString("") })).Value.Should().Be(-EINVAL, "an unknown flag");
    }

    [Fact]
    public async Task Select_answers_ready_descriptors_and_refuses_bad_counts_sets_and_descriptors()
    {
        (int read, int write, AnonymousPipeServerStream writer) = PipeWithWriter();
        byte[] set = new byte[128];
        set[read >> 3] |= (byte)(1 << (read & 7));
        byte[] timeout = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(timeout.AsSpan(8), 20_000); // 20 ms

        SyscallResult idle = await Call(23, [(ulong)read + 1], inputs: new() { [1] = set, [4] = timeout });
        idle.Value.Should().Be(0, "nothing to read within 20 ms");
        Output(idle, 1).Should().OnlyContain(b => b == 0, "the set comes back empty");

        writer.Write("x"u8);
        writer.Flush();
        SyscallResult ready = await Call(23, [(ulong)read + 1], inputs: new() { [1] = set, [4] = timeout });
        ready.Value.Should().Be(1);
        Output(ready, 1).Should().Equal(set);

        (await Call(23, [2000], inputs: new() { [1] = set })).Value.Should().Be(-EINVAL, "nfds above FD_SETSIZE");
        (await Call(23, [unchecked((ulong)-1L)], inputs: new() { [1] = set })).Value.Should().Be(-EINVAL);
        byte[] closed = new byte[128];
        closed[100 >> 3] |= 1 << (100 & 7);
        (await Call(23, [101], inputs: new() { [1] = closed, [4] = timeout })).Value.Should().Be(-EBADF, "a descriptor that is not open");
        (await Call(23, [(ulong)read + 1], inputs: new() { [1] = new byte[12], [4] = timeout })).Value.Should().Be(-EFAULT, "an fd_set is 128 bytes");
        byte[] badTimeout = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(badTimeout.AsSpan(8), 1_000_000);
        (await Call(23, [(ulong)read + 1], inputs: new() { [1] = set, [4] = badTimeout })).Value.Should().Be(-EINVAL, "tv_usec above 999999");
        (await Call(270, [(ulong)write + 1], inputs: new() { [2] = WriteSet(write), [4] = new byte[16] })).Value.Should().Be(1, "the write end is writable, at once with a zero timeout");
    }

    private static byte[] WriteSet(int fd)
    {
        byte[] set = new byte[128];
        set[fd >> 3] |= (byte)(1 << (fd & 7));
        return set;
    }

    [Fact]
    public async Task Ioctl_terminal_queries_on_a_pipe_or_a_file_are_ENOTTY()
    {
        (int read, _) = Pipe();
        int file = OpenFile("ioctl", "x"u8);

        foreach (int descriptor in new[] { read, file })
        {
            SyscallResult tcgets = await Call(16, [(ulong)descriptor, 0x5401, 0]);
            tcgets.Value.Should().Be(-ENOTTY);
            tcgets.Outputs.Should().BeEmpty();
            (await Call(16, [(ulong)descriptor, 0x5413, 0])).Value.Should().Be(-ENOTTY);
        }
    }

    [Fact]
    public async Task Ioctl_requests_other_than_the_terminal_queries_are_ENOTTY()
    {
        int file = OpenFile("ioctl-other", "x"u8);
        foreach (ulong request in new ulong[] { 0x5402 /* TCSETS */, 0x541B /* FIONREAD */, 0x5421 /* FIONBIO */, 0x1_0000_5499 })
        {
            (await Call(16, [(ulong)file, request, 0])).Value.Should().Be(-ENOTTY, $"request 0x{request:x}");
        }
    }

    [Fact]
    public async Task Ioctl_on_a_terminal_returns_the_kernel_structures()
    {
        Microsoft.Win32.SafeHandles.SafeFileHandle terminal;
        try
        {
            terminal = File.OpenHandle("/dev/ptmx", FileMode.Open, FileAccess.ReadWrite);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return; // No pseudo-terminals here: the pipe and file cases still cover ENOTTY.
        }

        int descriptor = Adopt(terminal, "/dev/ptmx");

        SyscallResult tcgets = await Call(16, [(ulong)descriptor, 0x5401, 0]);
        tcgets.Value.Should().Be(0);
        Output(tcgets, 2).Should().HaveCount(36);

        SyscallResult winsize = await Call(16, [(ulong)descriptor, 0x5413, 0]);
        winsize.Value.Should().Be(0);
        Output(winsize, 2).Should().HaveCount(8);

        Mode(Output(await Call(5, [(ulong)descriptor, 0]), 1)).Should().Be(SIfchr);
    }

    // ---- identity ----

    [Fact]
    public async Task Uname_reports_linux_donjon_the_host_release_and_x86_64()
    {
        SyscallResult result = await Call(63, [0]);
        result.Value.Should().Be(0);
        byte[] name = Output(result, 0);
        name.Should().HaveCount(390);

        UtsField(name, 0).Should().Be("Linux");
        UtsField(name, 1).Should().Be("donjon");
        UtsField(name, 2).Should().Be(File.ReadAllText("/proc/sys/kernel/osrelease").Trim());
        UtsField(name, 3).Should().Be(File.ReadAllText("/proc/sys/kernel/version").Trim());
        UtsField(name, 4).Should().Be("x86_64");
        UtsField(name, 5).Should().Be("(none)");
        for (int field = 0; field < 6; field++)
        {
            name[(field * 65) + 64].Should().Be(0, "every field is NUL-terminated");
        }
    }

    [Fact]
    public async Task The_keep_is_pid_1_with_no_visible_parent()
    {
        (await Call(39, [])).Value.Should().Be(1);
        (await Call(110, [])).Value.Should().Be(0);
    }

    [Fact]
    public async Task User_and_group_ids_are_Donjons_own()
    {
        string[] status = File.ReadAllLines("/proc/self/status");
        long[] uids = status.Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1..].Select(long.Parse).ToArray();
        long[] gids = status.Single(l => l.StartsWith("Gid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1..].Select(long.Parse).ToArray();

        (await Call(102, [])).Value.Should().Be(uids[0]);
        (await Call(107, [])).Value.Should().Be(uids[1]);
        (await Call(104, [])).Value.Should().Be(gids[0]);
        (await Call(108, [])).Value.Should().Be(gids[1]);
    }

    [Fact]
    public async Task Readlink_of_proc_self_exe_is_the_workload_path()
    {
        byte[] expected = Encoding.UTF8.GetBytes(WorkloadPath);

        SyscallResult result = await Call(89, [0, 0, 4096], inputs: new() { [0] = CString("/proc/self/exe") });
        result.Value.Should().Be(expected.Length);
        Output(result, 1).Should().Equal(expected, "no NUL is appended");

        SyscallResult at = await Call(267, [unchecked((ulong)-100L), 0, 0, 4096], inputs: new() { [1] = CString("/proc/self/exe") });
        at.Value.Should().Be(expected.Length);
        Output(at, 2).Should().Equal(expected);

        (await Call(89, [0, 0, 64], inputs: new() { [0] = CString("/proc/1/exe") })).Value.Should().Be(expected.Length, "the keep's pid is 1");
    }

    [Fact]
    public async Task Readlink_truncates_to_the_buffer_and_refuses_others()
    {
        SyscallResult cut = await Call(89, [0, 0, 4], inputs: new() { [0] = CString("/proc/self/exe") });
        cut.Value.Should().Be(4);
        Output(cut, 1).Should().Equal(Encoding.UTF8.GetBytes(WorkloadPath)[..4]);

        (await Call(89, [0, 0, 64], inputs: new() { [0] = CString("/etc/localtime") })).Value.Should().Be(-ENOENT);
        (await Call(89, [0, 0, 0], inputs: new() { [0] = CString("/proc/self/exe") })).Value.Should().Be(-EINVAL, "bufsiz 0");
    }

    // ---- clocks and sleeps ----

    [Fact]
    public async Task Clock_gettime_monotonic_increases()
    {
        Timespec first = Time(await Call(228, [1, 0]), 1);
        await Task.Delay(20);
        Timespec second = Time(await Call(228, [1, 0]), 1);

        first.Nanoseconds.Should().BeInRange(0, 999_999_999);
        (second.Total - first.Total).Should().BeGreaterThanOrEqualTo(15_000_000);
    }

    [Fact]
    public async Task Clock_gettime_realtime_is_the_wall_clock()
    {
        Timespec now = Time(await Call(228, [0, 0]), 1);
        now.Seconds.Should().BeCloseTo(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 5);
    }

    [Fact]
    public async Task Clock_ids_that_would_read_host_processes_are_EINVAL()
    {
        foreach (ulong clock in new ulong[] { 10, 12, 99, unchecked((ulong)-6L) /* CPU clock of pid 0 */, unchecked((ulong)-2L) /* thread */, 0x7FFF_FFFF })
        {
            SyscallResult result = await Call(228, [clock, 0]);
            result.Value.Should().Be(-EINVAL, $"clock {(long)clock}");
            result.Outputs.Should().BeEmpty();
            (await Call(229, [clock, 0])).Value.Should().Be(-EINVAL);
        }
    }

    [Fact]
    public async Task The_cpu_time_clocks_measure_the_keeps_life_so_far()
    {
        Timespec first = Time(await Call(228, [2, 0]), 1);
        await Task.Delay(10);
        Timespec second = Time(await Call(228, [3, 0]), 1);
        second.Total.Should().BeGreaterThan(first.Total);
        second.Seconds.Should().BeLessThan(60);
        Time(await Call(229, [2, 0]), 1).Should().Be(new Timespec(0, 1));
    }

    [Fact]
    public async Task Clock_getres_answers_with_and_without_a_buffer()
    {
        Timespec resolution = Time(await Call(229, [1, 0]), 1);
        resolution.Total.Should().BeInRange(1, 10_000_000);

        SyscallResult nullBuffer = await Call(229, [1, 0], capacities: new() { [1] = 0 });
        nullBuffer.Value.Should().Be(0);
        nullBuffer.Outputs.Should().BeEmpty();
    }

    [Fact]
    public async Task Gettimeofday_and_time_agree_with_the_wall_clock()
    {
        long expected = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        SyscallResult tv = await Call(96, [0, 0]);
        tv.Value.Should().Be(0);
        byte[] timeval = Output(tv, 0);
        BinaryPrimitives.ReadInt64LittleEndian(timeval).Should().BeCloseTo(expected, 5);
        BinaryPrimitives.ReadInt64LittleEndian(timeval.AsSpan(8)).Should().BeInRange(0, 999_999, "tv_usec");
        Output(tv, 1).Should().Equal(new byte[8], "struct timezone is UTC without DST");

        SyscallResult time = await Call(201, [0]);
        time.Value.Should().BeCloseTo(expected, 5);
        BinaryPrimitives.ReadInt64LittleEndian(Output(time, 0)).Should().Be(time.Value);

        SyscallResult timeNull = await Call(201, [0], capacities: new() { [0] = 0 });
        timeNull.Value.Should().BeCloseTo(expected, 5);
        timeNull.Outputs.Should().BeEmpty();
    }

    [Fact]
    public async Task Nanosleep_sleeps_at_least_the_time_asked()
    {
        var watch = Stopwatch.StartNew();
        SyscallResult result = await Call(35, [0, 0], inputs: new() { [0] = Timespec.Bytes(0, 50_000_000) });
        watch.Stop();

        result.Value.Should().Be(0);
        result.Outputs.Should().BeEmpty("rem is written only when interrupted");
        watch.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(50));
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Short_sleeps_are_never_cut_short()
    {
        foreach (long nanoseconds in new long[] { 0, 1, 100_000, 1_500_000, 2_500_000 })
        {
            long before = Stopwatch.GetTimestamp();
            (await Call(35, [0, 0], inputs: new() { [0] = Timespec.Bytes(0, nanoseconds) })).Value.Should().Be(0);
            Stopwatch.GetElapsedTime(before).Ticks.Should().BeGreaterThanOrEqualTo(nanoseconds / 100);
        }
    }

    [Theory]
    [InlineData(0, 1_000_000_000)]
    [InlineData(0, -1)]
    [InlineData(-1, 0)]
    [InlineData(long.MinValue, long.MaxValue)]
    public async Task A_timespec_out_of_range_is_EINVAL(long seconds, long nanoseconds)
    {
        (await Call(35, [0, 0], inputs: new() { [0] = Timespec.Bytes(seconds, nanoseconds) })).Value.Should().Be(-EINVAL);
        (await Call(230, [1, 0, 0, 0], inputs: new() { [2] = Timespec.Bytes(seconds, nanoseconds) })).Value.Should().Be(-EINVAL);
        (await Call(230, [0, 1, 0, 0], inputs: new() { [2] = Timespec.Bytes(seconds, nanoseconds) })).Value.Should().Be(-EINVAL);
    }

    [Fact]
    public async Task A_missing_request_timespec_is_EFAULT()
    {
        (await Call(35, [0, 0], inputs: new() { [0] = [] })).Value.Should().Be(-EFAULT);
    }

    [Fact]
    public async Task Clock_nanosleep_absolute_waits_until_the_deadline()
    {
        foreach (ulong clock in new ulong[] { 1, 0 })
        {
            Timespec now = Time(await Call(228, [clock, 0]), 1);
            long deadline = now.Total + 40_000_000;

            SyscallResult result = await Call(230, [clock, 1, 0, 0], inputs: new() { [2] = Timespec.Bytes(deadline / 1_000_000_000, deadline % 1_000_000_000) });
            result.Value.Should().Be(0);
            result.Outputs.Should().BeEmpty();
            Time(await Call(228, [clock, 0]), 1).Total.Should().BeGreaterThanOrEqualTo(deadline);
        }
    }

    [Fact]
    public async Task Clock_nanosleep_absolute_in_the_past_returns_at_once()
    {
        var watch = Stopwatch.StartNew();
        (await Call(230, [1, 1, 0, 0], inputs: new() { [2] = Timespec.Bytes(0, 5) })).Value.Should().Be(0);
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Clock_nanosleep_relative_and_its_unsupported_clocks()
    {
        var watch = Stopwatch.StartNew();
        (await Call(230, [1, 0, 0, 0], inputs: new() { [2] = Timespec.Bytes(0, 30_000_000) })).Value.Should().Be(0);
        watch.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(30));

        byte[] tiny = Timespec.Bytes(0, 1);
        (await Call(230, [4, 0, 0, 0], inputs: new() { [2] = tiny })).Value.Should().Be(-EOPNOTSUPP, "MONOTONIC_RAW");
        (await Call(230, [6, 0, 0, 0], inputs: new() { [2] = tiny })).Value.Should().Be(-EOPNOTSUPP, "MONOTONIC_COARSE");
        (await Call(230, [3, 0, 0, 0], inputs: new() { [2] = tiny })).Value.Should().Be(-EINVAL, "THREAD_CPUTIME_ID");
        (await Call(230, [99, 0, 0, 0], inputs: new() { [2] = tiny })).Value.Should().Be(-EINVAL);
    }

    [Fact]
    public async Task A_sleep_ends_with_EINTR_and_the_time_left_when_the_keep_ends()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var watch = Stopwatch.StartNew();
        SyscallResult result = await Call(35, [0, 0], inputs: new() { [0] = Timespec.Bytes(10, 0) }, cancellationToken: cancellation.Token);
        watch.Stop();

        result.Value.Should().Be(-EINTR);
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
        Timespec left = Timespec.Read(Output(result, 1));
        left.Seconds.Should().BeInRange(5, 9);
        left.Nanoseconds.Should().BeInRange(0, 999_999_999);
    }

    // ---- randomness, yield, limits ----

    [Fact]
    public async Task Getrandom_fills_the_count_asked()
    {
        SyscallResult result = await Call(318, [0, 64, 0]);
        result.Value.Should().Be(64);
        Output(result, 0).Should().HaveCount(64).And.Contain(b => b != 0);

        (await Call(318, [0, 16, 1 /* GRND_NONBLOCK */])).Value.Should().Be(16);
        (await Call(318, [0, 0, 0])).Value.Should().Be(0);
        (await Call(318, [0, 16, 8])).Value.Should().Be(-EINVAL, "an unknown flag");
        (await Call(318, [0, 16, 6])).Value.Should().Be(-EINVAL, "GRND_RANDOM with GRND_INSECURE");
    }

    [Fact]
    public async Task Limits_come_from_the_keeps_policy()
    {
        KeepLimits limits = _session.Policy.Limits;
        Rlimit(await Call(97, [3, 0]), 1).Should().Be((limits.StackSize, limits.StackSize));
        Rlimit(await Call(97, [7, 0]), 1).Should().Be(((ulong)limits.MaxOpenFiles, (ulong)limits.MaxOpenFiles));
        Rlimit(await Call(97, [9, 0]), 1).Should().Be((limits.MemorySize, limits.MemorySize));
        Rlimit(await Call(97, [4, 0]), 1).Should().Be((0UL, 0UL), "RLIMIT_CORE: a keep never dumps core");
        Rlimit(await Call(97, [2, 0]), 1).Should().Be((ulong.MaxValue, ulong.MaxValue), "RLIMIT_DATA is infinite");
        (await Call(97, [16, 0])).Value.Should().Be(-EINVAL);

        Rlimit(await Call(302, [0, 7, 0, 0], inputs: new() { [2] = [] }), 3).Should().Be((1024UL, 1024UL));
        Rlimit(await Call(302, [1, 3, 0, 0], inputs: new() { [2] = [] }), 3).Should().Be((8UL << 20, 8UL << 20));
    }

    [Fact]
    public async Task Limits_follow_a_custom_policy()
    {
        KeepSession session = NewSession(KeepPolicy.DenyAll with { Limits = new KeepLimits(64UL << 20, 1UL << 20, 32) });
        Rlimit(await Call(97, [7, 0], session: session), 1).Should().Be((32UL, 32UL));
        Rlimit(await Call(97, [3, 0], session: session), 1).Should().Be((1UL << 20, 1UL << 20));
        Rlimit(await Call(97, [9, 0], session: session), 1).Should().Be((64UL << 20, 64UL << 20));
    }

    [Fact]
    public async Task Sysinfo_describes_the_keeps_memory_limit_in_bytes_and_the_hosts_uptime_loads_and_processes()
    {
        KeepSession session = NewSession(KeepPolicy.DenyAll with { Limits = new KeepLimits(64UL << 20, 1UL << 20, 32) });
        double before = HostUptime();
        SyscallResult result = await Call(99, [0], session: session);
        double after = HostUptime();

        result.Value.Should().Be(0);
        byte[] info = Output(result, 0);
        info.Should().HaveCount(112, "struct sysinfo on x86-64");
        long uptime = BinaryPrimitives.ReadInt64LittleEndian(info);
        ulong Field(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(info.AsSpan(offset));
        uptime.Should().BeInRange((long)before - 1, (long)after + 1, "the host's uptime, in seconds");
        Field(32).Should().Be(64UL << 20, "totalram is the policy's memory limit, which the host's RAM exceeds");
        Field(40).Should().BeGreaterThan(0).And.BeLessThanOrEqualTo(Field(32), "freeram never exceeds totalram");
        Field(48).Should().Be(0, "sharedram");
        Field(56).Should().Be(0, "bufferram");
        Field(64).Should().Be(0, "totalswap: a keep has no swap");
        Field(72).Should().Be(0, "freeswap");
        BinaryPrimitives.ReadUInt16LittleEndian(info.AsSpan(80)).Should().BeGreaterThan(0, "procs: the host's, this test's among them");
        Field(88).Should().Be(0, "totalhigh");
        Field(96).Should().Be(0, "freehigh");
        BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(104)).Should().Be(1, "mem_unit: every figure is in bytes");

        KeepSession huge = NewSession(KeepPolicy.DenyAll with { Limits = new KeepLimits(1UL << 40, 1UL << 20, 32) });
        byte[] capped = Output(await Call(99, [0], session: huge), 0);
        ulong hostTotal = ulong.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        BinaryPrimitives.ReadUInt64LittleEndian(capped.AsSpan(32)).Should().Be(hostTotal, "a limit above the host's RAM gives the host's RAM");

        (await Call(99, [0], capacities: new() { [0] = 64 }, session: session)).Value.Should().Be(-EFAULT, "a buffer smaller than struct sysinfo");
    }

    private static double HostUptime() =>
        double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_limit_may_be_lowered_and_a_soft_limit_raised_up_to_the_hard_one_but_never_above_the_policy()
    {
        KeepSession session = NewSession();
        async Task<long> Set(ulong resource, ulong soft, ulong hard) =>
            (await Call(302, [0, resource, 0, 0], inputs: new() { [2] = RlimitBytes(soft, hard) }, capacities: new() { [3] = 0 }, session: session)).Value;
        async Task<(ulong, ulong)> Get(ulong resource) => Rlimit(await Call(97, [resource, 0], session: session), 1);

        (await Set(7, 1024, 1024)).Should().Be(0, "setting the limit it has");
        (await Set(7, 4096, 4096)).Should().Be(-EPERM, "above the policy's 1024");
        (await Set(7, 512, 1024)).Should().Be(0, "lowering the soft limit");
        (await Get(7)).Should().Be((512UL, 1024UL));
        (await Set(7, 1024, 1024)).Should().Be(0, "raising the soft limit back up to the hard one");
        (await Set(7, 256, 768)).Should().Be(0, "lowering both");
        (await Get(7)).Should().Be((256UL, 768UL));
        (await Set(7, 1024, 1024)).Should().Be(-EPERM, "a lowered hard limit cannot be raised again");
        (await Set(7, 900, 768)).Should().Be(-EINVAL, "soft above hard");
        (await Get(7)).Should().Be((256UL, 768UL), "a refused call changes nothing");

        // prlimit64 gives the old limits; another keep's limits are its own.
        Rlimit(await Call(302, [0, 7, 0, 0], inputs: new() { [2] = RlimitBytes(100, 768) }, session: session), 3).Should().Be((256UL, 768UL));
        Rlimit(await Call(97, [7, 0], session: NewSession()), 1).Should().Be((1024UL, 1024UL));

        (await Set(2, 1 << 30, ulong.MaxValue)).Should().Be(0, "RLIMIT_DATA: infinite, so any soft limit");
        (await Get(2)).Should().Be((1UL << 30, ulong.MaxValue));
        (await Call(302, [0, 99, 0, 0], inputs: new() { [2] = [] })).Value.Should().Be(-EINVAL);
        (await Call(302, [4242, 7, 0, 0], inputs: new() { [2] = [] })).Value.Should().Be(-ESRCH, "only the keep's own process exists");
    }

    // ---- robustness ----

    [Fact]
    public async Task Hostile_arguments_never_throw_and_outputs_never_exceed_their_capacity()
    {
        var random = new Random(1234);
        ulong[] interesting = [0, 1, 2, 3, 0x5401, 0x5413, 0x1000, 0x80000, int.MaxValue, uint.MaxValue, long.MaxValue, ulong.MaxValue, unchecked((ulong)-100L), unchecked((ulong)int.MinValue)];
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        // No descriptors at all: nothing may block on the runner's real stdin.
        KeepSession empty = NewSession();
        for (int stdio = 0; stdio < 3; stdio++)
        {
            empty.Files.Close(stdio).Should().BeTrue();
        }

        foreach (SyscallSignature signature in _set.Syscalls)
        {
            for (int round = 0; round < 200; round++)
            {
                var arguments = new ulong[6];
                var inputs = new ReadOnlyMemory<byte>[6];
                var capacities = new int[6];
                for (int i = 0; i < 6; i++)
                {
                    arguments[i] = random.Next(3) == 0 ? (ulong)random.NextInt64() : interesting[random.Next(interesting.Length)];
                }

                for (int i = 0; i < signature.Arguments.Count; i++)
                {
                    SyscallArgument argument = signature.Arguments[i];
                    if (argument.Kind == ArgumentKind.Value)
                    {
                        continue;
                    }

                    arguments[i] = 0;
                    bool isArray = argument.Kind is ArgumentKind.InputArray or ArgumentKind.OutputArray or ArgumentKind.InOutArray;
                    int size = isArray ? argument.FixedSize * random.Next(0, 40)
                        : argument.FixedSize > 0 ? (random.Next(4) == 0 ? 0 : argument.FixedSize) : random.Next(0, 300);
                    if (isArray)
                    {
                        arguments[argument.LengthArgument] = (ulong)(size / argument.FixedSize); // the parser checks count × size
                    }
                    else if (argument.LengthArgument >= 0 && argument.Kind is not (ArgumentKind.InputIovec or ArgumentKind.OutputIovec))
                    {
                        arguments[argument.LengthArgument] = (ulong)size;
                    }

                    byte[] bytes = new byte[size];
                    random.NextBytes(bytes);
                    if (argument.Kind == ArgumentKind.CString)
                    {
                        bytes = random.Next(2) == 0 ? CString("/proc/self/exe") : [.. bytes.Where(b => b != 0), 0];
                    }

                    if (argument.Kind is ArgumentKind.OutputBuffer or ArgumentKind.OutputIovec or ArgumentKind.InOutBuffer or ArgumentKind.OutputArray or ArgumentKind.InOutArray)
                    {
                        capacities[i] = size;
                    }

                    if (argument.Kind is not (ArgumentKind.OutputBuffer or ArgumentKind.OutputIovec or ArgumentKind.OutputArray))
                    {
                        inputs[i] = bytes;
                    }
                }

                var request = new SyscallRequest(signature, arguments, inputs, capacities);
                SyscallResult result = await _set.HandleAsync(request, empty, cancelled.Token);
                result.Value.Should().BeGreaterThanOrEqualTo(-4095, signature.Name);
                foreach (SyscallOutput output in result.Outputs)
                {
                    signature.Arguments[output.ArgumentIndex].Kind.Should().BeOneOf(ArgumentKind.OutputBuffer, ArgumentKind.OutputIovec, ArgumentKind.InOutBuffer, ArgumentKind.OutputArray, ArgumentKind.InOutArray);
                    output.Data.Length.Should().BeLessThanOrEqualTo(capacities[output.ArgumentIndex], signature.Name);
                }
            }
        }
    }

    // ---- poll, ppoll ----

    private const short POLLIN = 0x1, POLLOUT = 0x4, POLLNVAL = 0x20;

    private static byte[] PollFds(params (int Fd, short Events)[] fds)
    {
        var bytes = new byte[8 * fds.Length];
        for (int i = 0; i < fds.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8 * i), fds[i].Fd);
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan((8 * i) + 4), fds[i].Events);
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan((8 * i) + 6), 0x7777); // garbage the call must overwrite
        }

        return bytes;
    }

    private static short Revents(byte[] fds, int index) => BinaryPrimitives.ReadInt16LittleEndian(fds.AsSpan((8 * index) + 6));

    [Fact]
    public void Poll_and_ppoll_declare_their_pollfd_array_as_nfds_elements_of_8_bytes()
    {
        foreach (int number in new[] { 7, 271 })
        {
            SyscallArgument fds = _set.Syscalls.Single(s => s.Number == number).Arguments[0];
            fds.Should().Be(SyscallArgument.InOutArray(1, 8));
        }
    }

    [Fact]
    public async Task Poll_reports_a_readable_pipe_ignores_negative_fds_and_marks_unknown_ones_POLLNVAL()
    {
        (int read, _, AnonymousPipeServerStream writer) = PipeWithWriter();
        (_, int write) = Pipe();
        writer.Write("x"u8);
        byte[] fds = PollFds((read, POLLIN), (-1, POLLIN), (77, POLLIN), (write, POLLOUT));

        SyscallResult result = await Call(7, [0, 4, unchecked((ulong)-1)], inputs: new() { [0] = fds });

        result.Value.Should().Be(3, "the readable pipe, the unknown descriptor and the writable pipe");
        byte[] back = Output(result, 0);
        back.Length.Should().Be(32);
        Revents(back, 0).Should().Be(POLLIN);
        Revents(back, 1).Should().Be(0, "a negative fd is ignored");
        Revents(back, 2).Should().Be(POLLNVAL, "77 is not open in the keep");
        Revents(back, 3).Should().Be(POLLOUT);
        back.AsSpan(0, 6).ToArray().Should().Equal(fds.AsSpan(0, 6).ToArray(), "fd and events come back unchanged");
        BinaryPrimitives.ReadInt32LittleEndian(back.AsSpan(8)).Should().Be(-1);
    }

    [Fact]
    public async Task Poll_honours_its_timeout_on_an_idle_pipe()
    {
        (int read, _) = Pipe();
        var clock = Stopwatch.StartNew();
        SyscallResult result = await Call(7, [0, 1, 250], inputs: new() { [0] = PollFds((read, POLLIN)) });
        clock.Stop();

        result.Value.Should().Be(0);
        Revents(Output(result, 0), 0).Should().Be(0);
        clock.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(245)).And.BeLessThan(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Poll_with_a_zero_timeout_returns_at_once()
    {
        (int read, _) = Pipe();
        var clock = Stopwatch.StartNew();
        (await Call(7, [0, 1, 0], inputs: new() { [0] = PollFds((read, POLLIN)) })).Value.Should().Be(0);
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromMilliseconds(90));
    }

    [Fact]
    public async Task A_poll_that_waits_for_ever_returns_EINTR_soon_after_the_keep_ends()
    {
        (int read, _) = Pipe();
        using var ending = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();
        Task<SyscallResult> call = Task.Run(() => Call(7, [0, 1, unchecked((ulong)-1)], inputs: new() { [0] = PollFds((read, POLLIN)) }, cancellationToken: ending.Token));
        (await call.WaitAsync(TimeSpan.FromSeconds(10))).Value.Should().Be(-EINTR);
        clock.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(290)).And.BeLessThan(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Poll_wakes_when_data_arrives()
    {
        (int read, _, AnonymousPipeServerStream writer) = PipeWithWriter();
        Task<SyscallResult> call = Task.Run(() => Call(7, [0, 1, 10_000], inputs: new() { [0] = PollFds((read, POLLIN)) }));
        await Task.Delay(150);
        writer.Write("!"u8);
        SyscallResult result = await call.WaitAsync(TimeSpan.FromSeconds(5));
        result.Value.Should().Be(1);
        Revents(Output(result, 0), 0).Should().Be(POLLIN);
    }

    [Fact]
    public async Task A_poll_that_waits_for_ever_returns_at_once_when_a_descriptor_is_not_open()
    {
        (int read, _) = Pipe();
        SyscallResult result = await Task.Run(() => Call(7, [0, 2, unchecked((ulong)-1)], inputs: new() { [0] = PollFds((read, POLLIN), (1000, POLLIN)) }))
            .WaitAsync(TimeSpan.FromSeconds(5));
        result.Value.Should().Be(1);
        Revents(Output(result, 0), 0).Should().Be(0);
        Revents(Output(result, 0), 1).Should().Be(POLLNVAL);
    }

    [Fact]
    public async Task Poll_of_no_descriptors_sleeps_for_its_timeout()
    {
        var clock = Stopwatch.StartNew();
        (await Call(7, [0, 0, 120])).Value.Should().Be(0);
        clock.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(115));
    }

    [Fact]
    public async Task Poll_of_a_NULL_array_with_a_count_is_EFAULT() =>
        (await Call(7, [0, 2, 0])).Value.Should().Be(-EFAULT);

    private static byte[] TimespecBytes(long seconds, long nanoseconds)
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, seconds);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), nanoseconds);
        return bytes;
    }

    [Fact]
    public async Task Ppoll_honours_its_timespec_and_writes_back_the_time_left()
    {
        (int read, _) = Pipe();
        var clock = Stopwatch.StartNew();
        SyscallResult result = await Call(271, [0, 1, 0, 0, 8], inputs: new() { [0] = PollFds((read, POLLIN)), [2] = TimespecBytes(0, 150_000_000), [3] = [] });
        clock.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(145));

        result.Value.Should().Be(0);
        Output(result, 2).Should().Equal(TimespecBytes(0, 0), "the whole timeout was used");
    }

    [Fact]
    public async Task Ppoll_of_a_ready_pipe_leaves_most_of_its_timeout()
    {
        (int read, _, AnonymousPipeServerStream writer) = PipeWithWriter();
        writer.Write("x"u8);
        SyscallResult result = await Call(271, [0, 1, 0, 0, 8], inputs: new() { [0] = PollFds((read, POLLIN)), [2] = TimespecBytes(5, 0) });
        result.Value.Should().Be(1);
        long secondsLeft = BinaryPrimitives.ReadInt64LittleEndian(Output(result, 2));
        secondsLeft.Should().BeInRange(3, 4, "almost all of the 5 s remain");
    }

    [Fact]
    public async Task Ppoll_refuses_an_invalid_timespec_and_leaves_the_signal_mask_to_the_shim()
    {
        (int read, _) = Pipe();
        (await Call(271, [0, 1, 0, 0, 8], inputs: new() { [0] = PollFds((read, POLLIN)), [2] = TimespecBytes(0, 1_000_000_000) })).Value.Should().Be(-EINVAL);
        (await Call(271, [0, 1, 0, 1, 16], inputs: new() { [0] = PollFds((read, POLLIN)), [2] = TimespecBytes(0, 0) })).Value.Should().Be(0,
            "the mask is a SignalMask argument (1.4): the shim checks its size (EINVAL, keep suite case msg) and applies it; the host sees only 1");
    }

    // ---- helpers ----

    private int FixedSize(int number, int argument) => _set.Syscalls.Single(s => s.Number == number).Arguments[argument].FixedSize;

    private async Task<SyscallResult> Call(
        int number,
        ulong[] arguments,
        Dictionary<int, byte[]>? inputs = null,
        Dictionary<int, int>? capacities = null,
        IKeepSession? session = null,
        CancellationToken cancellationToken = default)
    {
        ISyscallHandlerSet set = _set.Syscalls.Any(s => s.Number == number) ? _set : _files;
        SyscallSignature signature = set.Syscalls.Single(s => s.Number == number);
        var values = new ulong[6];
        arguments.CopyTo(values, 0);
        var inputBytes = new ReadOnlyMemory<byte>[6];
        var outputCapacities = new int[6];
        for (int i = 0; i < signature.Arguments.Count; i++)
        {
            SyscallArgument argument = signature.Arguments[i];
            if (inputs is not null && inputs.TryGetValue(i, out byte[]? bytes) && argument.Kind is not (ArgumentKind.Value or ArgumentKind.OutputBuffer or ArgumentKind.OutputIovec))
            {
                inputBytes[i] = bytes;
            }
            else if (argument.Kind == ArgumentKind.InputBuffer && argument.FixedSize > 0)
            {
                inputBytes[i] = new byte[argument.FixedSize];
            }

            if (argument.Kind is ArgumentKind.InOutBuffer or ArgumentKind.InOutArray)
            {
                outputCapacities[i] = inputBytes[i].Length; // in place: the capacity is what came in
            }

            if (argument.Kind is ArgumentKind.OutputBuffer or ArgumentKind.OutputIovec)
            {
                outputCapacities[i] = capacities is not null && capacities.TryGetValue(i, out int capacity)
                    ? capacity
                    : argument.FixedSize > 0 ? argument.FixedSize : (int)Math.Min(values[argument.LengthArgument], 1 << 21);
            }
        }

        var request = new SyscallRequest(signature, values, inputBytes, outputCapacities);
        SyscallResult result = await set.HandleAsync(request, session ?? _session, cancellationToken);
        foreach (SyscallOutput output in result.Outputs)
        {
            output.Data.Length.Should().BeLessThanOrEqualTo(outputCapacities[output.ArgumentIndex], "an output never exceeds its capacity");
        }

        return result;
    }

    private KeepSession NewSession(KeepPolicy? policy = null)
    {
        var session = new KeepSession(
            new WorkloadIdentity(WorkloadPath, new string('0', 64), 4096),
            policy ?? KeepPolicy.DenyAll,
            new KeepStdio(0, 1, 2),
            NullLogger.Instance);
        _disposables.Add(session);
        return session;
    }

    /// <summary>A host pipe whose two ends are in the keep's table, which owns them.</summary>
    private (int Read, int Write) Pipe()
    {
        var server = new AnonymousPipeServerStream(PipeDirection.Out);
        _disposables.Add(server);
        return (Adopt(server.ClientSafePipeHandle, "pipe:[read]"), Adopt(server.SafePipeHandle, "pipe:[write]"));
    }

    /// <summary>A host pipe whose read end is in the keep's table; the returned stream writes to it (and owns that end).</summary>
    private (int Read, int Write, AnonymousPipeServerStream Writer) PipeWithWriter()
    {
        var server = new AnonymousPipeServerStream(PipeDirection.Out);
        _disposables.Add(server);
        int read = Adopt(server.ClientSafePipeHandle, "pipe:[read]");
        int write = _session.Files.Add(new HostOpenFile((int)server.SafePipeHandle.DangerousGetHandle(), "pipe:[write]", ownsDescriptor: false));
        return (read, write, server);
    }

    private int OpenFile(string name, ReadOnlySpan<byte> content)
    {
        string path = Path.Combine(_directory.FullName, name);
        File.WriteAllBytes(path, content.ToArray());
        return Adopt(File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite), path);
    }

    /// <summary>Moves <paramref name="handle"/>'s host descriptor into the keep's table, which then owns (and closes) it.</summary>
    private int Adopt(SafeHandle handle, string description)
    {
        int descriptor = (int)handle.DangerousGetHandle();
        handle.SetHandleAsInvalid();
        return _session.Files.Add(new HostOpenFile(descriptor, description, ownsDescriptor: true));
    }

    private static byte[] Output(SyscallResult result, int argument) =>
        result.Outputs.Should().ContainSingle(o => o.ArgumentIndex == argument).Which.Data.ToArray();

    private static int Mode(byte[] stat) => (int)BinaryPrimitives.ReadUInt32LittleEndian(stat.AsSpan(24)) & SIfmt;

    private static byte[] CString(string text) => [.. Encoding.UTF8.GetBytes(text), 0];

    private static string UtsField(byte[] name, int index)
    {
        ReadOnlySpan<byte> field = name.AsSpan(index * 65, 65);
        return Encoding.ASCII.GetString(field[..field.IndexOf((byte)0)]);
    }

    private static Timespec Time(SyscallResult result, int argument)
    {
        result.Value.Should().Be(0);
        return Timespec.Read(Output(result, argument));
    }

    private static (ulong Soft, ulong Hard) Rlimit(SyscallResult result, int argument)
    {
        result.Value.Should().Be(0);
        byte[] bytes = Output(result, argument);
        bytes.Should().HaveCount(16);
        return (BinaryPrimitives.ReadUInt64LittleEndian(bytes), BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)));
    }

    private static byte[] RlimitBytes(ulong soft, ulong hard)
    {
        byte[] bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, soft);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), hard);
        return bytes;
    }

    private readonly record struct Timespec(long Seconds, long Nanoseconds)
    {
        public long Total => (Seconds * 1_000_000_000) + Nanoseconds;

        public static Timespec Read(byte[] bytes)
        {
            bytes.Should().HaveCount(16);
            return new(BinaryPrimitives.ReadInt64LittleEndian(bytes), BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8)));
        }

        public static byte[] Bytes(long seconds, long nanoseconds)
        {
            byte[] bytes = new byte[16];
            BinaryPrimitives.WriteInt64LittleEndian(bytes, seconds);
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), nanoseconds);
            return bytes;
        }
    }
}
