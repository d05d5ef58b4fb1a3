using Donjon.Abstractions.Backends;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Measurement;
using Donjon.Backends.Sdk.Measurement;

namespace Donjon.Host.Measurement;

/// <summary>
/// Which measurement a backend gives, and the default when it does not implement <see cref="IMeasuringBackend"/>:
/// the host's keep-image digest for a backend that is not confidential, none for a confidential one.
/// </summary>
internal static class BackendMeasurement
{
    /// <summary>Whether <paramref name="backend"/> has a measurement: its own, or the host's keep-image digest.</summary>
    /// <param name="backend">The backend.</param>
    /// <returns><see langword="true"/> when <see cref="Measure"/> can be called.</returns>
    public static bool HasMeasurement(IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return backend is IMeasuringBackend || !backend.Traits.IsConfidential;
    }

    /// <summary>
    /// The backend <c>donjon measure</c> uses without <c>--backend</c>: the first in the admin's order that implements
    /// <see cref="IMeasuringBackend"/>, else the first that is not confidential. Measuring needs no hardware, so
    /// availability does not matter.
    /// </summary>
    /// <param name="ordered">The backends in the admin's order.</param>
    /// <returns>The backend, or <see langword="null"/> when none has a measurement.</returns>
    public static IBackend? SelectDefault(IEnumerable<IBackend> ordered)
    {
        ArgumentNullException.ThrowIfNull(ordered);
        List<IBackend> backends = ordered.ToList();
        return backends.FirstOrDefault(backend => backend is IMeasuringBackend) ?? backends.FirstOrDefault(HasMeasurement);
    }

    /// <summary>Computes the measurement <paramref name="backend"/> would have for <paramref name="image"/>.</summary>
    /// <param name="backend">The backend; <see cref="HasMeasurement"/> must be true.</param>
    /// <param name="image">The measurement image (<see cref="MeasurementImage"/>).</param>
    /// <returns>The measurement.</returns>
    /// <exception cref="NotSupportedException">The backend is confidential and does not compute launch measurements.</exception>
    public static LaunchMeasurement Measure(IBackend backend, KeepImage image)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return backend switch
        {
            IMeasuringBackend measuring => measuring.Measure(image),
            _ when !backend.Traits.IsConfidential => KeepImageDigest.Measure(image),
            _ => throw new NotSupportedException($"backend '{backend.Name}' does not compute launch measurements"),
        };
    }
}
