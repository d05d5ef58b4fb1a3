using Donjon.Abstractions.Images;
using Donjon.Abstractions.Sessions;
using Donjon.Host.Elf;
using Donjon.Host.Images;

namespace Donjon.Tests.Elf;

/// <summary>
/// Feeds the inspector many truncated and mutated copies of a real static-PIE. It must never throw; every file
/// is either runnable (and then a keep image can be built from it) or rejected with a reason.
/// </summary>
public sealed class MutationInspectionTests
{
    private const int MutationCount = 2000;

    /// <summary>The fixed seed of the mutations, so a failure can be replayed.</summary>
    private const int MutationSeed = 20_240_601;

    [Fact]
    public void EveryTruncationInsideTheHeaders_IsRejectedWithAReason()
    {
        byte[] file = DamagedFileInspectionTests.StaticPieBytes();
        ElfReport whole = ElfInspector.Inspect(file, "whole");
        int headersEnd = 64 + (whole.Header!.ProgramHeaderCount * 56);

        for (int length = 0; length <= headersEnd; length++)
        {
            ElfReport report = ElfInspector.Inspect(file.AsMemory(0, length), $"cut at {length}");

            report.IsRunnable.Should().BeFalse($"a file cut at {length} bytes is incomplete");
            report.Verdict.RejectionReason.Should().NotBeNullOrWhiteSpace();
            report.Verdict.Kind.Should().BeOneOf(
                [ElfRejectionKind.NotElf, ElfRejectionKind.Truncated, ElfRejectionKind.SegmentOutsideFile],
                $"a file cut at {length} bytes is truncated; the reason was: {report.Verdict.RejectionReason}");
            report.FileSize.Should().Be(length);
        }
    }

    [Fact]
    public void RandomTruncations_AreRejectedAsTruncated()
    {
        byte[] file = DamagedFileInspectionTests.StaticPieBytes();
        var random = new Random(MutationSeed);

        for (int attempt = 0; attempt < 200; attempt++)
        {
            int length = random.Next(1, file.Length);
            ElfReport report = ElfInspector.Inspect(file.AsMemory(0, length), $"cut at {length}");

            report.IsRunnable.Should().BeFalse($"a file cut at {length} of {file.Length} bytes is incomplete");
            report.Verdict.Kind.Should().BeOneOf(
                [ElfRejectionKind.NotElf, ElfRejectionKind.Truncated, ElfRejectionKind.SegmentOutsideFile],
                $"a file cut at {length} bytes is truncated; the reason was: {report.Verdict.RejectionReason}");
            report.Verdict.RejectionReason.Should().Contain("truncated");
        }
    }

    [Fact]
    public void BitFlipsAndByteMutations_NeverThrow()
    {
        byte[] original = DamagedFileInspectionTests.StaticPieBytes();
        byte[] file = (byte[])original.Clone();
        ElfReport pristine = ElfInspector.Inspect(file, "pristine");
        pristine.IsRunnable.Should().BeTrue();
        ElfProgramHeader dynamic = pristine.ProgramHeaders.Single(header => header.Type == "PT_DYNAMIC");
        var random = new Random(MutationSeed);
        int runnableCount = 0;

        for (int mutation = 0; mutation < MutationCount; mutation++)
        {
            // Aim most mutations where parsing happens: the headers, the dynamic section, and anywhere at all.
            int offset = (mutation % 4) switch
            {
                0 or 1 => random.Next(0, 64 + (pristine.Header!.ProgramHeaderCount * 56)),
                2 => (int)dynamic.Offset + random.Next(0, (int)dynamic.FileSize),
                _ => random.Next(0, file.Length),
            };
            byte before = file[offset];
            file[offset] = (mutation % 3) switch
            {
                0 => (byte)(before ^ (1 << random.Next(8))),
                1 => (byte)random.Next(256),
                _ => random.Next(2) == 0 ? (byte)0 : (byte)0xff,
            };
            string what = $"mutation {mutation} (seed {MutationSeed}): byte {offset} {before:x2} -> {file[offset]:x2}";

            ElfReport report = null!;
            Action inspect = () => report = ElfInspector.Inspect(file, "mutated");
            inspect.Should().NotThrow(what);
            if (report.IsRunnable)
            {
                runnableCount++;
                report.Verdict.RejectionReason.Should().BeNull(what);
                BuildMustSucceedOrExplain(report, file, what);
            }
            else
            {
                report.Verdict.RejectionReason.Should().NotBeNullOrWhiteSpace(what);
            }

            file[offset] = before;
        }

        file.Should().Equal(original, "every mutation was undone");
        runnableCount.Should().BeGreaterThan(0, "some mutations (in code or data) leave the file runnable");
        runnableCount.Should().BeLessThan(MutationCount, "most header mutations make the file unrunnable");
    }

    private static void BuildMustSucceedOrExplain(ElfReport report, byte[] file, string what)
    {
        var request = new KeepImageRequest(
            report, file, "/work/mutated", ["mutated"], [], 1000, 1000, KeepLimits.Default, Seed: 1, ReadOnlyMemory<byte>.Empty);
        KeepImage? image = null;
        Action build = () => image = KeepImageBuilder.Build(request);
        build.Should().NotThrow(what);
        image!.Segments.Should().NotBeEmpty(what);
    }
}
