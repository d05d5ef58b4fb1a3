using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit;

namespace Donjon.Conformance;

/// <summary>
/// The protocol-violation checks (docs/protocol.md §3, docs/writing-a-backend.md "Protocol-violation checks"): a
/// hostile keep writes malformed requests into its slot and rings the doorbell, and the host, through the backend's
/// port, must answer as the protocol says: log the one violation by name, answer <c>-EFAULT</c> (or leave a bad
/// doorbell alone), go on serving the keep, end it with the status it reported, and leave no process behind.
/// </summary>
/// <remarks>
/// <see cref="Target"/> is a configuration whose backend runs a <em>hostile stand-in shim</em> instead of its own:
/// a build of the shim that, after its normal start-up, takes the scenario from the workload's <c>argv[1]</c>, sends
/// that scenario's malformed request, prints what the host answered through a well-formed <c>write(1, ...)</c>
/// (<c>"&lt;scenario&gt;: doorbell 2, result -14"</c>), then <c>"served after it"</c>, and exits 0. The process
/// keep's is <c>asm/process/hostile/hostile.c</c>; a backend that finds its shim beside its plugin gets such a target
/// from <see cref="ConfigurationWithShim"/>. A backend that cannot run a hostile shim does not derive from this suite.
/// </remarks>
public abstract partial class ProtocolViolationSuite
{
    /// <summary>The <c>donjon</c>, a configuration whose backend runs the hostile stand-in shim, and the backend's name.</summary>
    protected abstract ConformanceTarget Target { get; }

    /// <summary>A buffer that ends beyond its item is a violation: logged, answered -EFAULT, and the keep goes on.</summary>
    [Fact]
    public void A_buffer_outside_its_item_is_answered_efault() => AssertViolation(
        "buffer-outside-item", "buffer-outside-item: doorbell 2, result -14\n",
        "syscall 1 (write) argument 1 buffer {152, 4096} does not lie in [152, 160)");

    /// <summary>A value argument that carries a buffer is a violation.</summary>
    [Fact]
    public void A_value_argument_with_a_buffer_is_answered_efault() => AssertViolation(
        "value-with-buffer", "value-with-buffer: doorbell 2, result -14\n",
        "syscall 1 (write) argument 0 is a value but has buffer {152, 8}");

    /// <summary>An input buffer whose length argument differs from its size is a violation.</summary>
    [Fact]
    public void A_length_argument_that_differs_from_its_buffer_is_answered_efault() => AssertViolation(
        "length-mismatch", "length-mismatch: doorbell 2, result -14\n",
        "syscall 1 (write) argument 1");

    /// <summary>A request size beyond the slot's items capacity is a violation; the host reads nothing past the slot.</summary>
    [Fact]
    public void A_request_larger_than_the_capacity_is_a_violation() => AssertViolation(
        "request-over-capacity", "request-over-capacity: doorbell 2\n",
        "the request size 4294967280 exceeds the items capacity ");

    /// <summary>An item whose size is not a multiple of 8 is a violation.</summary>
    [Fact]
    public void A_misaligned_item_size_is_a_violation() => AssertViolation(
        "item-size-misaligned", "item-size-misaligned: doorbell 2\n",
        "the item at request offset 0 has size 12, not a multiple of 8 of at least 8");

    /// <summary>A request with only an item of an unknown kind is a violation (the unknown item itself is skipped).</summary>
    [Fact]
    public void A_request_of_only_an_unknown_kind_is_a_violation() => AssertViolation(
        "unknown-kind", "unknown-kind: doorbell 2\n",
        "the request holds no item of a known kind");

    /// <summary>A TRACE item from a keep that did not ask for tracing is a violation; the keep goes on.</summary>
    [Fact]
    public void A_trace_item_nobody_asked_for_is_a_violation() => AssertViolation(
        "unasked-trace", "unasked-trace: doorbell 2\n",
        "a trace item (syscall 39) from a keep whose configuration page did not ask for tracing");

    /// <summary>A TRACE item of a size other than 72 is a violation.</summary>
    [Fact]
    public void A_trace_item_of_the_wrong_size_is_a_violation() => AssertViolation(
        "trace-wrong-size", "trace-wrong-size: doorbell 2\n",
        "the trace item has size 64, not 72");

    /// <summary>A LOG item of a level above 4 is a violation, and its text is not printed.</summary>
    [Fact]
    public void A_log_level_above_4_is_a_violation()
    {
        RunResult run = AssertViolation("log-level-above-4", "log-level-above-4: doorbell 2\n", "the log item has level 5, not 0-4");
        Assert.DoesNotContain("hostile!", run.Stderr, StringComparison.Ordinal);
    }

    /// <summary>A SLOT_OPEN for a slot out of range is refused with -EAGAIN (not a violation), and the keep goes on.</summary>
    [Fact]
    public void A_slot_open_out_of_range_is_refused_with_eagain()
    {
        RunResult run = RunScenario("slot-out-of-range");
        AssertEnded(run, 0, "slot-out-of-range: doorbell 2, result -11\nserved after it\n");
        Assert.Empty(ViolationLines(run));
    }

    /// <summary>A doorbell value other than 0, 1 and 2 is left alone: never answered, never a crash; later requests are served.</summary>
    [Fact]
    public void A_bad_doorbell_value_is_not_answered()
    {
        RunResult run = RunScenario("bad-doorbell");
        AssertEnded(run, 0, "bad-doorbell: doorbell after 300 ms 7\nserved after it\n");
        Assert.Empty(ViolationLines(run));
    }

    /// <summary>After its EXIT item the keep is served no more: a later request is never answered, the keep is
    /// killed after the grace period and Donjon says so; the status is the shim's own (killed: 137).</summary>
    [Fact]
    public void A_request_after_exit_is_never_answered()
    {
        RunResult run = RunScenario("request-after-exit");
        Assert.True(run.ExitCode == 137, $"request-after-exit: Donjon exited {run.ExitCode}, not 137 (the keep killed by SIGKILL); stderr: {run.Stderr}");
        Assert.Equal("", run.StdoutText);
        Assert.Empty(ViolationLines(run));
    }

    /// <summary>
    /// Writes a copy of <paramref name="configuration"/> in which the plugin <paramref name="pluginAssembly"/> is loaded
    /// from a copy of its folder whose <paramref name="shimFileName"/> is <paramref name="hostileShim"/>: the target of
    /// this suite for a backend that finds its shim beside its plugin.
    /// </summary>
    /// <param name="configuration">The <c>plugins.json</c> that lists the backend's plugin (paths relative to it, or absolute).</param>
    /// <param name="pluginAssembly">The backend plugin's DLL as the configuration names it, or its full path.</param>
    /// <param name="shimFileName">The name of the backend's shim in the plugin's folder (the process keep's: <c>donjon-shim</c>).</param>
    /// <param name="hostileShim">The hostile stand-in shim to put in its place.</param>
    /// <param name="directory">An empty folder of the caller's, which it removes after the tests.</param>
    /// <returns>The path of the new configuration.</returns>
    /// <exception cref="InvalidOperationException">The configuration does not list the plugin, or a file is missing.</exception>
    public static string ConfigurationWithShim(string configuration, string pluginAssembly, string shimFileName, string hostileShim, string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(configuration);
        ArgumentException.ThrowIfNullOrEmpty(pluginAssembly);
        ArgumentException.ThrowIfNullOrEmpty(shimFileName);
        ArgumentException.ThrowIfNullOrEmpty(hostileShim);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!File.Exists(hostileShim))
        {
            throw new InvalidOperationException($"the hostile shim {hostileShim} is missing: build it first (for the process keep, dotnet build Donjon.sln)");
        }

        string baseDirectory = Path.GetDirectoryName(Path.GetFullPath(configuration))!;
        JsonObject document = JsonNode.Parse(File.ReadAllText(configuration))?.AsObject()
            ?? throw new InvalidOperationException($"{configuration} is not a JSON object");
        document.Remove("$schema");
        string wanted = Path.GetFullPath(pluginAssembly, baseDirectory);
        bool found = false;
        foreach (JsonNode? plugin in document["plugins"]?.AsArray() ?? [])
        {
            string path = Path.GetFullPath(plugin!["path"]!.GetValue<string>(), baseDirectory);
            if (path == wanted)
            {
                string copy = Path.Combine(directory, "plugin");
                CopyFolder(Path.GetDirectoryName(path)!, copy);
                File.Copy(hostileShim, Path.Combine(copy, shimFileName), overwrite: true);
                path = Path.Combine(copy, Path.GetFileName(path));
                found = true;
            }

            plugin["path"] = path;
        }

        if (!found)
        {
            throw new InvalidOperationException($"{configuration} does not list the plugin {wanted}");
        }

        if (document["exec"] is JsonObject exec)
        {
            foreach (var (name, value) in exec.ToList())
            {
                exec[name] = Path.GetFullPath(value!.GetValue<string>(), baseDirectory);
            }
        }

        string written = Path.Combine(directory, "plugins.json");
        File.WriteAllText(written, document.ToJsonString());
        return written;
    }

    /// <summary>Runs the hostile keep with <paramref name="scenario"/>; asserts that no process it started is left.</summary>
    /// <param name="scenario">The scenario, the workload's <c>argv[1]</c>.</param>
    /// <returns>How Donjon ended.</returns>
    protected RunResult RunScenario(string scenario)
    {
        string program = ConformanceWorkloads.Build("hello");
        using Process donjon = DonjonRun.Start(Target, ["run", "--backend", Target.Backend, program, scenario]);
        donjon.StandardInput.Close();
        var stdout = new MemoryStream();
        Task copy = donjon.StandardOutput.BaseStream.CopyToAsync(stdout);
        Task<string> stderr = donjon.StandardError.ReadToEndAsync();
        var seen = new HashSet<int>();
        var clock = Stopwatch.StartNew();
        while (!donjon.HasExited)
        {
            if (clock.Elapsed > DonjonRun.Timeout)
            {
                donjon.Kill(entireProcessTree: true);
                Assert.Fail($"{scenario}: Donjon did not end within {DonjonRun.Timeout.TotalSeconds} s");
            }

            seen.UnionWith(ProcessTree.DescendantsOf(donjon.Id));
            Thread.Sleep(5);
        }

        donjon.WaitForExit();
        Task.WaitAll(copy, stderr);
        ProcessTree.AssertAllGone(seen, $"after the {scenario} scenario");
        return new RunResult(donjon.ExitCode, stdout.ToArray(), stderr.Result);
    }

    /// <summary>
    /// Runs <paramref name="scenario"/> and asserts the host's reaction to one violation: Donjon exits 0 (the keep's
    /// own status), stdout is the scenario's report then <c>"served after it"</c>, and stderr has exactly one
    /// violation line, which contains <paramref name="reason"/>, and the end-of-keep total of 1.
    /// </summary>
    /// <param name="scenario">The scenario.</param>
    /// <param name="report">The scenario's report line, with its newline.</param>
    /// <param name="reason">What the violation line must say (the host's reason, or its start).</param>
    /// <returns>The run.</returns>
    protected RunResult AssertViolation(string scenario, string report, string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        RunResult run = RunScenario(scenario);
        AssertEnded(run, 0, report + "served after it\n");
        IReadOnlyList<string> lines = ViolationLines(run);
        Assert.True(lines.Count == 1, $"{scenario}: {lines.Count} violation lines, not 1; stderr: {run.Stderr}");
        Assert.True(lines[0].Contains("Protocol violation by the keep: " + reason, StringComparison.Ordinal), $"{scenario}: the violation line does not say '{reason}': {lines[0]}");
        Assert.True(lines[0].EndsWith("; answering -EFAULT", StringComparison.Ordinal), $"{scenario}: {lines[0]}");
        Assert.Contains("The keep broke the protocol 1 times in all (1 shown in full); each was answered -EFAULT", run.Stderr, StringComparison.Ordinal);
        return run;
    }

    /// <summary>Asserts Donjon's exit status and the workload's stdout, byte for byte.</summary>
    /// <param name="run">The run.</param>
    /// <param name="status">The status Donjon must return.</param>
    /// <param name="stdout">Its stdout.</param>
    protected static void AssertEnded(RunResult run, int status, string stdout)
    {
        ArgumentNullException.ThrowIfNull(run);
        Assert.True(run.ExitCode == status, $"Donjon exited {run.ExitCode}, not {status}; stderr: {run.Stderr}");
        Assert.Equal(stdout, run.StdoutText);
    }

    /// <summary>The lines of <paramref name="run"/>'s stderr that report one protocol violation in full.</summary>
    /// <param name="run">The run.</param>
    /// <returns>The lines.</returns>
    protected static IReadOnlyList<string> ViolationLines(RunResult run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.Stderr.Split('\n').Where(l => ViolationLine().IsMatch(l)).ToArray();
    }

    [GeneratedRegex("Protocol violation by the keep: ")]
    private static partial Regex ViolationLine();

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
        {
            string target = Path.Combine(to, Path.GetFileName(file));
            File.Copy(file, target, overwrite: true);
        }

        foreach (string folder in Directory.GetDirectories(from))
        {
            CopyFolder(folder, Path.Combine(to, Path.GetFileName(folder)));
        }
    }
}
