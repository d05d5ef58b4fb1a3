using System.Text;
using Donjon.Abstractions.Plugins;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Microsoft.Extensions.Logging;

namespace Donjon.Syscalls.Greeting;

/// <summary>
/// The <c>Greeting</c> syscall set: one syscall, number <see cref="GreetNumber"/>,
/// <c>long greet(char *buffer, size_t capacity)</c>, which fills <c>buffer</c> with a greeting (cut to
/// <c>capacity</c>) and returns its length, or <c>-EINVAL</c> for a capacity of 0.
/// </summary>
/// <remarks>
/// The declaration is data: argument 0 is an output buffer whose capacity is argument 1, a value. The shims copy the
/// output back into the workload's buffer, checking its length, so the set never sees a keep address. Calls of
/// different keep threads may arrive at once: the set keeps no mutable state.
/// </remarks>
public sealed class GreetingSyscalls : ISyscallHandlerSet
{
    /// <summary>The syscall's number: one Linux leaves free, so no other set declares it.</summary>
    public const int GreetNumber = 1000;

    private const int Einval = 22;

    private static readonly byte[] Text = Encoding.UTF8.GetBytes("hello from the Greeting set\n");

    private readonly ILogger? _logger;

    /// <summary>Creates the set without logging.</summary>
    public GreetingSyscalls()
    {
    }

    /// <summary>Creates the set as the host loads it.</summary>
    /// <param name="context">The plugin's folder and logging.</param>
    public GreetingSyscalls(IPluginContext context) => _logger = context?.LoggerFactory.CreateLogger<GreetingSyscalls>();

    /// <inheritdoc />
    public string Name => "Greeting";

    /// <inheritdoc />
    public IReadOnlyList<SyscallSignature> Syscalls { get; } =
    [
        new(GreetNumber, "greet", [SyscallArgument.Output(1), SyscallArgument.Value]),
    ];

    /// <inheritdoc />
    public ValueTask<SyscallResult> HandleAsync(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Number != GreetNumber)
        {
            return ValueTask.FromResult(SyscallResult.Error(38)); // ENOSYS: not one of this set's
        }

        int capacity = request.OutputCapacity(0);
        if (capacity == 0)
        {
            return ValueTask.FromResult(SyscallResult.Error(Einval));
        }

        int length = Math.Min(capacity, Text.Length);
        _logger?.LogDebug("greet: {Length} bytes", length);
        return ValueTask.FromResult(SyscallResult.Success(length, 0, Text.AsMemory(0, length)));
    }
}
