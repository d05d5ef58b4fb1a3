using Donjon.Abstractions.Syscalls;
using Xunit;

namespace Donjon.Conformance;

/// <summary>
/// The handler-set suite: derive a class from it in a test project, return a new instance of the set from
/// <see cref="CreateSet"/>, and xunit runs these checks (<see cref="SyscallSetHarness"/>) against it.
/// </summary>
public abstract class SyscallSetConformanceSuite
{
    /// <summary>A new instance of the set under test, as the host would construct it.</summary>
    /// <returns>The set.</returns>
    protected abstract ISyscallHandlerSet CreateSet();

    /// <summary>The declared signatures follow the protocol's rules (docs/protocol.md §2).</summary>
    [Fact]
    public void Declared_signatures_are_valid()
    {
        IReadOnlyList<string> problems = SyscallSetHarness.SignatureProblems(CreateSet());
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    /// <summary>Every syscall answers a zeroed call, and one with every value 1, with a value or an errno, never an
    /// exception, and every output fits its capacity.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public async Task Errors_are_errnos_and_outputs_fit_their_capacities()
    {
        IReadOnlyList<string> problems = await SyscallSetHarness.CallProblemsAsync(CreateSet());
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }
}
