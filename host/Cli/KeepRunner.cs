using System.Globalization;
using Donjon.Abstractions.Backends;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Keeps;
using Donjon.Abstractions.Sessions;
using Donjon.Host.Elf;
using Donjon.Host.Execution;
using Donjon.Host.Images;
using Donjon.Host.Plugins;
using Donjon.Host.Protocol;
using Donjon.Host.Sessions;
using Microsoft.Extensions.Logging;

namespace Donjon.Host.Cli;

/// <summary>
/// Carries out <c>run</c> once the workload and the backend are chosen: builds the keep image, launches the keep,
/// serves its syscalls, and turns how it ended into Donjon's exit status.
/// </summary>
internal static class KeepRunner
{
    /// <summary>The page with the trace flag set under <c>--strace</c>, so the shims report the calls they serve themselves.</summary>
    private static ReadOnlyMemory<byte> TracedPage(RunRequest request, ReadOnlyMemory<byte> page) =>
        request.Strace is null ? page : ConfigurationPageBuilder.WithTrace(page);

    public static async Task<int> RunAsync(RunRequest request, WorkloadFile workload, IBackend backend, PluginCatalog catalog, CliEnvironment environment, TextWriter stderr, CancellationToken cancellationToken)
    {
        KeepPolicy policy = environment.Configuration!.Policy;
        MarshallingTable table;
        try
        {
            // The catalog checked every declaration at load; this snapshot is checked again, since a plugin's list
            // may have changed since.
            table = ConfigurationPageBuilder.BuildTable(catalog.SyscallSets.ToList(), policy.Limits.Threads, policy.Limits.Cpus, request.ModuleSha256);
        }
        catch (ArgumentException e)
        {
            await stderr.WriteLineAsync($"donjon: the loaded syscall sets cannot make a configuration page: {e.Message}. Fix or remove the plugin that declares it.").ConfigureAwait(false);
            return ExitCodes.DonjonError;
        }

        List<string> keepEnvironment = WorkloadEnvironment(policy.Environment, request.Environment);
        InterpreterFile? interpreter = null;
        if (workload.Report.IsDynamic)
        {
            interpreter = DynamicProgramLoader.Prepare(workload.Report, request.ElfPath, policy.Files, keepEnvironment, out string? problem);
            if (interpreter is null)
            {
                await stderr.WriteLineAsync($"donjon: {request.ElfPath}: cannot be run: {problem}").ConfigureAwait(false);
                return ExitCodes.CannotRun;
            }
        }

        KeepImage image;
        try
        {
            image = KeepImageBuilder.Build(new KeepImageRequest(
                workload.Report,
                workload.Contents,
                request.ElfPath,
                [request.Argv0 ?? request.ElfPath, .. request.Arguments],
                keepEnvironment,
                GetUserId(),
                GetGroupId(),
                policy.Limits,
                request.Seed,
                TracedPage(request, request.ManifestSha256 is { } manifestSha256 ? ConfigurationPageBuilder.WithTrustedManifest(table.ConfigurationPage, manifestSha256) : table.ConfigurationPage))
            {
                Interpreter = interpreter,
            });
        }
        catch (KeepImageException e)
        {
            await stderr.WriteLineAsync($"donjon: {request.ElfPath}: cannot be run: {e.Message}").ConfigureAwait(false);
            return ExitCodes.CannotRun;
        }

        HostLog.Workload(environment.Logger, image.Workload.Path, image.Workload.Sha256);
        StartupClock.Mark("image");
        IKeep keep;
        try
        {
            keep = await backend.LaunchAsync(image, cancellationToken).ConfigureAwait(false);
            StartupClock.Mark("keep launch");
        }
        catch (BackendUnavailableException e)
        {
            await stderr.WriteLineAsync($"donjon: backend '{backend.Name}' cannot launch a keep: {e.Message}").ConfigureAwait(false);
            return ExitCodes.DonjonError;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            await stderr.WriteLineAsync($"donjon: the keep for {request.ElfPath} could not start on backend '{backend.Name}': {e.Message}").ConfigureAwait(false);
            return ExitCodes.CannotRun;
        }

        await using (keep.ConfigureAwait(false))
        {
            ILogger keepLogger = environment.LoggerFactory.CreateLogger("donjon.keep");
            using var session = new KeepSession(image.Workload, policy, new KeepStdio(0, 1, 2), keepLogger);
            using CancellationTokenRegistration onCancel = cancellationToken.Register(keep.Kill);

            // Signals Donjon receives go to the workload first (SignalRouting), when the keep can take them now.
            // A keep of several slots (one per thread) has each served on its own thread (IThreadedKeep).
            int slotCount = keep is IThreadedKeep threaded ? threaded.SlotCount : 1;
            ISyscallPort SlotPort(int slot) => slot == 0 ? keep.Port : ((IThreadedKeep)keep).GetSlotPort(slot);
            KeepSignals? signals = keep is IInterruptibleKeep interruptible ? new KeepSignals(slotCount, slot => SlotPort(slot).SharedBlock, interruptible) : null;
            if (signals is not null)
            {
                // A handler set's timers (alarm, setitimer) send their signal the way Donjon forwards one.
                session.ConnectSignals(signal =>
                {
                    if (keep.Exit.IsCompleted)
                    {
                        return false;
                    }

                    signals.Forward(signal);
                    return true;
                });
            }
            int stopSignals = 0;
            int stoppedAfterGrace = 0;
            bool Forward(int signal)
            {
                if (signals is null || keep.Exit.IsCompleted)
                {
                    return false;
                }

                if (signal is 2 or 15)
                {
                    if (Interlocked.Increment(ref stopSignals) > 1)
                    {
                        return false;           // a second one: Donjon stops the keep (Program)
                    }

                    _ = StopAfterGraceAsync(signal);
                }

                signals.Forward(signal);
                return true;
            }

            async Task StopAfterGraceAsync(int signal)
            {
                if (await Task.WhenAny(keep.Exit, Task.Delay(SignalRouting.StopGracePeriod, CancellationToken.None)).ConfigureAwait(false) != keep.Exit)
                {
                    Volatile.Write(ref stoppedAfterGrace, signal);
                    await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"donjon: {request.ElfPath} did not end within {SignalRouting.StopGracePeriod.TotalSeconds:0} s of signal {signal}, which Donjon forwarded to it; the keep was stopped")).ConfigureAwait(false);
                    keep.Kill();
                }
            }

            using IDisposable routing = SignalRouting.Route(Forward);

            // The executor stops when Donjon is interrupted, or shortly after the keep has ended while a handler
            // still blocks (a sleep, a read) on its behalf; the normal path ends it by the port reporting the end.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _ = keep.Exit.ContinueWith(
                _ =>
                {
                    try
                    {
                        stop.CancelAfter(TimeSpan.FromSeconds(1));
                    }
                    catch (ObjectDisposedException)
                    {
                        // The run is already over.
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);

            // The executor serves each slot on a thread of its own: it blocks there while it waits for the doorbell.
            ExecutorOutcome? outcome;
            var unserved = new UnservedSyscalls();
            SyscallTrace? trace = request.Strace is { } mode ? new SyscallTrace(stderr, mode) : null;
            try
            {
                outcome = await SyscallExecutor.RunAsync(slotCount, SlotPort, table.Dispatch, session, keepLogger, stop.Token, unserved: unserved, interrupter: signals is null ? null : signals.CallsFor, trace: trace).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                keep.Kill();
                outcome = null;
            }

            // After its EXIT or FAULT item the keep is served no more: it ends on its own within the grace period, or
            // it is killed (a workload that forged the item, or a shim that hangs).
            bool killedAfterReport = outcome is { EndReported: true } && !await KeepGrace.EndAsync(keep, KeepGrace.Period).ConfigureAwait(false);
            KeepExit exit = await keep.Exit.ConfigureAwait(false);
            StartupClock.Mark("workload until exit");
            StartupClock.Report(environment.Logger);
            int? interruptedBy = cancellationToken.IsCancellationRequested ? (Interruption.Signal == 0 ? 2 : Interruption.Signal) : null;
            ulong loadBase = image.Layout.LoadBase;
            ulong imageEnd = 0;
            foreach (ElfProgramHeader ph in workload.Report.ProgramHeaders)
            {
                if (ph.Type == "PT_LOAD")
                {
                    imageEnd = Math.Max(imageEnd, ph.VirtualAddress + ph.MemorySize);
                }
            }

            string Locate(ulong instruction) => KeepVerdict.Locate(request.ElfPath, loadBase, imageEnd, ElfSymbols.Read(workload.Contents), instruction);
            Verdict verdict = KeepVerdict.Decide(request.ElfPath, outcome, exit, interruptedBy, killedAfterReport, Locate);
            foreach (string warning in verdict.Warnings)
            {
                HostLog.KeepReportDisagreed(environment.Logger, warning);
            }

            if (Volatile.Read(ref stoppedAfterGrace) is int forwarded and > 0)
            {
                return ExitCodes.SignalBase + forwarded;     // said above; as if the signal had ended it
            }

            foreach (string message in verdict.Messages)
            {
                await stderr.WriteLineAsync(message).ConfigureAwait(false);
            }

            trace?.WriteSummary();
            if (unserved.Summary() is { } summary)
            {
                HostLog.UnservedSummary(environment.Logger, summary);
            }

            return verdict.Status;
        }
    }

    /// <summary>The workload's environment: the policy's fixed values, the pass-through variables Donjon has, then <c>--env</c>.</summary>
    internal static List<string> WorkloadEnvironment(EnvironmentPolicy policy, IReadOnlyList<string> assignments)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var order = new List<string>();
        void Set(string name, string value)
        {
            if (!values.ContainsKey(name))
            {
                order.Add(name);
            }

            values[name] = value;
        }

        foreach ((string name, string value) in policy.Set)
        {
            Set(name, value);
        }

        foreach (string name in policy.PassThrough)
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
            {
                Set(name, value);
            }
        }

        foreach (string assignment in assignments)
        {
            int equals = assignment.IndexOf('=', StringComparison.Ordinal);
            Set(assignment[..equals], assignment[(equals + 1)..]);
        }

        return order.Select(name => $"{name}={values[name]}").ToList();
    }

    private static uint GetUserId() => Interop.Ids.GetUserId();

    private static uint GetGroupId() => Interop.Ids.GetGroupId();
}
