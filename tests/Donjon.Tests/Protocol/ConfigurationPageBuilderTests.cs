using System.Buffers.Binary;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Host.Protocol;

namespace Donjon.Tests.Protocol;

/// <summary>The configuration page of docs/protocol.md §2: round trip, and every declaration the host refuses.</summary>
public sealed class ConfigurationPageBuilderTests
{
    private static DeclaredSyscall Core(SyscallSignature signature) => new("core", signature);

    private static void ShouldRefuse(SyscallSignature signature, string because)
    {
        var act = () => ConfigurationPageBuilder.Build([Core(signature)]);
        act.Should().Throw<ArgumentException>()
            .Which.Message.Should().Contain("'core'").And.Contain($"syscall {signature.Number} ({signature.Name})").And.Contain(because);
    }

    /// <summary>A test-side reader of the page, from the document's offsets.</summary>
    private static (int Count, Dictionary<int, (ArgumentKind Kind, int Length, int Fixed)[]> Declared) ReadPage(byte[] page)
    {
        BinaryPrimitives.ReadUInt32LittleEndian(page).Should().Be(0x434E4A44);
        BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(4)).Should().Be(1);
        BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(6)).Should().Be(5, "configuration page 1.5: selected arguments and the choice table");
        BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(8)).Should().Be(128);
        int table = (int)BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(0x0C));
        int count = (int)BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(0x10));
        BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(0x14)).Should().Be(32);
        BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(0x18)).Should().BeInRange(1u, 1024u, "max threads");
        BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(0x1C)).Should().BeInRange(1u, 8u, "cpus");
        page.AsSpan(0x20, 0x44).ToArray().Should().OnlyContain(b => b == 0, "no module digest (0x20), no manifest digest (0x40) and no flags (0x60) for a program");
        int choices = (int)BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(0x68));
        BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(0x64)).Should().Be(choices == 0 ? 0u : (uint)(table + (32 * count)), "the choice table follows the syscall table");
        page.AsSpan(0x6C, 20).ToArray().Should().OnlyContain(b => b == 0, "reserved");
        page.Length.Should().Be(table + (32 * count) + (8 * choices));

        var declared = new Dictionary<int, (ArgumentKind, int, int)[]>();
        for (int n = 0; n < count; n++)
        {
            var entry = page.AsSpan(table + (32 * n), 32);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(entry);
            bool hasSelected = false;
            for (int i = 0; i < 6; i++)
            {
                hasSelected |= entry[4 + (4 * i)] == (byte)ArgumentKind.Selected;
            }

            if (!hasSelected)
            {
                BinaryPrimitives.ReadUInt16LittleEndian(entry[2..]).Should().Be(0, "only an entry with a selected argument has a first choice");
            }

            BinaryPrimitives.ReadUInt32LittleEndian(entry[0x1C..]).Should().Be(0);
            if ((flags & 1) == 0)
            {
                entry.ToArray().Should().OnlyContain(b => b == 0, "an undeclared entry is all zero");
                continue;
            }

            var arguments = new (ArgumentKind, int, int)[6];
            for (int i = 0; i < 6; i++)
            {
                arguments[i] = ((ArgumentKind)entry[4 + (4 * i)], entry[5 + (4 * i)], BinaryPrimitives.ReadUInt16LittleEndian(entry[(6 + (4 * i))..]));
            }

            declared[n] = arguments;
        }

        return (count, declared);
    }

    [Fact]
    public void The_page_round_trips_every_declaration()
    {
        var declarations = TestShim.Signatures.Select(s => new DeclaredSyscall(s.Number < 100 ? "core" : "extra", s)).ToList();
        var (count, declared) = ReadPage(ConfigurationPageBuilder.Build(declarations));

        count.Should().Be(402, "the highest declared number is 401");
        declared.Keys.Should().BeEquivalentTo(TestShim.Signatures.Select(s => s.Number));
        foreach (var signature in TestShim.Signatures)
        {
            for (int i = 0; i < 6; i++)
            {
                var expected = i < signature.Arguments.Count ? signature.Arguments[i] : SyscallArgument.Value;
                int size = expected.Kind == ArgumentKind.Selected ? expected.Choices!.Count : expected.FixedSize; // 1.5: a selected argument's is its choice count
                declared[signature.Number][i].Should().Be((expected.Kind, expected.LengthArgument < 0 ? 0xFF : expected.LengthArgument, size),
                    $"syscall {signature.Name} argument {i}");
            }
        }
    }

    [Fact]
    public void The_trace_flag_is_off_by_default_and_set_alone_by_WithTrace()
    {
        byte[] page = ConfigurationPageBuilder.Build([Core(TestShim.Signature("write"))]);
        BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(0x60)).Should().Be(0, "an untraced keep's flags are zero, as the reserved bytes were");

        byte[] traced = ConfigurationPageBuilder.WithTrace(page);
        BinaryPrimitives.ReadUInt32LittleEndian(traced.AsSpan(0x60)).Should().Be(1);
        traced.AsSpan(0, 0x60).ToArray().Should().Equal(page.AsSpan(0, 0x60).ToArray());
        traced.AsSpan(0x64).ToArray().Should().Equal(page.AsSpan(0x64).ToArray(), "only the flag changes");
        BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(0x60)).Should().Be(0, "the page given is not changed");
    }

    [Fact]
    public void No_declaration_gives_an_empty_table()
    {
        var (count, declared) = ReadPage(ConfigurationPageBuilder.Build([]));
        count.Should().Be(0);
        declared.Should().BeEmpty();
    }

    [Fact]
    public void Syscall_1023_is_the_highest_allowed()
    {
        ReadPage(ConfigurationPageBuilder.Build([Core(new SyscallSignature(1023, "last", []))])).Count.Should().Be(1024);
    }

    [Fact]
    public void A_syscall_declared_by_two_sets_is_refused_naming_both()
    {
        var act = () => ConfigurationPageBuilder.Build([new DeclaredSyscall("core", new(1, "write", [])), new DeclaredSyscall("files", new(1, "write", []))]);
        act.Should().Throw<ArgumentException>().WithMessage("*syscall 1 (write*declared by both 'core' and 'files'*");
    }

    [Fact]
    public void A_syscall_declared_twice_by_one_set_is_refused()
    {
        var act = () => ConfigurationPageBuilder.Build([Core(new(1, "write", [])), Core(new(1, "write", []))]);
        act.Should().Throw<ArgumentException>().WithMessage("*declared twice by 'core'*");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1024)]
    [InlineData(int.MaxValue)]
    public void A_number_outside_0_to_1023_is_refused(int number) =>
        ShouldRefuse(new SyscallSignature(number, "odd", []), "0-1023");

    [Fact]
    public void More_than_six_arguments_are_refused() =>
        ShouldRefuse(new SyscallSignature(5, "seven", Enumerable.Repeat(SyscallArgument.Value, 7).ToArray()), "at most 6");

    [Fact]
    public void An_unknown_argument_kind_is_refused() =>
        ShouldRefuse(new SyscallSignature(5, "future", [new SyscallArgument((ArgumentKind)16)]), "unknown argument kind 16; this host knows kinds 0-15");

    [Theory]
    [InlineData(ArgumentKind.InputArray)]
    [InlineData(ArgumentKind.OutputArray)]
    [InlineData(ArgumentKind.InOutArray)]
    public void An_array_without_element_size_is_refused(ArgumentKind kind) =>
        ShouldRefuse(new SyscallSignature(7, "poll", [new SyscallArgument(kind, 1), SyscallArgument.Value]), "an array needs both a count argument");

    [Theory]
    [InlineData(ArgumentKind.InputArray)]
    [InlineData(ArgumentKind.OutputArray)]
    [InlineData(ArgumentKind.InOutArray)]
    public void An_array_without_count_argument_is_refused(ArgumentKind kind) =>
        ShouldRefuse(new SyscallSignature(7, "poll", [new SyscallArgument(kind, -1, 8), SyscallArgument.Value]), "an array needs both a count argument");

    [Fact]
    public void An_array_counted_by_a_pointer_is_refused() =>
        ShouldRefuse(new SyscallSignature(7, "poll", [SyscallArgument.InOutArray(1, 8), SyscallArgument.CString]), "is not a Value argument");

    [Fact]
    public void A_syscall_the_shims_serve_is_refused() =>
        ShouldRefuse(new SyscallSignature(12, "brk", [SyscallArgument.Value]), "the shims serve brk (syscall 12) themselves");

    [Fact]
    public void Getrandom_stays_declarable_for_the_vm_shims_fallback() =>
        ConfigurationPageBuilder.Build([Core(new SyscallSignature(318, "getrandom", [SyscallArgument.Output(1), SyscallArgument.Value, SyscallArgument.Value]))])
            .Should().NotBeEmpty();

    [Fact]
    public void An_array_is_encoded_as_kind_count_argument_and_element_size()
    {
        var page = ConfigurationPageBuilder.Build([Core(new SyscallSignature(7, "poll", [SyscallArgument.InOutArray(1, 8), SyscallArgument.Value, SyscallArgument.Value]))]);
        BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(6)).Should().BeGreaterThanOrEqualTo(1, "the array kinds are configuration page 1.1");
        var entry = page.AsSpan(128 + (7 * 32), 32);
        entry[4].Should().Be(9);
        entry[5].Should().Be(1);
        BinaryPrimitives.ReadUInt16LittleEndian(entry[6..]).Should().Be(8);
    }

    [Theory]
    [InlineData(ArgumentKind.InputBuffer)]
    [InlineData(ArgumentKind.OutputBuffer)]
    [InlineData(ArgumentKind.InOutBuffer)]
    public void A_buffer_with_neither_length_argument_nor_fixed_size_is_refused(ArgumentKind kind) =>
        ShouldRefuse(new SyscallSignature(5, "vague", [new SyscallArgument(kind), SyscallArgument.Value]), "has neither");

    [Fact]
    public void An_iovec_array_without_length_argument_is_refused() =>
        ShouldRefuse(new SyscallSignature(5, "vague", [new SyscallArgument(ArgumentKind.InputIovec, -1, 16)]), "iovec array needs a length argument");

    [Theory]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(-2)]
    public void A_length_argument_out_of_range_is_refused(int index) =>
        ShouldRefuse(new SyscallSignature(5, "far", [SyscallArgument.Value, new SyscallArgument(ArgumentKind.InputBuffer, index), SyscallArgument.Value]), "out of range");

    [Fact]
    public void A_length_argument_that_is_not_a_value_is_refused() =>
        ShouldRefuse(new SyscallSignature(5, "loop", [SyscallArgument.CString, SyscallArgument.Input(0)]), "is not a Value argument");

    [Fact]
    public void A_length_argument_pointing_at_itself_is_refused() =>
        ShouldRefuse(new SyscallSignature(5, "self", [SyscallArgument.Input(0)]), "is not a Value argument");

    [Theory]
    [InlineData(65536)]
    [InlineData(-1)]
    public void A_fixed_size_outside_0_to_65535_is_refused(int size) =>
        ShouldRefuse(new SyscallSignature(5, "huge", [SyscallArgument.OutputOfSize(size)]), "0-65535");

    [Fact]
    public void A_fixed_size_of_65535_is_allowed() =>
        ConfigurationPageBuilder.Build([Core(new SyscallSignature(5, "big", [SyscallArgument.OutputOfSize(65535)]))]).Should().NotBeEmpty();

    [Fact]
    public void A_buffer_with_both_length_argument_and_fixed_size_is_refused() =>
        ShouldRefuse(new SyscallSignature(5, "both", [SyscallArgument.Value, new SyscallArgument(ArgumentKind.InputBuffer, 0, 8)]), "not both");

    [Fact]
    public void A_value_with_a_size_is_refused() =>
        ShouldRefuse(new SyscallSignature(5, "sized", [new SyscallArgument(ArgumentKind.Value, -1, 8)]), "takes neither");

    private static SyscallSignature Fcntl(params ArgumentChoice[] choices) =>
        new(72, "fcntl", [SyscallArgument.Value, SyscallArgument.Value, SyscallArgument.Selected(1, choices)]);

    [Fact]
    public void A_selected_argument_is_kind_15_with_its_choices_sorted_in_the_choice_table_after_the_syscall_table()
    {
        var ioctl = new SyscallSignature(16, "ioctl", [SyscallArgument.Value, SyscallArgument.Selected(2, new ArgumentChoice(0x5401, ArgumentKind.OutputBuffer, 60)), SyscallArgument.Value]);
        var fcntl = Fcntl(new ArgumentChoice(38, ArgumentKind.InputBuffer, 32), new ArgumentChoice(5, ArgumentKind.InOutBuffer, 32),
            new ArgumentChoice(1, ArgumentKind.Value), new ArgumentChoice(6, ArgumentKind.InputBuffer, 32));
        byte[] page = ConfigurationPageBuilder.Build([Core(fcntl), Core(ioctl)]);
        var (count, declared) = ReadPage(page);

        count.Should().Be(73);
        declared[72][2].Should().Be((ArgumentKind.Selected, 1, 4), "the fixed size of a selected argument is its choice count");
        declared[16][1].Should().Be((ArgumentKind.Selected, 2, 1));
        int table = 128 + (73 * 32);
        BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(0x64)).Should().Be((uint)table);
        BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(0x68)).Should().Be(5);
        BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(128 + (16 * 32) + 2)).Should().Be(0, "ioctl's choice comes first, in number order");
        BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(128 + (72 * 32) + 2)).Should().Be(1);

        var written = Enumerable.Range(0, 5).Select(c => page.AsSpan(table + (8 * c), 8).ToArray())
            .Select(c => (BinaryPrimitives.ReadUInt32LittleEndian(c), (ArgumentKind)c[4], c[5], BinaryPrimitives.ReadUInt16LittleEndian(c.AsSpan(6)))).ToArray();
        written.Should().Equal(
            (0x5401u, ArgumentKind.OutputBuffer, (byte)0, (ushort)60),
            (1u, ArgumentKind.Value, (byte)0, (ushort)0),
            (5u, ArgumentKind.InOutBuffer, (byte)0, (ushort)32),
            (6u, ArgumentKind.InputBuffer, (byte)0, (ushort)32),
            (38u, ArgumentKind.InputBuffer, (byte)0, (ushort)32));
    }

    [Fact]
    public void A_selected_argument_needs_a_choice() => ShouldRefuse(Fcntl(), "a selected argument needs 1-64 choices, and has 0");

    [Fact]
    public void More_than_64_choices_are_refused() =>
        ShouldRefuse(Fcntl([.. Enumerable.Range(0, 65).Select(c => new ArgumentChoice((uint)c, ArgumentKind.InputBuffer, 8))]), "a selected argument needs 1-64 choices, and has 65");

    [Fact]
    public void A_repeated_selector_value_is_refused() =>
        ShouldRefuse(Fcntl(new ArgumentChoice(6, ArgumentKind.InputBuffer, 32), new ArgumentChoice(6, ArgumentKind.InOutBuffer, 32)), "the choice for selector value 6 is given twice");

    [Theory]
    [InlineData(ArgumentKind.CString)]
    [InlineData(ArgumentKind.InputIovec)]
    [InlineData(ArgumentKind.InOutArray)]
    [InlineData(ArgumentKind.Selected)]
    [InlineData(ArgumentKind.SignalMask)]
    public void A_choice_that_is_no_value_or_fixed_size_buffer_is_refused(ArgumentKind kind) =>
        ShouldRefuse(Fcntl(new ArgumentChoice(6, kind, 32)), $"the choice for selector value 6 has kind {kind}; a choice is a Value or a fixed-size");

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    public void A_buffer_choice_without_a_fixed_size_of_1_to_65535_is_refused(int size) =>
        ShouldRefuse(Fcntl(new ArgumentChoice(6, ArgumentKind.InputBuffer, size)), $"the choice for selector value 6 is a buffer of fixed size {size}, not 1-65535");

    [Fact]
    public void A_value_choice_with_a_size_is_refused() =>
        ShouldRefuse(Fcntl(new ArgumentChoice(3, ArgumentKind.Value, 4)), "the choice for selector value 3 is a Value and takes no fixed size");

    [Fact]
    public void More_than_256_choices_in_all_are_refused()
    {
        var sets = Enumerable.Range(0, 5).Select(n => Core(new SyscallSignature(500 + n, $"call{n}", [SyscallArgument.Value,
            SyscallArgument.Selected(0, [.. Enumerable.Range(0, 52).Select(c => new ArgumentChoice((uint)c, ArgumentKind.InputBuffer, 8))])]))).ToList();
        var act = () => ConfigurationPageBuilder.Build(sets);
        act.Should().Throw<ArgumentException>().Which.Message.Should().Contain("260 choices of selected arguments in all; a configuration page holds at most 256");
    }

    [Fact]
    public void A_selected_argument_that_selects_itself_is_refused() =>
        ShouldRefuse(new SyscallSignature(72, "fcntl", [SyscallArgument.Value, SyscallArgument.Value, SyscallArgument.Selected(2, new ArgumentChoice(6, ArgumentKind.InputBuffer, 32))]), "argument 2");

    [Fact]
    public void A_selector_that_is_a_pointer_is_refused() =>
        ShouldRefuse(new SyscallSignature(72, "fcntl", [SyscallArgument.Value, SyscallArgument.CString, SyscallArgument.Selected(1, new ArgumentChoice(6, ArgumentKind.InputBuffer, 32))]), "argument 2");

    [Fact]
    public void A_selector_that_is_also_a_length_is_refused() =>
        ShouldRefuse(new SyscallSignature(72, "fcntl", [SyscallArgument.Input(1), SyscallArgument.Value, SyscallArgument.Selected(1, new ArgumentChoice(6, ArgumentKind.InputBuffer, 32)), SyscallArgument.Value]), "is also another argument's length");

    [Fact]
    public void Two_selected_arguments_are_refused() =>
        ShouldRefuse(new SyscallSignature(72, "fcntl", [SyscallArgument.Value, SyscallArgument.Selected(0, new ArgumentChoice(6, ArgumentKind.InputBuffer, 32)), SyscallArgument.Selected(0, new ArgumentChoice(6, ArgumentKind.InputBuffer, 32))]), "more than one Selected argument");

    [Fact]
    public void Choices_on_another_kind_are_refused() =>
        ShouldRefuse(new SyscallSignature(72, "fcntl", [SyscallArgument.Value, SyscallArgument.Value, SyscallArgument.Value with { Choices = [new ArgumentChoice(6, ArgumentKind.InputBuffer, 32)] }]), "only a Selected argument has choices");

    [Fact]
    public void BuildTable_reads_sets_and_gives_a_matching_dispatch()
    {
        var core = new FixedSet("core", [TestShim.Signature("read"), TestShim.Signature("write")]);
        var extra = new FixedSet("extra", [TestShim.Signature("getpid")]);
        var table = ConfigurationPageBuilder.BuildTable([core, extra]);

        table.Dispatch.Keys.Should().BeEquivalentTo([0, 1, 39]);
        table.Dispatch[39].Set.Should().BeSameAs(extra);
        table.Dispatch[0].Set.Should().BeSameAs(core);
        table.Dispatch[1].Signature.Should().BeEquivalentTo(TestShim.Signature("write"));
        ReadPage(table.ConfigurationPage.ToArray()).Declared.Keys.Should().BeEquivalentTo([0, 1, 39]);
    }

    [Fact]
    public void BuildTable_names_the_sets_of_a_duplicate()
    {
        var act = () => ConfigurationPageBuilder.BuildTable([new FixedSet("core", [TestShim.Signature("read")]), new FixedSet("net", [TestShim.Signature("read")])]);
        act.Should().Throw<ArgumentException>().WithMessage("*'core' and 'net'*");
    }

    [Fact]
    public void BuildTable_snapshots_the_declarations()
    {
        var arguments = new List<SyscallArgument> { SyscallArgument.Value };
        var set = new FixedSet("core", [new SyscallSignature(3, "close", arguments)]);
        var table = ConfigurationPageBuilder.BuildTable([set]);
        arguments.Add(SyscallArgument.CString); // the plugin changes its list afterwards
        table.Dispatch[3].Signature.Arguments.Should().HaveCount(1);
    }

    private sealed class FixedSet(string name, IReadOnlyList<SyscallSignature> syscalls) : ISyscallHandlerSet
    {
        public string Name => name;

        public IReadOnlyList<SyscallSignature> Syscalls => syscalls;

        public ValueTask<SyscallResult> HandleAsync(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken) =>
            ValueTask.FromResult(SyscallResult.Error(38));
    }
}
