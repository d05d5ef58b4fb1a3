using System.Buffers.Binary;
using Donjon.Host.Protocol;
using Donjon.Syscalls.Files;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Protocol;

/// <summary>
/// The shims' own check of the configuration page (<c>dj_table_load</c> in asm/common/marshal.c, shared by both
/// shims), run natively by asm/tests/table_check.c on the page the host builds for the files set, and on hostile
/// variants of its 1.5 choice table: the host is untrusted to the shim, so each must be refused with its reason.
/// </summary>
public sealed class ShimTableCheckTests : IDisposable
{
    private const int TableOffsetField = 0x0C, ChoiceOffsetField = 0x64, ChoiceCountField = 0x68, EntrySize = 32, ChoiceSize = 8;
    private const int Fcntl = 72, SelectedArgument = 2;

    private static readonly Lazy<string> Checker = new(() =>
    {
        string output = Path.Combine(AppContext.BaseDirectory, "table_check");
        ToolRunner.RunChecked("gcc", "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-fno-builtin",
            "-I", Repository.PathOf("asm/include"), "-o", output,
            Repository.PathOf("asm/tests/table_check.c"), Repository.PathOf("asm/common/marshal.c"));
        return output;
    });

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static byte[] FilesPage() => ConfigurationPageBuilder.BuildTable([new FileSyscalls()]).ConfigurationPage.ToArray();

    private string Check(byte[] page)
    {
        string file = Path.Combine(_dir.Path, "page");
        File.WriteAllBytes(file, page);
        var result = ToolRunner.Run(Checker.Value, file);
        result.ExitCode.Should().Be(0, result.StandardError);
        return result.StandardOutput.TrimEnd('\n');
    }

    private static int FcntlEntry(byte[] page) => BinaryPrimitives.ReadInt32LittleEndian(page.AsSpan(TableOffsetField)) + Fcntl * EntrySize;

    private static int ChoiceAt(byte[] page, int index) => BinaryPrimitives.ReadInt32LittleEndian(page.AsSpan(ChoiceOffsetField)) + index * ChoiceSize;

    /// <summary>fcntl's selected argument: its first choice's index and its choice count.</summary>
    private static (int First, int Count) FcntlChoices(byte[] page)
    {
        int entry = FcntlEntry(page);
        return (BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(entry + 2)),
            BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(entry + 4 + 4 * SelectedArgument + 2)));
    }

    [Fact]
    public void The_page_the_host_builds_for_the_files_set_with_fcntls_choices_is_accepted()
    {
        byte[] page = FilesPage();
        page[FcntlEntry(page) + 4 + 4 * SelectedArgument].Should().Be(15, "fcntl's third argument is a selected argument");
        FcntlChoices(page).Count.Should().BeGreaterThan(1);
        Check(page).Should().Be("ok");
    }

    [Fact]
    public void A_page_shorter_than_its_header_or_with_another_header_size_is_refused()
    {
        Check(FilesPage()[..100]).Should().Be("configuration page: smaller than its 128-byte header");
        byte[] page = FilesPage();
        BinaryPrimitives.WriteInt32LittleEndian(page.AsSpan(0x08), 64);
        Check(page).Should().Be("configuration page: header size is not 128");
    }

    public static TheoryData<string, string> HostilePages => new()
    {
        { "more than 256 choices", "configuration page: more than 256 choices" },
        { "a choice table over the syscall table", "configuration page: the choice table overlaps the header or the syscall table, or runs past the page" },
        { "a choice table past the page", "configuration page: the choice table overlaps the header or the syscall table, or runs past the page" },
        { "a choice table over the header", "configuration page: the choice table overlaps the header or the syscall table, or runs past the page" },
        { "choices out of order", "configuration page: a selected argument's choices are not sorted by selector value, or repeat one" },
        { "a repeated selector value", "configuration page: a selected argument's choices are not sorted by selector value, or repeat one" },
        { "a choice of kind CString", "configuration page: a choice is neither a value nor a fixed-size buffer" },
        { "a buffer choice of size 0", "configuration page: a choice is neither a value nor a fixed-size buffer" },
        { "a value choice with a size", "configuration page: a choice is neither a value nor a fixed-size buffer" },
        { "choices running past the table", "configuration page: a selected argument's choices are not 1-64 entries inside the choice table" },
        { "no choices", "configuration page: a selected argument's choices are not 1-64 entries inside the choice table" },
        { "65 choices", "configuration page: a selected argument's choices are not 1-64 entries inside the choice table" },
        { "the selector is the selected argument", "configuration page: a selected argument's selector is not another, value, argument" },
        { "no selector", "configuration page: a selected argument's selector is not another, value, argument" },
    };

    [Theory]
    [MemberData(nameof(HostilePages))]
    public void A_hostile_choice_table_is_refused_by_the_shim_with_its_reason(string change, string refusal)
    {
        byte[] page = FilesPage();
        int entry = FcntlEntry(page);
        int argument = entry + 4 + 4 * SelectedArgument;
        var (first, count) = FcntlChoices(page);
        int choiceCount = BinaryPrimitives.ReadInt32LittleEndian(page.AsSpan(ChoiceCountField));
        int firstChoice = ChoiceAt(page, first);
        int secondChoice = ChoiceAt(page, first + 1);
        switch (change)
        {
            case "more than 256 choices":
                BinaryPrimitives.WriteInt32LittleEndian(page.AsSpan(ChoiceCountField), 257);
                break;
            case "a choice table over the syscall table":
                BinaryPrimitives.WriteInt32LittleEndian(page.AsSpan(ChoiceOffsetField), BinaryPrimitives.ReadInt32LittleEndian(page.AsSpan(TableOffsetField)) + EntrySize);
                break;
            case "a choice table past the page":
                BinaryPrimitives.WriteInt32LittleEndian(page.AsSpan(ChoiceOffsetField), page.Length - (choiceCount * ChoiceSize) + 4);
                break;
            case "a choice table over the header":
                BinaryPrimitives.WriteInt32LittleEndian(page.AsSpan(ChoiceOffsetField), 0x40);
                break;
            case "choices out of order":
            {
                // Swap the first two choices (both whole 8-byte records).
                byte[] a = page.AsSpan(firstChoice, ChoiceSize).ToArray();
                page.AsSpan(secondChoice, ChoiceSize).CopyTo(page.AsSpan(firstChoice));
                a.CopyTo(page.AsSpan(secondChoice));
                break;
            }
            case "a repeated selector value":
                page.AsSpan(firstChoice, 4).CopyTo(page.AsSpan(secondChoice));
                break;
            case "a choice of kind CString":
                page[firstChoice + 4] = 4;
                break;
            case "a buffer choice of size 0":
                int buffer = Enumerable.Range(first, count).Select(i => ChoiceAt(page, i)).First(at => page[at + 4] != 0);
                BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(buffer + 6), 0);
                break;
            case "a value choice with a size":
                page[firstChoice + 4] = 0;
                BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(firstChoice + 6), 8);
                break;
            case "choices running past the table":
                BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(entry + 2), (ushort)(choiceCount - count + 1));
                break;
            case "no choices":
                BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(argument + 2), 0);
                break;
            case "65 choices":
                BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(argument + 2), 65);
                break;
            case "the selector is the selected argument":
                page[argument + 1] = SelectedArgument;
                break;
            case "no selector":
                page[argument + 1] = 0xFF;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(change), change, null);
        }

        Check(page).Should().Be(refusal, change);
    }
}
