using Donjon.Abstractions.Keeps;
using Donjon.Host.Cli;
using Donjon.Host.Execution;
using Microsoft.Extensions.Logging;

namespace Donjon.Tests.Execution;

/// <summary>
/// How Donjon turns the end of a keep into its verdict: the keep's process status decides over what the keep wrote
/// in its shared block, a disagreement is a warning, and a keep that does not end after its report is killed.
/// </summary>
public sealed class KeepVerdictTests
{
    private static readonly KeepFault Segv = new(11, 0x10, 0x5555_0000_1234, null, 1, "SIGSEGV (si_code 1)");

    private static ExecutorOutcome Reported(int? status = null, KeepFault? fault = null) => new(status, fault, 0, 0);

    private static KeepExit KilledBy(int signal) => new(null, null, $"the shim was killed by signal {signal}") { Signal = signal };

    [Fact]
    public void A_fault_confirmed_by_the_signal_that_killed_the_process_is_printed_as_reported_by_the_keep()
    {
        Verdict verdict = KeepVerdict.Decide("./app", Reported(fault: Segv), KilledBy(11), null, false);
        verdict.Status.Should().Be(139);
        verdict.Messages.Should().Equal(
            "donjon: ./app faulted in the keep: SIGSEGV (si_code 1) (signal 11, address 0x10, instruction 0x555500001234) (reported by the keep)");
        verdict.Warnings.Should().BeEmpty();
    }

    [Fact]
    public void A_forged_fault_loses_to_the_wait_status_with_a_warning()
    {
        Verdict exited = KeepVerdict.Decide("./app", Reported(fault: Segv), KeepExit.Exited(0), null, false);
        exited.Status.Should().Be(0);
        exited.Messages.Should().BeEmpty();
        exited.Warnings.Should().ContainSingle().Which.Should().Be(
            "The keep's report disagreed with how its process ended: it reported a fault (SIGSEGV (si_code 1), signal 11), but its process exited with status 0; Donjon trusts the process status");

        Verdict otherSignal = KeepVerdict.Decide("./app", Reported(fault: Segv), KilledBy(6), null, false);
        otherSignal.Status.Should().Be(134);
        otherSignal.Warnings.Should().ContainSingle().Which.Should().Contain("but its process was killed by signal 6");
    }

    [Fact]
    public void A_forged_exit_status_loses_to_the_wait_status_with_a_warning()
    {
        Verdict verdict = KeepVerdict.Decide("./app", Reported(status: 0), KeepExit.Exited(3), null, false);
        verdict.Status.Should().Be(3);
        verdict.Warnings.Should().ContainSingle().Which.Should().Contain("it reported an exit with status 0, but its process exited with status 3");

        Verdict agreed = KeepVerdict.Decide("./app", Reported(status: 3), KeepExit.Exited(3), null, false);
        agreed.Should().BeEquivalentTo(new Verdict(3, [], []));
    }

    [Fact]
    public void Sigsys_without_a_fault_item_is_the_seccomp_filter_and_exits_159()
    {
        Verdict verdict = KeepVerdict.Decide("./app", Reported(), KilledBy(31), null, false);
        verdict.Status.Should().Be(159);
        verdict.Messages.Should().Equal(
            "donjon: ./app: the keep was killed by its seccomp filter (SIGSYS): the program, or code it jumped into, made a system call the shim may not make");
    }

    [Fact]
    public void A_keep_that_does_not_end_after_its_report_is_said_to_be_killed_and_its_status_is_the_kill()
    {
        Verdict verdict = KeepVerdict.Decide("./app", Reported(status: 0), KilledBy(9), null, killedAfterReport: true);
        verdict.Status.Should().Be(137);
        verdict.Messages.Should().Equal("donjon: the keep of ./app reported an exit with status 0 but did not end within 2 s; Donjon stopped serving it and killed it");
        verdict.Warnings.Should().ContainSingle().Which.Should().Contain("but its process was killed by signal 9");
    }

    [Theory]
    [InlineData(120, "it was started with bad arguments or descriptors")]
    [InlineData(121, "it rejected the keep image")]
    [InlineData(122, "the shared block or a reply broke the protocol")]
    [InlineData(123, "it could not map the keep image")]
    [InlineData(124, "it could not install its seccomp filter")]
    public void A_shim_that_fails_before_the_workload_runs_is_reported_by_name(int status, string meaning)
    {
        // The backend decodes its shim's own statuses (the process backend's ShimExitStatus) into the exit's reason.
        var exit = new KeepExit(status, null, $"the keep's shim failed (status {status}): {meaning}; see its message above");
        Verdict verdict = KeepVerdict.Decide("./app", Reported(), exit, null, false);
        verdict.Status.Should().Be(126);
        verdict.Messages.Should().Equal($"donjon: the keep's shim failed (status {status}): {meaning}; see its message above");
    }

    [Fact]
    public void A_status_the_backend_does_not_explain_is_reported_as_such()
    {
        Verdict verdict = KeepVerdict.Decide("./app", Reported(), KeepExit.Exited(121), null, false);
        verdict.Status.Should().Be(126);
        verdict.Messages.Should().Equal("donjon: the keep of ./app ended with status 121 without the workload reporting an exit");
    }

    [Fact]
    public void An_interrupted_run_exits_128_plus_the_signal()
    {
        Verdict verdict = KeepVerdict.Decide("./app", null, KilledBy(9), 15, false);
        verdict.Status.Should().Be(143);
        verdict.Messages.Should().Equal("donjon: ./app: interrupted by signal 15; the keep was stopped");
    }

    [Fact]
    public void Without_a_status_from_the_backend_the_keeps_items_decide()
    {
        // A VM keep whose status did not fit QEMU's exit code: the guest shim's items are the word of the shim
        // (the workload, in ring 3, cannot reach the block there).
        var noStatus = new KeepExit(null, null, "the shim ended with a status of 126 or more");
        KeepVerdict.Decide("./app", Reported(fault: Segv), noStatus, null, false).Status.Should().Be(139);
        KeepVerdict.Decide("./app", Reported(status: 200), noStatus, null, false).Status.Should().Be(200);
        KeepVerdict.Decide("./app", Reported(), noStatus, null, false).Should().BeEquivalentTo(
            new Verdict(126, ["donjon: the keep of ./app ended abnormally: the shim ended with a status of 126 or more"], []));
    }

    [Fact]
    public async Task A_keep_that_ends_within_the_grace_period_is_not_killed()
    {
        var keep = new FakeKeep();
        Task<bool> ending = KeepGrace.EndAsync(keep, TimeSpan.FromSeconds(10));
        keep.End(KeepExit.Exited(0));
        (await ending).Should().BeTrue();
        keep.Kills.Should().Be(0);
    }

    [Fact]
    public async Task A_keep_that_outstays_the_grace_period_is_killed()
    {
        var keep = new FakeKeep();
        (await KeepGrace.EndAsync(keep, TimeSpan.FromMilliseconds(50))).Should().BeFalse();
        keep.Kills.Should().Be(1);
        (await keep.Exit).Signal.Should().Be(9);
    }

    [Fact]
    public void The_violation_log_reports_five_in_full_then_one_summary_per_second()
    {
        var logger = new ListLogger();
        var clock = new ManualClock();
        var log = new ProtocolViolationLog(logger, clock);
        for (int i = 0; i < 7; i++)
        {
            log.Report($"violation {i}");
        }

        logger.Lines.Should().HaveCount(5, "the 6th and 7th come within the same second as the 5th");
        clock.Advance(TimeSpan.FromMilliseconds(999));
        log.Report("violation 7");
        logger.Lines.Should().HaveCount(5);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        log.Report("violation 8");
        logger.Lines.Should().HaveCount(6);
        logger.Lines[^1].Message.Should().Be("4 more protocol violations in the last second (each answered -EFAULT)");

        log.Finish();
        logger.Lines.Should().HaveCount(7, "nothing was left unreported, so only the total follows");
        logger.Lines[^1].Should().Be((LogLevel.Warning, "The keep broke the protocol 9 times in all (5 shown in full); each was answered -EFAULT", (Exception?)null));
        log.Total.Should().Be(9);
    }

    [Fact]
    public void No_violation_logs_nothing()
    {
        var logger = new ListLogger();
        new ProtocolViolationLog(logger, new ManualClock()).Finish();
        logger.Lines.Should().BeEmpty();
    }
}
