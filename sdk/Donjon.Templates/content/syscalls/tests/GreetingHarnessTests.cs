using Donjon.Abstractions.Syscalls;
using Donjon.Conformance;
using Xunit;

namespace Donjon.Syscalls.Greeting.Tests;

/// <summary>The handler-set harness against the set, and what its syscall answers.</summary>
public sealed class GreetingHarnessTests : SyscallSetConformanceSuite
{
    /// <inheritdoc />
    protected override ISyscallHandlerSet CreateSet() => new GreetingSyscalls();

    /// <summary>greet fills the buffer and returns the greeting's length.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public async Task Greet_returns_the_greeting()
    {
        var set = new GreetingSyscalls();
        SyscallRequest request = SyscallSetHarness.RequestFor(set.Syscalls[0], 64);
        using var session = new HarnessSession();
        SyscallResult result = await set.HandleAsync(request, session, CancellationToken.None);
        Assert.Equal("hello from the Greeting set\n", System.Text.Encoding.UTF8.GetString(result.Outputs[0].Data.Span));
        Assert.Equal(result.Outputs[0].Data.Length, result.Value);
    }
}
