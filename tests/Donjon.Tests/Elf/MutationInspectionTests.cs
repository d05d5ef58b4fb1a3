using Donjon.Abstractions.Images;
using Donjon.Abstractions.Sessions;
using Donjon.Host.Elf;
using Donjon.Host.Images;
using Donjon.Tests.Workloads;

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
    public void MutationsOfTheGlibcStaticPie_NeverThrowAndAlwaysExplain()
    {
        // 800 KB hashed 2000 times would dominate the test, and the hash takes no part in the verdict, so the
        // mutants go through the overload that is given the hash.
        byte[] file = DamagedFileInspectionTests.StaticPieBytes();
        int runnableCount = Mutate(file, buildRunnable: false);

        runnableCount.Should().BeGreaterThan(0, "some mutations (in code or data) leave the file runnable");
        runnableCount.Should().BeLessThan(MutationCount, "many header mutations make the file unrunnable");
    }

    [Fact]
    public void MutationsOfTheAssemblyStaticPie_NeverThrowAndBuildWhenRunnable()
    {
        // The small assembly program is inspected with its hash and, when still runnable, built into a keep image.
        byte[] file = File.ReadAllBytes(WorkloadBuilder.Build(Workload.AssemblyStaticPieHi));
        int runnableCount = Mutate(file, buildRunnable: true);

        runnableCount.Should().BeGreaterThan(0);
        runnableCount.Should().BeLessThan(MutationCount);
    }

    /// <summary>
    /// Applies <see cref="MutationCount"/> single mutations (bit flips, random bytes, 0x00/0xff) to
    /// <paramref name="file"/>, one at a time, each undone after it is inspected; returns how many stayed runnable.
    /// </summary>
    private static int Mutate(byte[] file, bool buildRunnable)
    {
        byte[] original = (byte[])file.Clone();
        ElfReport pristine = ElfInspector.Inspect(file, "pristine");
        pristine.IsRunnable.Should().BeTrue();
        int headersEnd = 64 + (pristine.Header!.ProgramHeaderCount * 56);
        ElfProgramHeader dynamic = pristine.ProgramHeaders.Single(header => header.Type == "PT_DYNAMIC");
        var failures = new List<string>();
        var random = new Random(MutationSeed);
        int runnableCount = 0;

        for (int mutation = 0; mutation < MutationCount; mutation++)
        {
            // Aim most mutations where parsing happens: the headers, the dynamic section, and anywhere at all.
            int offset = (mutation % 4) switch
            {
                0 or 1 => random.Next(0, headersEnd),
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
            try
            {
                ElfReport report = buildRunnable ? ElfInspector.Inspect(file, "mutated") : ElfInspector.Inspect(file, "mutated", pristine.Sha256);
                if (report.IsRunnable)
                {
                    runnableCount++;
                    if (report.Verdict.RejectionReason is not null)
                    {
                        failures.Add($"{what}: runnable, yet with a rejection reason");
                    }

                    if (buildRunnable)
                    {
                        BuildMustSucceed(report, file, what, failures);
                    }
                }
                else if (string.IsNullOrWhiteSpace(report.Verdict.RejectionReason))
                {
                    failures.Add($"{what}: rejected ({report.Verdict.Kind}) without a reason");
                }
            }
            catch (Exception exception)
            {
                failures.Add($"{what}: Inspect threw {exception}");
            }

            file[offset] = before;
        }

        failures.Should().BeEmpty();
        file.Should().Equal(original, "every mutation was undone");
        return runnableCount;
    }

    private static void BuildMustSucceed(ElfReport report, byte[] file, string what, List<string> failures)
    {
        var request = new KeepImageRequest(
            report, file, "/work/mutated", ["mutated"], [], 1000, 1000, KeepLimits.Default, Seed: 1, ReadOnlyMemory<byte>.Empty);
        try
        {
            KeepImage image = KeepImageBuilder.Build(request);
            if (image.Segments.Count == 0)
            {
                failures.Add($"{what}: runnable, yet its image has no segments");
            }
        }
        catch (KeepImageException exception) when (exception.Message.Contains("limits.memorySize", StringComparison.Ordinal))
        {
            // A mutated p_memsz can ask for gigabytes: a valid ELF that the admin's memory limit refuses, with the
            // remedy, as `run` reports it (126). Any other failure to build a runnable file is a bug.
        }
        catch (Exception exception)
        {
            failures.Add($"{what}: runnable, yet KeepImageBuilder.Build threw {exception}");
        }
    }
}
